"""Where late detections go in the strings the engine holds: :func:`placements` gates each late row against its
sensor's strings, :func:`insert` writes the placed rows into the strings' pool blocks in time order.
:mod:`vigil.fusion.oosm.retrodict` (the module docstring says when a row is placed) uses both.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from vigil.fusion.strings.base import Stringer
from vigil.fusion.strings.linkcost import GATE_SIGMAS, MAX_ANGULAR_ACCEL_RAD_S2, PREDICTION_SIGMA_GROWTH
from vigil.fusion.strings.poolarrays import DetectionRows
from vigil.fusion.strings.sensorstring import SensorString
from vigil.fusion.strings.stringpool import StringPool
from vigil.records import ObservationBatch

OUTSIDE_FRAMES = (
    3.0  # a row before or after a string's span extends it only within this many of its end frames
)
SAME_FRAME = (
    0.5  # a row this fraction of the string's frame spacing from one of its detections is of its frame
)
NEAR_GATES = 30.0  # a row not placed but within this many gates of a string's LOS is the stringer's to decide


@numba.njit(cache=True)
def _bracket(pt, k0, k, t):
    """``(i, i0, i1)``: the first of a string's ``k`` detection times ``pt[k0:k0+k]`` later than ``t``
    (searchsorted right) and the two detections that bracket ``t`` (the end pair outside the span)."""
    lo, hi = 0, k
    while lo < hi:
        mid = (lo + hi) // 2
        if pt[k0 + mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    if lo == 0:
        return lo, 0, 1
    if lo == k:
        return lo, k - 2, k - 1
    return lo, lo - 1, lo


@numba.njit(cache=True)
def _gate_kernel(pooled, blocks, sids, late, max_gap):
    """For each late row ``r`` (:class:`~vigil.fusion.strings.poolarrays.DetectionRows` ``late``) and the strings
    ``sids`` of its sensor (rows ``pooled`` of the pool, each string's block in ``blocks``): how many strings
    gate it, the best one (index into ``sids``; -1: none) and whether that string has a detection in the row's
    frame. Strings whose span holds the row's time (interpolated) come first: those that would only extend to it
    count where none does."""
    pt, pu, ps = pooled.time_s, pooled.los, pooled.sigma  # (unpacked once: a field read in a loop costs)
    a, n = blocks.first, blocks.used
    rt, ru, rs = late.time_s, late.los, late.sigma
    m = rt.size
    count = np.zeros((m, 2), dtype=np.int64)  # [inside the span, outside]
    best = np.full((m, 2), -1, dtype=np.int64)
    same = np.zeros((m, 2), dtype=np.bool_)
    score = np.full((m, 2), np.inf)
    close = np.zeros(m, dtype=np.bool_)
    for r in range(m):
        t = rt[r]
        for j in range(sids.size):
            sid = sids[j]
            k0, k = a[sid], n[sid]
            if k < 2 or t < pt[k0] - max_gap or t > pt[k0 + k - 1] + max_gap:
                continue
            i, i0, i1 = _bracket(pt, k0, k, t)
            t0, t1 = pt[k0 + i0], pt[k0 + i1]
            f = (t - t0) / max(t1 - t0, 1e-9)
            norm, dot = 0.0, 0.0
            for c in range(3):
                v = pu[k0 + i0, c] + f * (pu[k0 + i1, c] - pu[k0 + i0, c])
                norm += v * v
                dot += v * ru[r, c]
            angle = math.acos(min(1.0, max(-1.0, dot / math.sqrt(norm))))
            near = i0 if abs(t - t0) <= abs(t - t1) else i1
            dt = abs(t - pt[k0 + near])
            gate = (
                GATE_SIGMAS * PREDICTION_SIGMA_GROWTH * max(rs[r], ps[k0 + near]) * max(1.0, dt)
                + MAX_ANGULAR_ACCEL_RAD_S2 * dt * dt
            )
            side = 0 if 0 < i < k else 1
            close[r] |= angle <= NEAR_GATES * gate
            if angle > gate or (side == 1 and dt > OUTSIDE_FRAMES * (t1 - t0)):
                continue
            count[r, side] += 1
            if angle / gate < score[r, side]:
                score[r, side] = angle / gate
                best[r, side] = j
                spacing = np.inf  # the string's frame spacing near the row
                for q in range(max(i - 2, 0), min(i + 2, k - 1)):
                    spacing = min(spacing, pt[k0 + q + 1] - pt[k0 + q])
                same[r, side] = dt < SAME_FRAME * spacing
    side = (count[:, 0] == 0).astype(np.int64)
    rows = np.arange(m)
    return count[rows, side], best[rows, side], same[rows, side], close


def _late_rows(rows: ObservationBatch) -> DetectionRows:
    """Late rows as the pool's kernels take them (contiguous, the observation id as the row's index)."""
    return DetectionRows(
        rows.time_s,
        np.ascontiguousarray(rows.sensor_pos_ecef_m),
        np.ascontiguousarray(rows.los_ecef),
        rows.los_sigma_rad,
        rows.obs_id.astype(np.int64),
    )


def placements(
    stringer: Stringer, rows: ObservationBatch
) -> tuple[np.ndarray, list[SensorString], np.ndarray, np.ndarray] | None:
    """Where ``rows`` (light-time corrected) go: ``(placed, strings, sids)`` — the rows each continuing one
    known string, sorted by string then time, those strings (one per placed row) and their ids — and the
    ``rest`` (rows that continue none) as ``(placed, strings, sids, rest)``; None when a row is ambiguous (two
    strings take it, or it falls in a frame of the string or of another late row of it), or the stringer keeps
    no pool (:attr:`~vigil.fusion.strings.stringer.Stringer.pool`)."""
    pool = stringer.pool
    if pool is None:
        return None
    by_sensor: dict[str, list[SensorString]] = {}
    for s in stringer.strings.values():
        by_sensor.setdefault(s.sensor_id, []).append(s)
    sensor = rows.sensor_id
    chosen = np.full(len(rows), -1, dtype=np.int64)
    owners: dict[int, SensorString] = {}
    late = _late_rows(rows)  # (once: each sensor's kernel call takes its rows of it)
    for name in np.unique(sensor).tolist():
        mine = np.flatnonzero(sensor == name)
        strings = by_sensor.get(name, [])
        if not strings:
            continue
        sids = np.array([s.string_id for s in strings], dtype=np.int64)
        count, best, same, near = _gate_kernel(
            pool.rows(),
            pool.blocks(),
            sids,
            DetectionRows(*(column[mine] for column in late)),
            float(stringer.max_gap_s),
        )
        if np.any(count > 1):
            return None
        hit = (count == 1) & ~same  # (a row in a frame of its string: a second object or clutter, loose)
        if np.any(
            near & ~hit
        ):  # (near a string but not placed: the stringer's gate of its event's filter decides)
            return None
        chosen[mine[hit]] = sids[best[hit]]
        owners.update((int(sids[j]), strings[j]) for j in np.unique(best[hit]).tolist())
    placed = np.flatnonzero(chosen >= 0)
    placed = placed[np.lexsort((rows.time_s[placed], chosen[placed]))]
    sid = chosen[placed]
    if placed.size > 1:
        t = rows.time_s[placed]
        pair = sid[1:] == sid[:-1]
        if (
            pair.any()
        ):  # two late rows of one string closer than its frames: one frame (second object, clutter)
            spacing = np.array([np.min(np.diff(owners[int(j)].times)) for j in sid[1:][pair].tolist()])
            if np.any(np.diff(t)[pair] < SAME_FRAME * spacing):
                return None
    return placed, [owners[j] for j in sid.tolist()], sid, np.flatnonzero(chosen < 0)


@numba.njit(cache=True)
def _insert_kernel(pooled, blocks, sids, late):
    """Insert the rows of ``late`` into the pool blocks (``blocks`` of rows ``pooled``) of strings ``sids`` (one
    per row; blocks large enough) in time order: the later detections shift by one row."""
    t, p, u, s, i = pooled.time_s, pooled.pos, pooled.los, pooled.sigma, pooled.batch_index
    a, n = blocks.first, blocks.used
    rt, rp, ru, rs, ri = late.time_s, late.pos, late.los, late.sigma, late.batch_index
    for r in range(sids.size):
        j = sids[r]
        k0 = a[j]
        q = n[j]
        while q > 0 and t[k0 + q - 1] > rt[r]:
            d, e = k0 + q, k0 + q - 1
            t[d], s[d], i[d] = t[e], s[e], i[e]
            for c in range(3):
                p[d, c] = p[e, c]
                u[d, c] = u[e, c]
            q -= 1
        d = k0 + q
        t[d], s[d], i[d] = rt[r], rs[r], ri[r]
        for c in range(3):
            p[d, c] = rp[r, c]
            u[d, c] = ru[r, c]
        n[j] += 1


def insert(pool: StringPool, strings: list[SensorString], sids: np.ndarray, rows: ObservationBatch) -> None:
    """Insert ``rows`` (one per string of ``strings``, ids ``sids``) into their pooled strings in time order, in
    place (a full block moves first to one twice its size)."""
    unique, first, extra = np.unique(sids, return_index=True, return_counts=True)
    touched = [strings[k] for k in first.tolist()]
    for s, m in zip(touched, extra.tolist(), strict=True):
        cap = int(pool.cap[s.string_id])
        if len(s) + m > cap:
            while cap < len(s) + m:
                cap *= 2
            pool.move(s, cap)
    _insert_kernel(pool.rows(), pool.blocks(), sids, _late_rows(rows))
    for s, n in zip(touched, pool.n[unique].tolist(), strict=True):
        s.set_count(n)
