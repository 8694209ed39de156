"""Track-to-track fusion: a partner's warning fused with the node's own estimate of the same event.

Two estimates of one launch — the node's own (from its fusion) and a partner's (from the partner's
fusion, released coarsened) — share an unknown part of their errors: with observations exchanged both
ways each was fitted partly from the other's detections, and a partner's warning may already contain this
node's earlier releases. A Kalman-style fusion that assumes independence is then *optimistic* (its
covariance is smaller than the true error covariance). **Covariance intersection** (Julier & Uhlmann 1997)
is consistent for *any* cross-correlation::

    P⁻¹ = ω Pa⁻¹ + (1 − ω) Pb⁻¹,    x = P (ω Pa⁻¹ xa + (1 − ω) Pb⁻¹ xb),    ω ∈ [0, 1]

(if ``Pa ≥ E[ea eaᵀ]`` and ``Pb ≥ E[eb ebᵀ]`` then ``P ≥ E[e eᵀ]``, whatever ``E[ea ebᵀ]``). ``ω`` minimises
``det P`` — invariant to the units of the state (``det(DPD) = det(D)² det P``), so km and seconds mix
freely. :func:`ci_omega` finds it by bounded scalar minimisation of ``log det P``; for 2×2 inputs
:func:`ci_omega_2d` solves it in closed form (``det(ω A + (1 − ω) B)`` is a quadratic in ω);
:func:`fast_ci_omega` is the closed-form approximation of Franken & Hüpper (2005, "Improved fast covariance
intersection for distributed data fusion").

Warnings carry their uncertainty as ellipses ``(bearing, a_km, b_km)`` at ``containment`` (2-D χ²) and 1σ
launch-time / azimuth sigmas; :func:`fuse_warnings` turns those into covariances on the local tangent plane
of the node's estimate, fuses the launch state ``[east km, north km, launch time s]`` (one ω), the impact
point and the azimuth, and returns a warning whose ``sources.partners`` name every contributing partner.
Association of a partner's event with an own event uses the scoring gate (:mod:`vigil.scoring.assign`) in
:class:`TrackFuser`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar

from vigil.warning.records import Sources, Warning

EARTH_RADIUS_KM = 6378.137  # the scoring's sphere (vigil.frames.great_circle_distance_m: WGS84 equatorial)
MIN_SIGMA_KM = 1e-3  # a stated ellipse axis of 0 is read as 1 m (a covariance must be invertible)
MIN_SIGMA_S = 1e-3
MIN_SIGMA_DEG = 1e-3


# --- covariance intersection --------------------------------------------------------------------
def _logdet_fused(omega: float, ia: np.ndarray, ib: np.ndarray) -> float:
    sign, logdet = np.linalg.slogdet(omega * ia + (1.0 - omega) * ib)
    return -logdet if sign > 0 else math.inf


def ci_omega(pa: np.ndarray, pb: np.ndarray) -> float:
    """The ω in [0, 1] minimising ``det P`` of the CI of covariances ``pa`` and ``pb`` (any dimension)."""
    ia, ib = np.linalg.inv(pa), np.linalg.inv(pb)
    best = minimize_scalar(
        _logdet_fused, bounds=(0.0, 1.0), args=(ia, ib), method="bounded", options={"xatol": 1e-10}
    )
    candidates = [
        (float(best.fun), float(best.x)),
        (_logdet_fused(0.0, ia, ib), 0.0),
        (_logdet_fused(1.0, ia, ib), 1.0),
    ]
    return min(candidates)[1]


def ci_omega_2d(pa: np.ndarray, pb: np.ndarray) -> float:
    """Closed-form :func:`ci_omega` for 2×2 covariances: ``det(ω A + (1 − ω) B) = c2 ω² + c1 ω + c0`` with
    ``A = pa⁻¹``, ``B = pb⁻¹``; the maximum over [0, 1] (vertex if inside and concave, else an end)."""
    a, b = np.linalg.inv(pa), np.linalg.inv(pb)
    d = a - b
    c2 = float(np.linalg.det(d))
    c1 = float(d[0, 0] * b[1, 1] + b[0, 0] * d[1, 1] - d[0, 1] * b[1, 0] - b[0, 1] * d[1, 0])
    c0 = float(np.linalg.det(b))

    def value(w: float) -> float:
        return c2 * w * w + c1 * w + c0

    candidates = [0.0, 1.0]
    if c2 < 0.0:
        candidates.append(min(1.0, max(0.0, -c1 / (2.0 * c2))))
    return max(candidates, key=value)


def fast_ci_omega(pa: np.ndarray, pb: np.ndarray) -> float:
    """Franken & Hüpper's improved fast CI weight (no search), clipped to [0, 1]::

    ω = (det(Pa⁻¹ + Pb⁻¹) − det(Pb⁻¹) + det(Pa⁻¹)) / (2 det(Pa⁻¹ + Pb⁻¹))"""
    ia, ib = np.linalg.inv(pa), np.linalg.inv(pb)
    both = float(np.linalg.det(ia + ib))
    return min(1.0, max(0.0, (both - float(np.linalg.det(ib)) + float(np.linalg.det(ia))) / (2.0 * both)))


def covariance_intersection(
    xa, pa, xb, pb, omega: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(x, P, ω)``: the CI of ``(xa, pa)`` and ``(xb, pb)``; ``omega`` None → :func:`ci_omega`."""
    xa, xb = np.asarray(xa, dtype=float), np.asarray(xb, dtype=float)
    pa, pb = np.asarray(pa, dtype=float), np.asarray(pb, dtype=float)
    w = ci_omega(pa, pb) if omega is None else float(omega)
    ia, ib = np.linalg.inv(pa), np.linalg.inv(pb)
    p = np.linalg.inv(w * ia + (1.0 - w) * ib)
    p = 0.5 * (p + p.T)
    return p @ (w * ia @ xa + (1.0 - w) * ib @ xb), p, w


# --- warnings <-> covariances ---------------------------------------------------------------------
def chi2_2dof_scale(containment: float) -> float:
    """Semi-axis / σ of the 2-D Gaussian ellipse holding ``containment`` of the probability."""
    return math.sqrt(-2.0 * math.log(1.0 - containment))


def ellipse_cov_km2(ellipse: Sequence[float], containment: float) -> np.ndarray:
    """East/north covariance (km²) of a ``(bearing_deg, a_km, b_km)`` ellipse at ``containment``."""
    bearing, a_km, b_km = (float(v) for v in ellipse)
    k = chi2_2dof_scale(containment)
    sa, sb = max(a_km / k, MIN_SIGMA_KM), max(b_km / k, MIN_SIGMA_KM)
    major = np.array([math.sin(math.radians(bearing)), math.cos(math.radians(bearing))])  # (east, north)
    minor = np.array([major[1], -major[0]])
    return sa * sa * np.outer(major, major) + sb * sb * np.outer(minor, minor)


def cov_ellipse(cov_km2: np.ndarray, containment: float) -> tuple[float, float, float]:
    """Inverse of :func:`ellipse_cov_km2`: ``(bearing_deg in [0, 180), a_km, b_km)``."""
    vals, vecs = np.linalg.eigh(np.asarray(cov_km2, dtype=float))
    k = chi2_2dof_scale(containment)
    east, north = float(vecs[0, 1]), float(vecs[1, 1])
    return (
        math.degrees(math.atan2(east, north)) % 180.0,
        k * math.sqrt(max(float(vals[1]), 0.0)),
        k * math.sqrt(max(float(vals[0]), 0.0)),
    )


def tangent_km(lat0_deg: float, lon0_deg: float, lat_deg: float, lon_deg: float) -> np.ndarray:
    """(east, north) km of a point on the local tangent plane at ``(lat0, lon0)`` (azimuthal equidistant)."""
    p0, l0, p1, l1 = map(math.radians, (lat0_deg, lon0_deg, lat_deg, lon_deg))
    c = math.acos(
        max(-1.0, min(1.0, math.sin(p0) * math.sin(p1) + math.cos(p0) * math.cos(p1) * math.cos(l1 - l0)))
    )
    if c < 1e-15:
        return np.zeros(2)
    az = math.atan2(
        math.sin(l1 - l0) * math.cos(p1),
        math.cos(p0) * math.sin(p1) - math.sin(p0) * math.cos(p1) * math.cos(l1 - l0),
    )
    return EARTH_RADIUS_KM * c * np.array([math.sin(az), math.cos(az)])


def from_tangent_km(
    lat0_deg: float, lon0_deg: float, en_km: Sequence[float] | np.ndarray
) -> tuple[float, float]:
    """Inverse of :func:`tangent_km`: the (lat, lon) degrees of an east/north offset."""
    e, n = float(en_km[0]), float(en_km[1])
    c = math.hypot(e, n) / EARTH_RADIUS_KM
    if c < 1e-15:
        return lat0_deg, lon0_deg
    az, p0, l0 = math.atan2(e, n), math.radians(lat0_deg), math.radians(lon0_deg)
    p1 = math.asin(math.sin(p0) * math.cos(c) + math.cos(p0) * math.sin(c) * math.cos(az))
    l1 = l0 + math.atan2(math.sin(az) * math.sin(c) * math.cos(p0), math.cos(c) - math.sin(p0) * math.sin(p1))
    return math.degrees(p1), (math.degrees(l1) + 180.0) % 360.0 - 180.0


def _launch_state(w: Warning, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray] | None:
    if w.launch_ellipse is None:
        return None
    x = np.concatenate([tangent_km(lat0, lon0, w.launch_lat_deg, w.launch_lon_deg), [w.launch_time_s]])
    p = np.zeros((3, 3))
    p[:2, :2] = ellipse_cov_km2(w.launch_ellipse, w.containment)
    p[2, 2] = max(w.launch_time_sigma_s, MIN_SIGMA_S) ** 2
    return x, p


def _fuse_launch(own: Warning, other: Warning) -> dict:
    lat0, lon0 = own.launch_lat_deg, own.launch_lon_deg
    a, b = _launch_state(own, lat0, lon0), _launch_state(other, lat0, lon0)
    if a is None or b is None:
        return {}
    x, p, _ = covariance_intersection(a[0], a[1], b[0], b[1])
    lat, lon = from_tangent_km(lat0, lon0, x[:2])
    return {
        "launch_lat_deg": lat,
        "launch_lon_deg": lon,
        "launch_time_s": float(x[2]),
        "launch_time_sigma_s": math.sqrt(p[2, 2]),
        "launch_ellipse": cov_ellipse(p[:2, :2], own.containment),
    }


def _fuse_impact(own: Warning, other: Warning) -> dict:
    if (
        own.impact_lat_deg is None
        or own.impact_lon_deg is None
        or other.impact_lat_deg is None
        or other.impact_lon_deg is None
        or not own.impact_ellipse
        or not other.impact_ellipse
    ):
        return (
            {}
            if own.has_impact or not other.has_impact
            else {
                k: getattr(other, k)
                for k in ("impact_lat_deg", "impact_lon_deg", "impact_time_s", "impact_ellipse")
            }
        )
    lat0, lon0 = own.impact_lat_deg, own.impact_lon_deg
    xb = tangent_km(lat0, lon0, other.impact_lat_deg, other.impact_lon_deg)
    pa, pb = (
        ellipse_cov_km2(own.impact_ellipse, own.containment),
        ellipse_cov_km2(other.impact_ellipse, other.containment),
    )
    x, p, w = covariance_intersection(np.zeros(2), pa, xb, pb)
    lat, lon = from_tangent_km(lat0, lon0, x)
    t = (
        own.impact_time_s
        if other.impact_time_s is None or own.impact_time_s is None
        else (w * own.impact_time_s + (1.0 - w) * other.impact_time_s)
    )
    return {
        "impact_lat_deg": lat,
        "impact_lon_deg": lon,
        "impact_ellipse": cov_ellipse(p, own.containment),
        "impact_time_s": t,
    }


def _fuse_azimuth(own: Warning, other: Warning) -> dict:
    if own.azimuth_deg is None or own.azimuth_sigma_deg is None:
        return (
            {}
            if other.azimuth_deg is None
            else {"azimuth_deg": other.azimuth_deg, "azimuth_sigma_deg": other.azimuth_sigma_deg}
        )
    if other.azimuth_deg is None or other.azimuth_sigma_deg is None:
        return {}
    diff = (other.azimuth_deg - own.azimuth_deg + 180.0) % 360.0 - 180.0  # the other's heading, unwrapped
    sa, sb = max(own.azimuth_sigma_deg, MIN_SIGMA_DEG) ** 2, max(other.azimuth_sigma_deg, MIN_SIGMA_DEG) ** 2
    x, p, _ = covariance_intersection([0.0], [[sa]], [diff], [[sb]])
    return {"azimuth_deg": float(own.azimuth_deg + x[0]) % 360.0, "azimuth_sigma_deg": math.sqrt(p[0, 0])}


def fuse_warnings(own: Warning, other: Warning, partner: str) -> Warning:
    """``own``'s estimate fused with ``other`` (a partner's warning of the same event) by CI: launch state
    ``[east, north, time]`` with one ω, impact point, azimuth; ``partner`` (and ``other``'s partners) join
    ``sources.partners``. The class, mono flag, sensors, notification and burnout stay ``own``'s."""
    changes = {**_fuse_launch(own, other), **_fuse_impact(own, other), **_fuse_azimuth(own, other)}
    partners = {*own.sources.partners, partner, *other.sources.partners}
    changes["sources"] = Sources(own.sources.sensors, tuple(partners))
    return dataclasses.replace(own, **changes)
