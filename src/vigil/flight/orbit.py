"""Two-body orbit figures of a flight state: inertial velocity, semi-major axis, perigee and apogee.

Used to classify a flight (sub-orbital → ballistic; perigee above the atmosphere → space launch). Point
mass gravity (WGS84 GM); the inertial velocity is the ECEF velocity plus ω×r (the inertial frame that
coincides with ECEF at that instant).
"""

from __future__ import annotations

import numpy as np

from vigil.frames import GM_EARTH_M3_S2, OMEGA_EARTH_RAD_S, WGS84_A_M


def inertial_velocity(r_ecef_m, v_ecef_m_s) -> np.ndarray:
    """Inertial velocity ``v + ω×r`` (m/s), ``(..., 3)``, of ECEF states."""
    r = np.asarray(r_ecef_m, dtype=float)
    v = np.array(v_ecef_m_s, dtype=float)
    v[..., 0] -= OMEGA_EARTH_RAD_S * r[..., 1]
    v[..., 1] += OMEGA_EARTH_RAD_S * r[..., 0]
    return v


def apsides_radii_m(r_ecef_m, v_ecef_m_s) -> tuple[np.ndarray, np.ndarray]:
    """Perigee and apogee radii (m) of the osculating two-body orbit; apogee is inf when unbound."""
    r = np.asarray(r_ecef_m, dtype=float)
    v = inertial_velocity(r, v_ecef_m_s)
    rn = np.linalg.norm(r, axis=-1)
    energy = 0.5 * np.sum(v * v, axis=-1) - GM_EARTH_M3_S2 / rn
    h2 = np.sum(np.cross(r, v) ** 2, axis=-1)
    e = np.sqrt(np.maximum(1.0 + 2.0 * energy * h2 / GM_EARTH_M3_S2**2, 0.0))
    p = h2 / GM_EARTH_M3_S2
    apogee = np.where(e < 1.0, p / np.maximum(1.0 - e, 1e-300), np.inf)
    return p / (1.0 + e), apogee


def perigee_altitude_m(r_ecef_m, v_ecef_m_s) -> np.ndarray:
    """Perigee altitude (m) above the equatorial radius of the osculating orbit (negative: sub-orbital)."""
    return apsides_radii_m(r_ecef_m, v_ecef_m_s)[0] - WGS84_A_M
