"""Ballistic, space launch or not yet decided: a k-σ test on quantities that separate the classes.

Quantities of the coast state (inertial velocity ``v + ω×r``, WGS84 GM), with ``v_r``/``v_h`` the radial and
horizontal inertial speeds and ``v_c = √(GM/r)`` the circular speed at the current radius:

* ``dv_circ_m_s`` = √(v_r² + (v_h − v_c)²), the Δv still needed for a circular orbit at the current radius;
* ``gamma_deg`` = atan2(v_r, v_h), the inertial flight-path angle;
* ``perigee_alt_m``, the osculating two-body perigee altitude;
* ``alt_m``, the geodetic altitude of the state.

and one of the whole ascent (:class:`~vigil.fusion.coast.classify.AscentCues`): ``burn_s``, the powered flight
seen (last detection − estimated launch time).

Measured on truth states at the end of the plume (bench/bench_classify.py ``--truth``): the five shipped
Falcon 9 profiles replayed from 5°–63° latitude at 35°–200° azimuth need 10–620 m/s at their last sample and
up to 3,143 m/s when cut 90 s before it, always within −1.9°..+6.1° of horizontal, at 164–502 km after
≥ 422 s of powered flight; the notional missiles need ≥ 2,079 m/s and climb at ≥ 11.9°, except depressed
shots: IRBM/SRBM (γ 4°–6°) burn out at ≤ 56 km, the ICBM at loft 48° at 110–124 km, γ 6.7°–8.2°, only
1,078–1,214 m/s from circular; every missile burns ≤ 186 s. Hence:

* ``space_launch`` when the perigee ≥ :data:`PERIGEE_MIN_ALT_M` + kσ (it will not come down within a
  revolution); or ``dv_circ`` ≤ :data:`DV_BOUNDARY_M_S` − kσ (a few hundred m/s from orbit) after
  ``burn_s`` ≥ :data:`BURN_BOUNDARY_S` + kσ (a depressed ICBM burns out 1,080–1,210 m/s from circular, so
  Δv alone does not separate; without the burn cue Δv alone decides); or the **ascent** test: γ ≤
  :data:`GAMMA_BOUNDARY_DEG` − kσ, altitude ≥ :data:`ALT_BOUNDARY_M` + kσ and ``burn_s`` ≥
  :data:`BURN_BOUNDARY_S` + kσ — flying level above the atmosphere after a long burn is how an orbital
  ascent builds its speed (it climbs out first, then accelerates horizontally for minutes), where a missile
  keeps its burn short (≤ ~340 s even for the liquid ICBMs);
* ``ballistic`` when ``dv_circ`` ≥ :data:`DV_BOUNDARY_M_S` + kσ **and** γ ≥ :data:`GAMMA_BOUNDARY_DEG` + kσ
  (a launcher cut before orbit flies level; a missile at burnout climbs), or when ``burn_s`` ≤
  :data:`BURN_BOUNDARY_S` − kσ ended on a trajectory into the ground (perigee ≥ kσ below the surface); never
  while the object is still thrusting (``cues.thrusting``). The two sides' rules exclude each other (opposite
  margins on Δv, γ or the burn);
* otherwise ``unknown``, with :func:`class_evidence` giving the margins and a class probability; ``falls``
  when the perigee is ≥ kσ below the surface (the impact is predicted even while undecided).

A launcher whose stages coast apart longer than the engine's burnout gap looks like a missile at its first
cutoff (short burn, climbing): the engine reopens the event when the plume reappears on its coast
(:mod:`vigil.fusion.events.assembly`) and the class goes back to ``unknown`` with that reason.

The boundaries lie midway in the measured gaps, on physical scales (the Kármán line, a missile's burn).
σ of each state quantity is the state covariance propagated through its Jacobian (central differences);
k = :data:`K_SIGMA` = 3 (one-sided 0.13 % per boundary if Gaussian).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vigil.errors import ConfigError
from vigil.frames import GM_EARTH_M3_S2, OMEGA_EARTH_RAD_S, WGS84_A_M, ecef_to_geodetic
from vigil.fusion.coast.classify import PERIGEE_MIN_ALT_M, AscentCues, Classifier, Decision

K_SIGMA = 3.0  # decide only this many σ from a boundary
DV_BOUNDARY_M_S = 1100.0  # between 620 m/s (worst launcher at its last sample) and 2,079 m/s (missiles)
GAMMA_BOUNDARY_DEG = 9.0  # between 6.1° (launcher cut 90 s early) and 11.9° (depressed ICBM)
ALT_BOUNDARY_M = 100e3  # the Kármán line: between 56 km (depressed missiles) and 164 km (launchers)
BURN_BOUNDARY_S = (
    360.0  # above the longest ballistic-missile burn (Titan II, two stages ~336 s; notional ICBM
)
#   186 s), below a launcher cut 90 s early (422 s)
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
    """Quantities, their 1σ, the signed margins in σ (positive = ballistic side for Δv and γ; above the
    boundary for perigee, altitude and burn) and the decision with its reason."""

    dv_circ_m_s: float
    gamma_deg: float
    perigee_alt_m: float
    sigma: tuple[float, float, float]
    z_dv: float
    z_gamma: float
    z_perigee: float  # positive = perigee above the orbital threshold
    class_: str
    p_space_launch: float  # Gaussian probability of the space-launch side of the Δv boundary
    alt_m: float = math.nan
    z_alt: float = math.nan  # positive = above ALT_BOUNDARY_M
    z_burn: float = math.nan  # positive = burnt longer than BURN_BOUNDARY_S (NaN: no cue)
    z_fall: float = math.nan  # positive = perigee below the surface
    reason: str = ""


_UNDECIDED = ClassEvidence(
    *(math.nan,) * 3,
    (math.nan,) * 3,
    math.nan,
    math.nan,
    math.nan,
    "unknown",
    math.nan,
    reason="no finite state",
)


def class_evidence(
    r_ecef_m, v_ecef_m_s, cov6=None, k_sigma: float = K_SIGMA, cues: AscentCues | None = None
) -> ClassEvidence:
    """The k-σ decision of one coast state (module docstring); ``cov6`` None = exact state."""
    x = np.concatenate(
        [np.asarray(r_ecef_m, dtype=float).ravel(), np.asarray(v_ecef_m_s, dtype=float).ravel()]
    )
    if x.shape != (6,) or not np.all(np.isfinite(x)):
        return _UNDECIDED
    steps = np.diag(_FD_STEP)
    q = coast_quantities(np.concatenate([x[None], x + steps, x - steps]))
    q0 = q[0]
    sig, sig_alt = np.zeros(3), 0.0
    if cov6 is not None:
        c = np.asarray(cov6, dtype=float)
        if c.shape == (6, 6) and np.all(np.isfinite(c)):
            jac = (q[1:7] - q[7:13]).T / (2.0 * _FD_STEP)  # (3, 6)
            sig = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, c, jac), 0.0))
            up = x[:3] / np.linalg.norm(x[:3])  # altitude ≈ radial distance to first order (< 0.2 % off)
            sig_alt = math.sqrt(max(float(up @ c[:3, :3] @ up), 0.0))
    tiny = 1e-12
    alt = float(ecef_to_geodetic(x[:3])[2])
    z_dv = (q0[0] - DV_BOUNDARY_M_S) / max(sig[0], tiny)
    z_g = (q0[1] - GAMMA_BOUNDARY_DEG) / max(sig[1], tiny)
    z_p = (q0[2] - PERIGEE_MIN_ALT_M) / max(sig[2], tiny)
    z_alt = (alt - ALT_BOUNDARY_M) / max(sig_alt, tiny)
    z_fall = -q0[2] / max(sig[2], tiny)
    z_burn = math.nan
    if cues is not None and math.isfinite(cues.burn_s) and math.isfinite(cues.burn_sigma_s):
        z_burn = (cues.burn_s - BURN_BOUNDARY_S) / max(cues.burn_sigma_s, tiny)
    cls, reason = _decide(k_sigma, z_dv, z_g, z_p, z_alt, z_burn, z_fall, cues is not None and cues.thrusting)
    p_sl = 0.5 * math.erfc(z_dv / math.sqrt(2.0))
    return ClassEvidence(
        float(q0[0]),
        float(q0[1]),
        float(q0[2]),
        (float(sig[0]), float(sig[1]), float(sig[2])),
        float(z_dv),
        float(z_g),
        float(z_p),
        cls,
        p_sl,
        alt,
        float(z_alt),
        float(z_burn),
        float(z_fall),
        reason,
    )


def _decide(
    k: float, z_dv: float, z_g: float, z_p: float, z_alt: float, z_burn: float, z_fall: float, thrusting: bool
) -> tuple[str, str]:
    """``(class, reason)`` from the margins in σ (module docstring's rules, in that order). ``z_burn`` NaN (no
    cue): the near-orbit rule on Δv alone, no burn rule."""
    long_burn = z_burn >= k or (math.isnan(z_burn) and z_dv <= -k)
    if z_p >= k:
        return "space_launch", f"perigee above {PERIGEE_MIN_ALT_M / 1e3:.0f} km by {z_p:.1f} sigma"
    if z_dv <= -k and long_burn:
        return (
            "space_launch",
            f"within {DV_BOUNDARY_M_S:.0f} m/s of a circular orbit by {-z_dv:.1f} sigma"
            + (
                ""
                if math.isnan(z_burn)
                else f" after a burn over {BURN_BOUNDARY_S:.0f} s ({z_burn:.1f} sigma)"
            ),
        )
    if z_g <= -k and z_alt >= k and z_burn >= k:
        return "space_launch", (
            f"level flight above {ALT_BOUNDARY_M / 1e3:.0f} km after a burn over "
            f"{BURN_BOUNDARY_S:.0f} s (margins {-z_g:.1f}, {z_alt:.1f}, {z_burn:.1f} sigma)"
        )
    climbing = z_dv >= k and z_g >= k
    short_fall = z_burn <= -k and z_fall >= k  # (NaN burn: False)
    if climbing or short_fall:
        if thrusting:
            return "unknown", "still thrusting: never ballistic on one state"
        if climbing:
            return "ballistic", (
                f"climbing (gamma over {GAMMA_BOUNDARY_DEG:.0f} deg by {z_g:.1f} sigma) "
                f"{DV_BOUNDARY_M_S:.0f} m/s or more short of orbit ({z_dv:.1f} sigma)"
            )
        return "ballistic", (
            f"burn under {BURN_BOUNDARY_S:.0f} s ({-z_burn:.1f} sigma) ending on a trajectory "
            f"into the ground (perigee {z_fall:.1f} sigma below the surface)"
        )
    return (
        "unknown",
        f"within {k:g} sigma of a boundary (dv {z_dv:+.1f}, gamma {z_g:+.1f}, burn {z_burn:+.1f} sigma)",
    )


class EnergyClassifier(Classifier):
    """The default: the k-σ test of :func:`class_evidence` (``unknown`` until the evidence decides)."""

    def __init__(self, k_sigma: float = K_SIGMA) -> None:
        if not (math.isfinite(k_sigma) and k_sigma >= 0.0):
            raise ConfigError(f"k_sigma: expected a finite number >= 0, got {k_sigma!r}")
        self.k_sigma = k_sigma

    def classify(self, r_ecef_m, v_ecef_m_s, cov6=None) -> str:
        return class_evidence(r_ecef_m, v_ecef_m_s, cov6, self.k_sigma).class_

    def decide(self, r_ecef_m, v_ecef_m_s, cov6=None, cues: AscentCues | None = None) -> Decision:
        ev = self.evidence(r_ecef_m, v_ecef_m_s, cov6, cues)
        return Decision(ev.class_, ev.reason, ev.class_ == "ballistic" or ev.z_fall >= self.k_sigma)

    def evidence(self, r_ecef_m, v_ecef_m_s, cov6=None, cues: AscentCues | None = None) -> ClassEvidence:
        """The full :class:`ClassEvidence` of :meth:`decide`."""
        return class_evidence(r_ecef_m, v_ecef_m_s, cov6, self.k_sigma, cues)
