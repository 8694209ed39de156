"""Cross-sensor association of strings by line-of-sight miss distance, with global assignment.

Two strings of different sensors see the same object when their rays nearly intersect at every common
instant. Frames are asynchronous, so the other string is interpolated (sensor position and LOS, linearly;
< 1 µrad error over a 1 s frame for a plume seen from GEO) to each detection time of the first. The
normalised miss ``d² / ((σ_a ρ_a)² + (σ_b ρ_b)²)`` is χ² with 1 dof for a true pair (the miss is the
component of two independent 2-D offsets along the common normal); the pair cost is its mean over the
overlap, gated at :data:`GATE_CHI2_MEAN`. Among sensor pairs, ambiguities (salvos, ghosts) are resolved by
:func:`scipy.optimize.linear_sum_assignment` on these costs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from itertools import combinations

import numpy as np
from scipy.optimize import linear_sum_assignment

from .strings import SensorString
from .triangulate import closest_approach

GATE_CHI2_MEAN = 9.0  # mean normalised miss² accepted (true pairs average 1; 9 leaves room for heavy tails)
MIN_OVERLAP = 2  # common instants needed before two strings may be paired
MIN_RANGE_M = 1.0e6  # a closest approach nearer than this to a sensor (or behind it) is not a target
FORBIDDEN = 1e9


def pair_cost(a: SensorString, b: SensorString) -> float:
    """Mean normalised miss² of ``a``'s rays against ``b`` interpolated to ``a``'s times (inf if unusable)."""
    t, p, u, sigma = a.arrays()
    pb, ub = b.interpolate(t)
    ok = np.all(np.isfinite(ub), axis=-1)
    if ok.sum() < MIN_OVERLAP:
        return np.inf
    miss, _, s, tb = closest_approach(p[ok], u[ok], pb[ok], ub[ok])
    if np.any(s < MIN_RANGE_M) or np.any(tb < MIN_RANGE_M):
        return np.inf
    var = (sigma[ok] * s) ** 2 + (b.sigmas[-1] * tb) ** 2
    return float(np.mean(miss**2 / var))


def triangulation_seeds(strings: list[SensorString]):
    """Triangulated points at the detection times of the longest string: ``(times (T,), points (T, 3))``."""
    from .triangulate import triangulate

    ref = max(strings, key=len)
    t, p, u, sigma = ref.arrays()
    ps, us, ss = [p], [u], [sigma]
    for other in strings:
        if other is ref or other.sensor_id == ref.sensor_id:
            continue
        po, uo = other.interpolate(t)
        ps.append(po)
        us.append(uo)
        ss.append(np.full(len(t), other.sigmas[-1]))
    if len(ps) < 2:
        return np.zeros(0), np.zeros((0, 3))
    pos, los, sig = np.stack(ps, 1), np.stack(us, 1), np.stack(ss, 1)
    good = np.isfinite(los).all(-1)  # (T, S)
    keep = good.sum(1) >= 2
    pts = np.zeros((len(t), 3))
    patterns, which = np.unique(good, axis=0, return_inverse=True)
    for k, pattern in enumerate(patterns):  # one batched solve per set of sensors in view
        rows = np.flatnonzero((which.reshape(-1) == k) & keep)
        if len(rows):
            pts[rows], _ = triangulate(pos[rows][:, pattern], los[rows][:, pattern], sig[rows][:, pattern])
    return t[keep], pts[keep]


class Associator(ABC):
    """Base of associators: unassigned confirmed strings → groups (lists) seen as one object."""

    @abstractmethod
    def pair(self, strings: list[SensorString]) -> list[list[SensorString]]: ...


class MissDistanceAssociator(Associator):
    """Pairs by sensor pair with global assignment on :func:`pair_cost` (see module docstring)."""

    def __init__(self, gate_chi2_mean: float = GATE_CHI2_MEAN) -> None:
        self.gate = gate_chi2_mean

    def pair(self, strings: list[SensorString]) -> list[list[SensorString]]:
        by_sensor: dict[str, list[SensorString]] = {}
        for s in strings:
            by_sensor.setdefault(s.sensor_id, []).append(s)
        used: set[int] = set()
        groups = []
        for sa, sb in combinations(sorted(by_sensor), 2):
            a = [s for s in by_sensor[sa] if s.string_id not in used]
            b = [s for s in by_sensor[sb] if s.string_id not in used]
            if not a or not b:
                continue
            cost = np.array([[pair_cost(x, y) for y in b] for x in a])
            cost = np.where(cost <= self.gate, cost, FORBIDDEN)
            for i, j in zip(*linear_sum_assignment(cost), strict=True):
                if cost[i, j] < FORBIDDEN:
                    groups.append([a[i], b[j]])
                    used.update((a[i].string_id, b[j].string_id))
        return self._merge(groups)

    def _merge(self, groups: list[list[SensorString]]) -> list[list[SensorString]]:
        """Join groups of disjoint sensors that see the same object (e.g. pairs A–B and C–D)."""
        merged: list[list[SensorString]] = []
        for g in groups:
            for m in merged:
                disjoint = not {s.sensor_id for s in g} & {s.sensor_id for s in m}
                if disjoint and pair_cost(m[0], g[0]) <= self.gate and pair_cost(m[-1], g[-1]) <= self.gate:
                    m.extend(g)
                    break
            else:
                merged.append(list(g))
        return merged
