"""Ballistic or space launch, by the orbit a coast state is on: the baseline threshold classifier.

The default classifier is :class:`vigil.fusion.coast.classify_sigma.EnergyClassifier` (a k-σ test with an
``unknown`` answer; re-exported here); this module keeps the original thresholds as
:class:`ThresholdEnergyClassifier`, the named baseline it is compared against (bench/bench_classify.py).

A state is orbital when its osculating two-body perigee is above :data:`PERIGEE_MIN_ALT_M` (it will not
come down within an orbit; equivalently the specific energy exceeds that of a circular orbit at that
altitude *and* the orbit does not dip below it). Reuses :mod:`vigil.flight.orbit` (inertial velocity
``v + ω×r``, WGS84 GM). The perigee of a near-circular insertion is very sensitive to the speed
(δr_p ≈ 4 r δv / v: 100 m/s — the burnout bound from GEO at 20 µrad — moves it by ~350 km), so a state is
also orbital when it *looks like an insertion*: above :data:`PERIGEE_MIN_ALT_M`, flight-path angle within
:data:`INSERTION_MAX_GAMMA_DEG` of horizontal and inertial speed ≥ :data:`INSERTION_MIN_SPEED_RATIO` of the
circular speed there. A ballistic missile burns out climbing (γ ≥ 15° for the notional ICBM) below
circular speed; both margins are several σ of the burnout estimate (σ_γ ≈ 0.8°, σ_v/v_c ≈ 0.013).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from vigil.flight.orbit import perigee_altitude_m
from vigil.frames import GM_EARTH_M3_S2, OMEGA_EARTH_RAD_S, WGS84_A_M, ecef_to_geodetic

PERIGEE_MIN_ALT_M = 150e3  # lowest perigee that survives a revolution (drag); a common orbital threshold
INSERTION_MAX_GAMMA_DEG = 5.0  # |flight-path angle| of an orbital insertion (measured: ≤ 1° for the launchers
#   and Falcon 9 replays; ≥ 15° for the ICBMs, ~30° IRBMs, ~45° SRBMs)
INSERTION_MIN_SPEED_RATIO = (
    0.97  # inertial speed / circular speed (measured: 1.00–1.03 orbital, ≤ 0.94 ICBMs)
)


@dataclass(frozen=True)
class AscentCues:
    """What the event's whole ascent says beside its last state: ``burn_s`` the powered flight seen (last
    detection − launch time estimate, s) with its 1σ; ``thrusting`` True while the plume is still seen (no
    burnout yet: a thrusting object is never called ballistic)."""

    burn_s: float
    burn_sigma_s: float
    thrusting: bool = False


@dataclass(frozen=True)
class Decision:
    """A classifier's answer: the class, why (one line, for the warning version's log) and whether the
    object surely comes down (perigee ≥ k σ below the surface: an impact is predicted even when undecided)."""

    class_: str
    reason: str
    falls: bool = False


class Classifier(ABC):
    """Base of event classifiers: coast state (and its 6×6 ECEF covariance, m and m/s, where known) →
    ``"ballistic"`` | ``"space_launch"`` | ``"unknown"`` (not yet decided). :meth:`decide` adds the reason
    and the ascent cues; a classifier that only implements :meth:`classify` decides on the state alone."""

    @abstractmethod
    def classify(self, r_ecef_m, v_ecef_m_s, cov6=None) -> str: ...

    def decide(self, r_ecef_m, v_ecef_m_s, cov6=None, cues: AscentCues | None = None) -> Decision:
        """:meth:`classify` with a reason; never ``ballistic`` while ``cues.thrusting``."""
        cls = self.classify(r_ecef_m, v_ecef_m_s, cov6)
        if cls == "ballistic" and cues is not None and cues.thrusting:
            return Decision("unknown", "still thrusting: not ballistic on one state")
        return Decision(cls, f"{type(self).__name__}: {cls}", cls == "ballistic")


class ThresholdEnergyClassifier(Classifier):
    """The baseline: orbital (``space_launch``) when the perigee altitude exceeds ``perigee_min_alt_m`` or the
    state looks like an insertion, else ``ballistic``; hard thresholds, the covariance is ignored."""

    def __init__(self, perigee_min_alt_m: float = PERIGEE_MIN_ALT_M) -> None:
        self.perigee_min_alt_m = perigee_min_alt_m

    def classify(self, r_ecef_m, v_ecef_m_s, cov6=None) -> str:
        clear = _clear_class(r_ecef_m, v_ecef_m_s, self.perigee_min_alt_m)
        if clear is not None:
            return clear
        r, v = np.asarray(r_ecef_m, dtype=float), np.asarray(v_ecef_m_s, dtype=float)
        perigee = float(perigee_altitude_m(r, v))
        if not np.isfinite(perigee):
            return "unknown"
        return "space_launch" if perigee > self.perigee_min_alt_m or self._insertion(r, v) else "ballistic"

    def _insertion(self, r, v) -> bool:
        """Near-horizontal, near-circular state above the perigee threshold (see module docstring)."""
        v_in = v + np.cross([0.0, 0.0, OMEGA_EARTH_RAD_S], r)
        rn, vn = np.linalg.norm(r), np.linalg.norm(v_in)
        gamma = np.degrees(np.arcsin(np.clip(v_in @ r / (rn * vn), -1.0, 1.0)))
        return bool(
            ecef_to_geodetic(r)[2] > self.perigee_min_alt_m
            and abs(gamma) < INSERTION_MAX_GAMMA_DEG
            and vn / np.sqrt(GM_EARTH_M3_S2 / rn) >= INSERTION_MIN_SPEED_RATIO
        )


DECISION_MARGIN_M = (
    100.0  # perigee this far from the threshold: the scalar test decides (round-off < 1 m, circular)
)
DECISION_MARGIN_REL = 1e-9  # relative margin on the insertion ratios (round-off ~1e-15)


def _clear_class(r_ecef_m, v_ecef_m_s, perigee_min_alt_m: float) -> str | None:
    """The class when the state is clear of every threshold, by scalar arithmetic (~10× cheaper than the
    array path, the same formulas as :func:`vigil.flight.orbit.perigee_altitude_m` and
    :meth:`ThresholdEnergyClassifier._insertion`); None near a threshold or for non-finite input, where the array path
    decides, so that the result is always the array path's."""
    try:
        x, y, z = (float(c) for c in r_ecef_m)
        vx, vy, vz = (float(c) for c in v_ecef_m_s)
    except (TypeError, ValueError):  # not one 3-vector each: the array path
        return None
    w = OMEGA_EARTH_RAD_S
    vx, vy = vx - w * y, vy + w * x  # inertial velocity v + ω×r
    rn = math.sqrt(x * x + y * y + z * z)
    v2 = vx * vx + vy * vy + vz * vz
    hx, hy, hz = y * vz - z * vy, z * vx - x * vz, x * vy - y * vx
    h2 = hx * hx + hy * hy + hz * hz
    energy = 0.5 * v2 - GM_EARTH_M3_S2 / rn
    e = math.sqrt(max(1.0 + 2.0 * energy * h2 / GM_EARTH_M3_S2**2, 0.0))
    perigee = h2 / GM_EARTH_M3_S2 / (1.0 + e) - WGS84_A_M
    if not math.isfinite(perigee) or abs(perigee - perigee_min_alt_m) <= DECISION_MARGIN_M:
        return None
    if perigee > perigee_min_alt_m:
        return "space_launch"
    vn = math.sqrt(v2)
    speed_ratio = vn / math.sqrt(GM_EARTH_M3_S2 / rn)
    sin_gamma = (vx * x + vy * y + vz * z) / (rn * vn)
    if speed_ratio < INSERTION_MIN_SPEED_RATIO * (1.0 - DECISION_MARGIN_REL) or (
        abs(sin_gamma) > math.sin(math.radians(INSERTION_MAX_GAMMA_DEG)) * (1.0 + DECISION_MARGIN_REL)
    ):
        return "ballistic"  # not an insertion: one of its conditions clearly fails
    return None
