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

import math
from abc import ABC, abstractmethod
from itertools import accumulate, combinations

import numba
import numpy as np
from scipy.optimize import linear_sum_assignment

from vigil.fusion.association.rays import triangulate_instants
from vigil.fusion.strings.linkcost import FORBIDDEN
from vigil.fusion.strings.stringer import SensorString, interpolate_rays

GATE_CHI2_MEAN = 9.0  # mean normalised miss² accepted (true pairs average 1; 9 leaves room for heavy tails)
MIN_OVERLAP = 2  # common instants needed before two strings may be paired
MIN_RANGE_M = 1.0e6  # a closest approach nearer than this to a sensor (or behind it) is not a target

Detections = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray
]  # (t (T,) s, pos (T, 3) m, los (T, 3), σ (T,) rad)
Seeds = tuple[
    np.ndarray, np.ndarray | None
]  # triangulated (times (K,) s, points (K, 3) m; None: not triangulated)


def pair_cost(a: SensorString, b: SensorString) -> float:
    """Mean normalised miss² of ``a``'s rays against ``b`` interpolated to ``a``'s times (inf if unusable)."""
    ta, pa, ua, sa = a.arrays()
    tb, pb, ub, sb = b.arrays()
    return _pair_cost(ta, pa, ua, sa, tb, pb, ub, float(sb[-1]))


def _stacked(strings: list[SensorString]):
    """The strings' arrays and rows: ``(t, p, u, sigma, starts, stops)``, string ``k`` at rows
    ``starts[k]:stops[k]``. Strings all in the current rows of one
    :class:`~vigil.fusion.strings.stringpool.StringPool` (the engine's) are read there, in place (the four
    concatenations and ``arrays()`` views cost ~45 µs a call); others are concatenated."""
    pool = strings[0].pool
    if pool is not None and all(s.t_rows.base is pool.t for s in strings):
        rows = np.array([(s.block_start, s.count) for s in strings], dtype=np.int64)
        return pool.t, pool.p, pool.u, pool.s, rows[:, 0], rows[:, 0] + rows[:, 1]
    parts = [s.arrays() for s in strings]
    sizes = np.array([a[0].size for a in parts], dtype=np.int64)
    stops = np.cumsum(sizes)
    return (*(np.concatenate([a[k] for a in parts]) for k in range(4)), stops - sizes, stops)


@numba.njit(cache=True, error_model="numpy")
def _cost_matrix(t, p, u, sigma, starts, stops, ia, ib, gate):
    """``(A, B)`` :func:`pair_cost` of strings ``ia`` against strings ``ib`` of :func:`_stacked` arrays, gated:
    costs above ``gate`` (or NaN) are :data:`FORBIDDEN`."""
    cost = np.empty((ia.size, ib.size))
    for i in range(ia.size):
        a0, a1 = starts[ia[i]], stops[ia[i]]
        for j in range(ib.size):
            b0, b1 = starts[ib[j]], stops[ib[j]]
            c = _pair_cost(
                t[a0:a1], p[a0:a1], u[a0:a1], sigma[a0:a1], t[b0:b1], p[b0:b1], u[b0:b1], sigma[b1 - 1]
            )
            cost[i, j] = c if c <= gate else FORBIDDEN
    return cost


@numba.njit(cache=True, error_model="numpy")
def _closest(p1, u1, p2, u2):
    """:func:`~vigil.fusion.geometry.triangulate.closest_approach` of one ray pair, compiled: ``(miss, s, t)``."""
    w0, w1, w2 = p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]
    b = u1[0] * u2[0] + u1[1] * u2[1] + u1[2] * u2[2]
    d = u1[0] * w0 + u1[1] * w1 + u1[2] * w2
    e = u2[0] * w0 + u2[1] * w1 + u2[2] * w2
    den = 1.0 - b * b
    s = (b * e - d) / den
    t = (e - b * d) / den
    miss = 0.0
    for c in range(3):
        q = p1[c] + s * u1[c] - p2[c] - t * u2[c]
        miss += q * q
    return math.sqrt(miss), s, t


@numba.njit(cache=True, error_model="numpy")
def _pair_cost(ta, pa, ua, sa, tb, pb, ub, sigma_b):
    """Compiled :func:`pair_cost` on the two strings' arrays (``sigma_b``: ``b``'s latest σ)."""
    pbi, ubi = interpolate_rays(tb, pb, ub, ta)
    total = 0.0
    count = 0
    for k in range(ta.size):
        if not (np.isfinite(ubi[k, 0]) and np.isfinite(ubi[k, 1]) and np.isfinite(ubi[k, 2])):
            continue
        miss, s, t = _closest(pa[k], ua[k], pbi[k], ubi[k])
        if s < MIN_RANGE_M or t < MIN_RANGE_M:
            return np.inf
        total += miss * miss / ((sa[k] * s) ** 2 + (sigma_b * t) ** 2)
        count += 1
    if count < MIN_OVERLAP:
        return np.inf
    return total / count


def triangulation_seeds(strings: list[SensorString]):
    """Triangulated points at the detection times of the longest string: ``(times (T,), points (T, 3))``.

    Every other sensor's strings are interpolated to those times (:meth:`SensorString.interpolate`, latest σ);
    instants seen by < 2 rays are dropped; each point is :func:`~vigil.fusion.geometry.triangulate.triangulate` of its
    rays (compiled, one call for all instants)."""
    ref = max(strings, key=len)
    others = [s for s in strings if s is not ref and s.sensor_id != ref.sensor_id]
    t, p, u, sigma = ref.arrays()
    if not others:
        return np.zeros(0), np.zeros((0, 3))
    parts = [s.arrays() for s in others]
    if len(parts) == 1:  # one other string: its arrays as they are (no copies)
        ot, op, ou, os_ = parts[0]
        stops = np.array([ot.size])
        osig = os_[-1:]
    else:
        stops = np.cumsum(np.array([a[0].size for a in parts]))
        ot, op, ou = (np.concatenate([a[k] for a in parts]) for k in range(3))
        osig = np.array([a[3][-1] for a in parts])
    pts, keep = _seeds(t, p, u, sigma, ot, op, ou, osig, stops)
    return t[keep], pts[keep]


def detections_and_seeds(strings: list[SensorString], triangulate: bool = True) -> tuple[Detections, Seeds]:
    """All detections of ``strings`` time-sorted and their :func:`triangulation_seeds`, in one compiled call:
    ``((t, pos, los, sigma), (seed_times, seed_points))``, the same values as
    :meth:`~vigil.fusion.events.event.FusedEvent.detections` (stable sort) and :func:`triangulation_seeds` (the launch
    refit needs both; separately they cost ~70 µs of Python). Strings in the current rows of one
    :class:`~vigil.fusion.strings.stringpool.StringPool` (the engine's) are read there (:func:`_pooled_sorted_and_seeds`:
    no ``arrays()`` views or four concatenations: ~8 of ~15 µs a launch refit's call); others are concatenated.
    ``triangulate`` False: the seed times only, ``seed_points`` None (a warm-started refit needs the points
    only if its fit fails; the triangulation is most of the compiled time)."""
    pool = strings[0].pool
    if pool is not None:
        base = pool.t
        ref_string, longest = strings[0], -1
        for s in strings:
            if (
                s.t_rows.base is not base
            ):  # not a block of the pool's current arrays (a string pruned before it moved)
                break
            if s.count > longest:  # (the first longest: max(strings, key=len))
                ref_string, longest = s, s.count
        else:
            ref_sensor = ref_string.sensor_id
            rows = np.array(
                [(s.block_start, s.count, s.sensor_id != ref_sensor) for s in strings], dtype=np.int64
            )
            detections, times, points = _pooled_sorted_and_seeds(
                base, pool.p, pool.u, pool.s, rows, strings.index(ref_string), triangulate
            )
            return detections, (times, points if triangulate else None)
    parts = [s.arrays() for s in strings]
    sizes = [a[0].size for a in parts]
    ref = sizes.index(max(sizes))  # max(strings, key=len)
    ref_string = strings[ref]
    ref_sensor = ref_string.sensor_id
    other = np.array([s is not ref_string and s.sensor_id != ref_sensor for s in strings])
    t, p, u, sigma = zip(*parts, strict=True)
    detections, times, points = _sorted_and_seeds(
        np.concatenate(t),
        np.concatenate(p),
        np.concatenate(u),
        np.concatenate(sigma),
        np.array(list(accumulate(sizes))),
        ref,
        other,
        triangulate,
    )
    return detections, (times, points if triangulate else None)


@numba.njit(cache=True, error_model="numpy")
def _sorted_and_seeds(t, p, u, sigma, stops, ref, other, triangulate):
    """Compiled core of :func:`detections_and_seeds` (string ``j`` ends at ``stops[j]``; ``ref``: the longest,
    ``other``: the strings of other sensors than its): ``((t, p, u, σ) sorted, seed times, seed points)``."""
    order = np.argsort(t, kind="mergesort")  # stable
    starts = np.empty_like(stops)
    starts[0] = 0
    starts[1:] = stops[:-1]
    times, points = _ref_seeds(t, p, u, sigma, starts, stops, ref, other, triangulate)
    return (t[order], p[order], u[order], sigma[order]), times, points


@numba.njit(cache=True, error_model="numpy")
def _pooled_sorted_and_seeds(t, p, u, sigma, rows, ref, triangulate):
    """:func:`_sorted_and_seeds` of strings stored in the pool arrays ``t, p, u, sigma``: string ``j`` is
    rows ``rows[j, 0]`` on, ``rows[j, 1]`` long, ``rows[j, 2]`` 1 if of another sensor than ``ref``'s. Strings
    in time order (as the stringer keeps them) are merged, the earlier string first on ties: the order of
    a stable sort of their concatenation (which is made otherwise)."""
    starts, stops = rows[:, 0].copy(), rows[:, 0] + rows[:, 1]
    idx = np.empty(rows[:, 1].sum(), dtype=np.int64)  # pool rows in stable time order
    runs = True
    m = 0
    for j in range(starts.size):
        for i in range(starts[j], stops[j]):
            idx[m] = i  # the concatenation's rows
            m += 1
            if i > starts[j] and not t[i] >= t[i - 1]:
                runs = False
    if runs:
        head = starts.copy()
        for k in range(idx.size):
            best = -1
            for j in range(head.size):
                if head[j] < stops[j] and (best < 0 or t[head[j]] < t[head[best]]):
                    best = j
            idx[k] = head[best]
            head[best] += 1
    else:
        idx = idx[np.argsort(t[idx], kind="mergesort")]
    ts, ps, us, ss = np.empty(idx.size), np.empty((idx.size, 3)), np.empty((idx.size, 3)), np.empty(idx.size)
    for k in range(idx.size):  # (a loop: numba's p[idx] costs ~10 ns a row)
        i = idx[k]
        ts[k], ss[k] = t[i], sigma[i]
        for c in range(3):
            ps[k, c] = p[i, c]
            us[k, c] = u[i, c]
    times, points = _ref_seeds(t, p, u, sigma, starts, stops, ref, rows[:, 2] != 0, triangulate)
    return (ts, ps, us, ss), times, points


@numba.njit(cache=True, error_model="numpy")
def _ref_seeds(t, p, u, sigma, starts, stops, ref, other, triangulate):
    """The seeds of :func:`_sorted_and_seeds`: string ``ref``'s instants (rows ``starts[ref]:stops[ref]``)
    with the ``other`` strings interpolated to them, triangulated: ``(seed times, seed points)``."""
    lo, hi = starts[ref], stops[ref]
    tr, pr, ur, sr = t[lo:hi], p[lo:hi], u[lo:hi], sigma[lo:hi]
    n_other = 0
    for j in range(stops.size):
        n_other += other[j]
    ip = np.empty((n_other, tr.size, 3))
    iu = np.empty((n_other, tr.size, 3))
    osig = np.empty(n_other)
    m = 0
    for j in range(stops.size):
        if other[j]:
            lo, hi = starts[j], stops[j]
            ip[m], iu[m] = interpolate_rays(t[lo:hi], p[lo:hi], u[lo:hi], tr)
            osig[m] = sigma[hi - 1]
            m += 1
    pts, keep = triangulate_instants(pr, ur, sr, ip, iu, osig, triangulate)  # none kept without others
    return tr[keep], pts[keep]


@numba.njit(cache=True, error_model="numpy")
def _seeds(t, p, u, sigma, ot, op, ou, osig, stops):
    """Compiled core of :func:`triangulation_seeds` (others' rays concatenated, string ``j`` ending at
    ``stops[j]``): ``(points (T, 3), keep (T,))``. Each other string is interpolated to all of ``t`` in one
    call (per instant the same arithmetic as one at a time)."""
    n_other = stops.size
    ip = np.empty((n_other, t.size, 3))
    iu = np.empty((n_other, t.size, 3))
    lo = 0
    for j in range(n_other):
        hi = stops[j]
        ip[j], iu[j] = interpolate_rays(ot[lo:hi], op[lo:hi], ou[lo:hi], t)
        lo = hi
    return triangulate_instants(p, u, sigma, ip, iu, osig, True)


class Associator(ABC):
    """Base of associators: unassigned confirmed strings → groups (lists) seen as one object."""

    @abstractmethod
    def pair(self, strings: list[SensorString]) -> list[list[SensorString]]: ...


class MissDistanceAssociator(Associator):
    """Pairs by sensor pair with global assignment on :func:`pair_cost` (see module docstring)."""

    def __init__(self, gate_chi2_mean: float = GATE_CHI2_MEAN) -> None:
        self.gate = gate_chi2_mean

    def pair(self, strings: list[SensorString]) -> list[list[SensorString]]:
        """Groups of ``strings`` seen as one object. The gated pair costs of each sensor pair are one compiled
        call on the strings' rows (:func:`_stacked`, :func:`_cost_matrix`; :func:`pair_cost` per entry)."""
        by_sensor: dict[str, list[int]] = {}
        for k, s in enumerate(strings):
            by_sensor.setdefault(s.sensor_id, []).append(k)
        if len(by_sensor) < 2:
            return []
        stacked = _stacked(strings)
        gate = float(self.gate)
        used: set[int] = set()
        groups = []
        for sa, sb in combinations(sorted(by_sensor), 2):
            ia = [k for k in by_sensor[sa] if strings[k].string_id not in used]
            ib = [k for k in by_sensor[sb] if strings[k].string_id not in used]
            if not ia or not ib:
                continue
            cost = _cost_matrix(*stacked, np.array(ia, dtype=np.int64), np.array(ib, dtype=np.int64), gate)
            rows, cols = linear_sum_assignment(cost)
            for i, j, c in zip(rows.tolist(), cols.tolist(), cost[rows, cols].tolist(), strict=True):
                if c < FORBIDDEN:
                    a, b = strings[ia[i]], strings[ib[j]]
                    groups.append([a, b])
                    used.update((a.string_id, b.string_id))
        return self._merge(groups)

    def _merge(self, groups: list[list[SensorString]]) -> list[list[SensorString]]:
        """Join groups of disjoint sensors that see the same object (e.g. pairs A–B and C–D): see
        :func:`groups_agree`."""
        merged: list[list[SensorString]] = []
        for g in groups:
            for m in merged:
                disjoint = not {s.sensor_id for s in g} & {s.sensor_id for s in m}
                if disjoint and groups_agree(m, g, self.gate):
                    m.extend(g)
                    break
            else:
                merged.append(list(g))
        return merged


def overlap_cost(a: SensorString, b: SensorString) -> float:
    """:func:`pair_cost` of ``a`` and ``b`` in the direction that has the common instants: each string's rays
    against the other interpolated to its times (a young string of 2 frames may have only one instant inside
    the other's span while the other has two inside its own: asynchronous 1 s frames); inf where neither has
    :data:`MIN_OVERLAP`. The lower of the two where both are finite (each is the mean normalised miss² of the
    same rays' geometry)."""
    return min(pair_cost(a, b), pair_cost(b, a))


def groups_agree(m: list[SensorString], g: list[SensorString], gate: float) -> bool:
    """True when two groups of disjoint sensors see one object: every cross pair of strings that has common
    instants (:func:`overlap_cost` finite) is within ``gate``, and every string of ``g`` has such a pair with a
    string of ``m``. (Pairs formed in one chunk by two sensor pairs from their first 2–3 frames: requiring two
    fixed pairs to overlap split one object into two events, each issued, one of them never resolved.)"""
    matched = [False] * len(g)
    for x in m:
        for k, y in enumerate(g):
            c = overlap_cost(x, y)
            if c > gate and math.isfinite(c):
                return False
            matched[k] = matched[k] or c <= gate
    return all(matched)
