"""The fitted trajectory of an event as display samples ``(t_s, lat_deg, lon_deg, alt_m)`` (the warning's
``track``): what the operators' globe draws as the event's live track.

Every part comes from an estimate the warning already states, so a version's track changes only when its
estimate does (a re-issued version with the same estimate has the same track):

1. **ascent** — the launch back-fit's model ``r(t)`` (:meth:`~vigil.fusion.launch.ascentmodel.AscentModel.position` with
   the estimate's ``φ``, compiled: :func:`_ascent_points`) from the launch time (the pad, altitude 0) to the last fitted detection, every
   :data:`ASCENT_STEP_S`. A launch estimate without a fitted model (mono, a single point) gives the pad only.
2. **boost** — once burnout is estimated: the triangulated points of the event's detections (the seeds the
   burnout smoother takes) after the ascent fit, thinned to one per :data:`BOOST_STEP_S`, then the burnout
   state itself.
3. **coast** — for a ballistic event: the mean burnout state propagated to the ground with the impact
   predictor's dynamics (J2 gravity in the rotating frame, RK4 at :data:`~vigil.fusion.coast.impact.RK4_STEP_S`), a
   sample every :data:`COAST_SAMPLE_STEPS` steps while above the ground, ending with the warning's impact point
   (the unscented mean, altitude 0).

Samples are rounded for the record (0.1 s, 1e-5°, 1 m: ~1 m, far below the estimates' errors).
"""

from __future__ import annotations

import bisect
import math
import operator

import numba
import numpy as np

from vigil.frames import WGS84_A_M, WGS84_E2
from vigil.fusion.coast.impact import (
    MAX_FLIGHT_S,
    RK4_STEP_S,
    ImpactPrediction,
    coast_derivative,
    geodetic_altitude,
)
from vigil.fusion.launch.ascentfit import profile_at
from vigil.fusion.launch.ascentnormal import pad_up_along
from vigil.fusion.launch.backfit import LaunchEstimate

ASCENT_STEP_S = 5.0
BOOST_STEP_S = 10.0
COAST_SAMPLE_STEPS = 5  # one coast sample per 5 RK4 steps (40 s): ~45 samples for a 30-minute coast

Sample = tuple[float, float, float, float]


def ascent_samples(launch: LaunchEstimate) -> list[Sample]:
    """Part 1 (module docstring): the pad, then the fitted ascent model up to its last fitted detection."""
    pad = (launch.time_s, math.degrees(launch.lat_rad), math.degrees(launch.lon_rad), 0.0)
    phi, degree, t_last = launch.phi, launch.degree, launch.t_last_s
    if phi is None or degree is None or t_last is None or not t_last > launch.time_s:
        return [_rounded(pad)]
    first_horizontal = 2 * degree + 4 - len(phi)  # AscentModel.size solved for it (2 or 3)
    rows = _ascent_rows(
        np.asarray(phi, dtype=float),
        int(degree),
        int(first_horizontal),
        float(launch.time_s),
        float(t_last),
        ASCENT_STEP_S,
    )
    return [_rounded(pad), *map(tuple, rows.tolist())]


@numba.njit(cache=True)
def _ascent_rows(phi, degree, k0, t0, t_last, step):
    """Rounded rows of the ascent model at ``n`` even steps of at most ``step`` after ``t0``, to ``t_last``."""
    n = max(int(math.ceil((t_last - t0) / step)), 1)
    times = np.empty(n)
    for i in range(n):
        times[i] = t0 + (t_last - t0) * (i + 1) / n
    return _rounded_rows(times, _ascent_points(phi, degree, k0, times))


def boost_samples(
    after_s: float,
    seed_times: np.ndarray,
    seed_points: np.ndarray | None,
    burnout_s: float,
    r_burnout: np.ndarray,
) -> list[Sample]:
    """Part 2: triangulated points later than ``after_s`` (one per :data:`BOOST_STEP_S`), then burnout."""
    out: list[Sample] = []
    if seed_points is not None and len(seed_times):
        t = np.asarray(seed_times, dtype=float)
        p = np.asarray(seed_points, dtype=float)
        keep = (t > after_s) & (t < burnout_s) & np.isfinite(p).all(axis=1)
        t, p = t[keep], p[keep]
        order = np.argsort(t, kind="stable")
        t, p = t[order], p[order]
        if len(t):
            bins = np.floor((t - t[0]) / BOOST_STEP_S)
            first = np.flatnonzero(np.r_[True, np.diff(bins) > 0])
            out = _geodetic(t[first], p[first])
    if np.all(np.isfinite(r_burnout)):
        out += _geodetic(np.array([burnout_s]), np.asarray(r_burnout, dtype=float)[None, :])
    return out


def coast_samples(burnout_s: float, r: np.ndarray, v: np.ndarray, impact: ImpactPrediction) -> list[Sample]:
    """Part 3: the mean burnout state's coast (module docstring), ending at the stated impact point."""
    x0 = np.concatenate([np.asarray(r, dtype=float), np.asarray(v, dtype=float)])
    out: list[Sample] = []
    if np.all(np.isfinite(x0)):
        t, pos = _coast(
            x0, float(RK4_STEP_S), COAST_SAMPLE_STEPS, float(min(MAX_FLIGHT_S, impact.time_s - burnout_s))
        )
        keep = burnout_s + t < impact.time_s
        out = _geodetic(burnout_s + t[keep], pos[keep])
    end = (impact.time_s, math.degrees(impact.lat_rad), math.degrees(impact.lon_rad), 0.0)
    return [*out, _rounded(end)]


def joined(ascent: list[Sample], tail: list[Sample]) -> tuple[Sample, ...]:
    """The ascent, then the samples of the (time-ordered) tail not before its end: the ascent fit and the
    triangulated points overlap by construction."""
    if not ascent or not tail:
        return (*ascent, *tail)
    end = ascent[-1][0]
    k = bisect.bisect_left(tail, end, key=operator.itemgetter(0))
    return (*ascent, *tail[k:])


@numba.njit(cache=True)
def _ascent_points(phi, degree, k0, times):
    """ECEF points ``(T, 3)`` of the ascent model at ``times``: :meth:`AscentModel.position`'s
    ``r_g + h·up + s·along`` from the fit's own compiled pieces (:func:`~vigil.fusion.launch.ascentfit.profile_at`)."""
    gx, gy, gz, ux, uy, uz, ax, ay, az = pad_up_along(phi)
    out = np.empty((times.size, 3))
    for i in range(times.size):
        h, s = profile_at(phi, degree, k0, max(times[i] - phi[2], 0.0))
        out[i, 0] = gx + h * ux + s * ax
        out[i, 1] = gy + h * uy + s * ay
        out[i, 2] = gz + h * uz + s * az
    return out


@numba.njit(cache=True, error_model="numpy")
def _coast(x0, h, every, max_s):
    """RK4 of one coast state (:func:`~vigil.fusion.coast.impact.coast_derivative`, the predictor's dynamics) from ``t = 0``: the
    times and positions of every ``every``-th step above the ground (the start excluded), until the ground or
    ``max_s``."""
    n_max = int(max_s / h) // every + 1
    times = np.empty(n_max)
    pos = np.empty((n_max, 3))
    x = x0.copy()
    k1, k2, k3, k4, tmp = np.empty(6), np.empty(6), np.empty(6), np.empty(6), np.empty(6)
    n, step, t = 0, 0, 0.0
    while t < max_s:
        coast_derivative(x, k1)
        tmp[:] = x + 0.5 * h * k1
        coast_derivative(tmp, k2)
        tmp[:] = x + 0.5 * h * k2
        coast_derivative(tmp, k3)
        tmp[:] = x + h * k3
        coast_derivative(tmp, k4)
        x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        t += h
        step += 1
        if geodetic_altitude(x[:3].copy()) <= 0.0:
            break
        if step % every == 0 and n < n_max:
            times[n] = t
            pos[n] = x[:3]
            n += 1
    return times[:n], pos[:n]


def _geodetic(times: np.ndarray, r_ecef_m: np.ndarray) -> list[Sample]:
    """Rounded samples of ECEF points at ``times`` (one compiled call: :func:`_rounded_rows`)."""
    rows = _rounded_rows(
        np.ascontiguousarray(np.asarray(times, dtype=float)),
        np.ascontiguousarray(np.asarray(r_ecef_m, dtype=float).reshape(-1, 3)),
    )
    return list(map(tuple, rows.tolist()))


@numba.njit(cache=True)
def _rounded_rows(times, r):
    """``(N, 4)`` rows ``(t_s, lat_deg, lon_deg, alt_m)`` of :func:`_lat_lon_alt`, rounded as :func:`_rounded`."""
    geo = _lat_lon_alt(r)
    out = np.empty((times.size, 4))
    for i in range(times.size):
        out[i, 0] = np.round(times[i], 1)
        out[i, 1] = np.round(geo[i, 0], 5)
        out[i, 2] = np.round((geo[i, 1] + 180.0) % 360.0 - 180.0, 5)
        out[i, 3] = np.round(geo[i, 2], 0)
    return out


@numba.njit(cache=True)
def _lat_lon_alt(r):
    """Geodetic ``(lat_deg, lon_deg, alt_m)`` rows of ECEF points ``(N, 3)``: the fixed-point latitude of
    :func:`~vigil.fusion.coast.impact.geodetic_altitude` (the predictor's), six steps (sub-metre to GEO heights)."""
    out = np.empty((r.shape[0], 3))
    for i in range(r.shape[0]):
        x, y, z = r[i, 0], r[i, 1], r[i, 2]
        p = math.hypot(x, y)
        lat = math.atan2(z, p * (1.0 - WGS84_E2))
        h = 0.0
        for _ in range(6):
            sl = math.sin(lat)
            n = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * sl * sl)
            h = p / math.cos(lat) - n if abs(math.cos(lat)) > 1e-6 else abs(z) - n * (1.0 - WGS84_E2)
            lat = math.atan2(z, p * (1.0 - WGS84_E2 * n / (n + h)))
        out[i, 0] = math.degrees(lat)
        out[i, 1] = math.degrees(math.atan2(y, x))
        out[i, 2] = h
    return out


def _rounded(s: Sample) -> Sample:
    lon = (s[2] + 180.0) % 360.0 - 180.0
    return (round(s[0], 1), round(s[1], 5), round(lon, 5), float(round(s[3])))
