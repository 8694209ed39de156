"""Ballistic, space launch or not yet decided: a k-σ test on quantities that separate the classes.

Quantities of the coast state (inertial velocity ``v + ω×r``, WGS84 GM), with ``v_r``/``v_h`` the radial and
horizontal inertial speeds and ``v_c = √(GM/r)`` the circular speed at the current radius:

* ``dv_circ_m_s`` = √(v_r² + (v_h − v_c)²), the Δv still needed for a circular orbit at the current radius;
* ``gamma_deg`` = atan2(v_r, v_h), the inertial flight-path angle;
* ``perigee_alt_m``, the osculating two-body perigee altitude.

Measured on truth states at the end of the plume (script in bench/bench_classify.py, ``--truth``): the five
shipped Falcon 9 profiles replayed from 5°–63° latitude at 35°–200° azimuth need 65–563 m/s at their last
sample, 415–1,401 m/s 30 s before it and up to 3,047 m/s 90 s before it, always within −1.6°..+6.0° of
horizontal; the notional missiles need ≥ 1,620 m/s (depressed ICBM) and climb at ≥ 11.9° (nominal ICBM
15.9°, IRBM 29°, SRBM 43°), except deeply depressed IRBM/SRBM shots (γ 2°–6°), which a single state cannot
tell from a launcher cut well before orbit. Hence two boundaries, midway in the measured gaps:

* ``space_launch`` when ``dv_circ`` ≤ :data:`DV_BOUNDARY_M_S` − k σ, or the perigee ≥
  :data:`PERIGEE_MIN_ALT_M` + k σ (it will not come down within a revolution);
* ``ballistic`` when ``dv_circ`` ≥ :data:`DV_BOUNDARY_M_S` + k σ **and** γ ≥ :data:`GAMMA_BOUNDARY_DEG` + k σ
  (a launcher cut before orbit is near-horizontal; a missile at burnout climbs);
* otherwise ``unknown``, with :func:`class_evidence` giving the margins and a class probability.

σ of each quantity is the state covariance propagated through its Jacobian (central differences, the
quantities are smooth away from v = 0); k = :data:`K_SIGMA` = 3 (one-sided 0.13 % per boundary if Gaussian).
The burnout state itself is only estimated once the plume has been gone for the engine's burnout gap, so a
still-thrusting object is never classified here (engine.py decides when).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vigil.errors import ConfigError
from vigil.frames import GM_EARTH_M3_S2, OMEGA_EARTH_RAD_S, WGS84_A_M

from .classify import PERIGEE_MIN_ALT_M, Classifier

K_SIGMA = 3.0  # decide only this many σ from a boundary
DV_BOUNDARY_M_S = 1100.0  # between 563 m/s (worst launcher at its last sample) and 1,620 m/s (depressed ICBM)
GAMMA_BOUNDARY_DEG = 9.0  # between 6.0° (launcher cut 90 s early) and 11.9° (depressed ICBM)
_FD_STEP = np.array([1.0, 1.0, 1.0, 1e-3, 1e-3, 1e-3])  # central-difference steps (m, m/s): quantities are
#   near-linear on these scales (round-off ~1e-9 relative)


def coast_quantities(x6) -> np.ndarray:
    """``(..., 3)`` = (dv_circ m/s, γ deg, perigee altitude m) of ECEF states ``x6`` ``(..., 6)`` (m, m/s)."""
    x6 = np.asarray(x6, dtype=float)
    r, v = x6[..., :3], x6[..., 3:6]
    v_in = v + np.cross([0.0, 0.0, OMEGA_EARTH_RAD_S], r)
    rn = np.linalg.norm(r, axis=-1)
    vr = np.einsum("...i,...i->...", v_in, r) / rn
    v2 = np.einsum("...i,...i->...", v_in, v_in)
    vh = np.sqrt(np.maximum(v2 - vr * vr, 0.0))
    vc = np.sqrt(GM_EARTH_M3_S2 / rn)
    h2 = (rn * vh) ** 2
    energy = 0.5 * v2 - GM_EARTH_M3_S2 / rn
    e = np.sqrt(np.maximum(1.0 + 2.0 * energy * h2 / GM_EARTH_M3_S2**2, 0.0))
    perigee = h2 / GM_EARTH_M3_S2 / (1.0 + e) - WGS84_A_M
    return np.stack([np.hypot(vr, vh - vc), np.degrees(np.arctan2(vr, vh)), perigee], axis=-1)


@dataclass(frozen=True)
class ClassEvidence:
    """Quantities, their 1σ, the signed margins in σ (positive = ballistic side) and the decision."""

    dv_circ_m_s: float
    gamma_deg: float
    perigee_alt_m: float
    sigma: tuple[float, float, float]
    z_dv: float
    z_gamma: float
    z_perigee: float  # positive = perigee above the orbital threshold
    class_: str
    p_space_launch: float  # Gaussian probability of the space-launch side of the Δv boundary


def class_evidence(r_ecef_m, v_ecef_m_s, cov6=None, k_sigma: float = K_SIGMA) -> ClassEvidence:
    """The k-σ decision of one coast state (module docstring); ``cov6`` None = exact state."""
    x = np.concatenate([np.asarray(r_ecef_m, dtype=float).ravel(), np.asarray(v_ecef_m_s, dtype=float).ravel()])
    if x.shape != (6,) or not np.all(np.isfinite(x)):
        return ClassEvidence(*(math.nan,) * 3, (math.nan,) * 3, math.nan, math.nan, math.nan, "unknown", math.nan)
    steps = np.diag(_FD_STEP)
    q = coast_quantities(np.concatenate([x[None], x + steps, x - steps]))
    q0 = q[0]
    sig = np.zeros(3)
    if cov6 is not None:
        c = np.asarray(cov6, dtype=float)
        if c.shape == (6, 6) and np.all(np.isfinite(c)):
            jac = (q[1:7] - q[7:13]).T / (2.0 * _FD_STEP)  # (3, 6)
            sig = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, c, jac), 0.0))
    tiny = 1e-12
    z_dv = (q0[0] - DV_BOUNDARY_M_S) / max(sig[0], tiny)
    z_g = (q0[1] - GAMMA_BOUNDARY_DEG) / max(sig[1], tiny)
    z_p = (q0[2] - PERIGEE_MIN_ALT_M) / max(sig[2], tiny)
    if z_p >= k_sigma or z_dv <= -k_sigma:
        cls = "space_launch"
    elif z_dv >= k_sigma and z_g >= k_sigma:
        cls = "ballistic"
    else:
        cls = "unknown"
    p_sl = 0.5 * math.erfc(z_dv / math.sqrt(2.0))
    return ClassEvidence(float(q0[0]), float(q0[1]), float(q0[2]), (float(sig[0]), float(sig[1]), float(sig[2])),
                         float(z_dv), float(z_g), float(z_p), cls, p_sl)


class EnergyClassifier(Classifier):
    """The default: the k-σ test of :func:`class_evidence` (``unknown`` until the evidence decides)."""

    def __init__(self, k_sigma: float = K_SIGMA) -> None:
        if not (math.isfinite(k_sigma) and k_sigma >= 0.0):
            raise ConfigError(f"k_sigma: expected a finite number >= 0, got {k_sigma!r}")
        self.k_sigma = k_sigma

    def classify(self, r_ecef_m, v_ecef_m_s, cov6=None) -> str:
        return class_evidence(r_ecef_m, v_ecef_m_s, cov6, self.k_sigma).class_
