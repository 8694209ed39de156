"""Signal and detection: plume irradiance, SNR, detection probability, light time, LOS noise, clutter.

The chain for one plume seen by one satellite in one frame (docs/design.md "Signal"):

1. **Light time.** The frame is read out at ``t_recv``; the light left the plume at
   ``t_emit = t_recv - |r_sat(t_recv) - r_plume(t_emit)| / c``, solved by :data:`LIGHT_TIME_ITERATIONS`
   fixed-point iterations (each iteration shrinks the error by ``v_plume / c`` ~ 1e-5, so three reach
   machine precision). Light travels straight in an inertial frame, not in ECEF: the plume position at
   ``t_emit`` is expressed in the ECEF axes of ``t_recv`` by a rotation of ``-ω⊕ (t_recv - t_emit)``
   about z (:func:`to_reception_frame`, the Sagnac term: ~56 m at the Equator for a GEO light time, i.e.
   ~1.5 µrad seen from GEO). The reported LOS is geometric (the sensor's processing removes aberration).
2. **Visibility.** The plume is hidden below ``visible_alt_m`` (cloud tops) and radiates nothing after
   burnout (``intensity_w_sr == 0``); the satellite must *see* the point (access rule of
   :class:`vigil.sensors.model.SensorModel`; elevation ≥ ``min_elevation_deg`` > 0 also rules out Earth
   occultation).
3. **Irradiance** at the aperture ``E = I / R²`` (W/m², point source, no atmospheric loss above the cloud
   tops), **SNR** ``= E / NEI`` with the sensor's noise-equivalent irradiance (W/m²).
4. **Detection.** A threshold detector on the measured SNR ``snr + n``, ``n ~ N(0, 1)`` (noise has unit
   standard deviation in SNR units by definition of NEI): detected when ``snr + n ≥ pd_snr50``, so
   ``Pd = Φ(snr - pd_snr50)`` — 50 % at ``snr = pd_snr50``, 84 % one unit above (the classic
   Gaussian-noise threshold model, e.g. Skolnik, *Introduction to Radar Systems*, §2.5, with a
   non-fluctuating target). The reported SNR is the measured one.
5. **LOS noise.** A Gaussian on the unit sphere: two independent tangent-plane components with standard
   deviation ``σ`` each, then renormalised.
6. **False alarms.** A Poisson number per frame (mean ``false_alarms_per_frame``), at points drawn
   uniformly in area over the part of the Earth the satellite sees (the spherical cap bounded by the
   minimum elevation and the field of regard), their measured SNR from the Gaussian tail above the threshold.

Kernels here are pure functions on arrays in SI (no I/O, no configuration files).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from ..errors import ConfigError
from ..frames import C_LIGHT_M_S, OMEGA_EARTH_RAD_S, WGS84_A_M, WGS84_B_M, unit

LIGHT_TIME_ITERATIONS = 3  # fixed-point iterations; error factor v/c ~ 1e-5 each, 3 reach < 1e-15 s
DEFAULT_NEI_W_M2 = 1.0e-11  # notional: a 6e5 W/sr plume at 46,000 km (HEO apogee) gives SNR ~ 28
DEFAULT_PD_SNR50 = 6.0  # notional: detection threshold in SNR units (Pd = 50 % at this SNR)
DEFAULT_FALSE_ALARMS_PER_FRAME = 0.01  # notional mean false alarms per frame per satellite
DEFAULT_VISIBLE_ALT_M = 10_000.0  # notional cloud-top height below which a plume is hidden


@dataclass(frozen=True)
class SignalModel:
    """Radiometric and detection parameters of one partner's sensors.

    ``nei_w_m2``: noise-equivalent irradiance (W/m², > 0). ``pd_snr50``: detection threshold, the SNR of
    50 % detection probability (> 0). ``false_alarms_per_frame``: Poisson mean per satellite and frame
    (≥ 0). ``visible_alt_m``: plume altitude below which nothing is seen (m, ≥ 0).
    """

    nei_w_m2: float = DEFAULT_NEI_W_M2
    pd_snr50: float = DEFAULT_PD_SNR50
    false_alarms_per_frame: float = DEFAULT_FALSE_ALARMS_PER_FRAME
    visible_alt_m: float = DEFAULT_VISIBLE_ALT_M

    def __post_init__(self) -> None:
        if not self.nei_w_m2 > 0.0:
            raise ConfigError(f"nei_w_m2: {self.nei_w_m2} must be > 0")
        if not self.pd_snr50 > 0.0:
            raise ConfigError(f"pd_snr50: {self.pd_snr50} must be > 0")
        if not self.false_alarms_per_frame >= 0.0:
            raise ConfigError(f"false_alarms_per_frame: {self.false_alarms_per_frame} must be >= 0")
        if not self.visible_alt_m >= 0.0:
            raise ConfigError(f"visible_alt_m: {self.visible_alt_m} must be >= 0")


def irradiance_w_m2(intensity_w_sr, range_m) -> np.ndarray:
    """Irradiance (W/m²) of a point source of radiant intensity ``I`` (W/sr) at range ``R`` (m): ``I / R²``."""
    return np.asarray(intensity_w_sr, dtype=float) / np.asarray(range_m, dtype=float) ** 2


def signal_to_noise(irradiance, nei_w_m2: float) -> np.ndarray:
    """SNR (dimensionless) of an irradiance (W/m²) against the noise-equivalent irradiance (W/m²)."""
    return np.asarray(irradiance, dtype=float) / nei_w_m2


def detection_probability(snr, pd_snr50: float) -> np.ndarray:
    """Probability of detection ``Φ(snr - pd_snr50)`` (threshold detector, unit Gaussian noise)."""
    return ndtr(np.asarray(snr, dtype=float) - pd_snr50)


def detect(snr, pd_snr50: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw detections: ``(detected bool (M,), measured_snr (M,))`` with ``measured = snr + N(0, 1)``."""
    snr = np.asarray(snr, dtype=float)
    measured = snr + rng.standard_normal(snr.shape)
    return measured >= pd_snr50, measured


def false_alarm_snr(n: int, pd_snr50: float, rng: np.random.Generator) -> np.ndarray:
    """Measured SNR of ``n`` noise-only threshold crossings: unit Gaussian conditioned on ``≥ pd_snr50``.

    Inverse-CDF sampling of the tail, ``x = -Φ⁻¹(u Φ(-T))``, accurate far into the tail.
    """
    u = rng.random(n)
    tail = ndtr(-pd_snr50)
    return -ndtri(np.maximum(u, 1e-300) * tail)


def to_reception_frame(r_ecef_emit_m, dt_s) -> np.ndarray:
    """ECEF positions at emission ``(..., 3)`` expressed in the ECEF axes ``dt_s`` (s, ``(...)``) later.

    A point fixed in inertial space turns by ``-ω⊕ dt`` about z in the rotating frame (Sagnac term).
    """
    r = np.asarray(r_ecef_emit_m, dtype=float)
    theta = OMEGA_EARTH_RAD_S * np.asarray(dt_s, dtype=float)
    c, s = np.cos(theta), np.sin(theta)
    out = np.empty(np.broadcast_shapes(r.shape, np.shape(theta) + (3,)))
    out[..., 0] = c * r[..., 0] + s * r[..., 1]
    out[..., 1] = -s * r[..., 0] + c * r[..., 1]
    out[..., 2] = r[..., 2]
    return out


def light_time_solve(t_recv_s, r_sat_recv_m, position_at, iterations: int = LIGHT_TIME_ITERATIONS):
    """Solve ``t_emit = t_recv - |r_sat(t_recv) - R(t_recv - t_emit) r(t_emit)| / c`` by fixed point.

    ``t_recv_s`` (M,) reception instants (s); ``r_sat_recv_m`` (M, 3) ECEF at reception; ``position_at``
    maps emission times (M,) to ECEF positions (M, 3) at emission. Returns ``(t_emit (M,), r_emit (M, 3)
    ECEF at emission, r_recv_frame (M, 3) the same point in the ECEF axes of reception)``.
    """
    t_recv = np.asarray(t_recv_s, dtype=float)
    t_emit = t_recv.copy()
    for _ in range(iterations):
        r_emit = position_at(t_emit)
        r_rx = to_reception_frame(r_emit, t_recv - t_emit)
        t_emit = t_recv - np.linalg.norm(r_rx - r_sat_recv_m, axis=-1) / C_LIGHT_M_S
    r_emit = position_at(t_emit)
    return t_emit, r_emit, to_reception_frame(r_emit, t_recv - t_emit)


def tangent_basis(u) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors ``(..., 3)`` orthogonal to unit ``u`` and to each other (right-handed with ``u``)."""
    u = np.asarray(u, dtype=float)
    ref = np.where((np.abs(u[..., 2]) < 0.9)[..., None], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0])
    e1 = unit(np.cross(ref, u))
    return e1, np.cross(u, e1)


def perturb_los(u, sigma_rad: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors ``(M, 3)`` with Gaussian angular noise: ``σ`` (rad) on each tangent axis, renormalised."""
    u = np.asarray(u, dtype=float)
    n = rng.standard_normal(u.shape[:-1] + (2,)) * sigma_rad
    e1, e2 = tangent_basis(u)
    return unit(u + n[..., :1] * e1 + n[..., 1:] * e2)


def visible_cap_half_angle_rad(r_sat_norm_m, min_elevation_deg: float, field_of_regard_deg: float | None):
    """Earth-central half-angle (rad) of the cap a satellite at geocentric distance ``r`` (m) sees.

    Spherical Earth of radius ``a`` (WGS84 equatorial): ``λ = arccos(a cos ε / r) - ε`` for minimum
    elevation ε; a field of regard of half-angle η about nadir limits it to ``arcsin(r sin η / a) - η``
    (Wertz, *Space Mission Analysis and Design*, §5.2 Earth geometry).
    """
    r = np.asarray(r_sat_norm_m, dtype=float)
    eps = np.radians(max(min_elevation_deg, 0.0))
    lam = np.arccos(np.clip(WGS84_A_M * np.cos(eps) / r, -1.0, 1.0)) - eps
    if field_of_regard_deg is not None:
        eta = np.radians(field_of_regard_deg)
        s = r * np.sin(eta) / WGS84_A_M
        lam = np.where(s < 1.0, np.minimum(lam, np.arcsin(np.clip(s, 0.0, 1.0)) - eta), lam)
    return lam


def sample_visible_cap(r_sat_m, min_elevation_deg: float, field_of_regard_deg: float | None, rng):
    """Points on the WGS84 surface ``(M, 3)`` (m), one per satellite position ``(M, 3)``, uniform in area
    over the cap it sees (:func:`visible_cap_half_angle_rad`): ``cos λ`` uniform, azimuth uniform.

    The direction is drawn on the sphere and put on the ellipsoid along the same geocentric ray; since the
    ellipsoid lies inside the sphere of radius ``a``, such a point is never behind the horizon.
    """
    r_sat = np.asarray(r_sat_m, dtype=float)
    norm = np.linalg.norm(r_sat, axis=-1)
    lam_max = visible_cap_half_angle_rad(norm, min_elevation_deg, field_of_regard_deg)
    cos_lam = 1.0 - rng.random(norm.shape) * (1.0 - np.cos(lam_max))
    sin_lam = np.sqrt(np.clip(1.0 - cos_lam**2, 0.0, 1.0))
    phi = rng.random(norm.shape) * 2.0 * np.pi
    nadir = r_sat / norm[..., None]
    e1, e2 = tangent_basis(nadir)
    d = cos_lam[..., None] * nadir + sin_lam[..., None] * (
        np.cos(phi)[..., None] * e1 + np.sin(phi)[..., None] * e2
    )
    rho = 1.0 / np.sqrt((d[..., 0] ** 2 + d[..., 1] ** 2) / WGS84_A_M**2 + d[..., 2] ** 2 / WGS84_B_M**2)
    return d * rho[..., None]
