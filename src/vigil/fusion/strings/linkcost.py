"""Linking a sensor frame's detections to open strings: predicted LOS, gated costs, assignment (SI, rad).

The compiled core of :class:`~vigil.fusion.strings.stringer.GatedAssignmentStringer`, on arrays only: each open
string's 2-point LOS prediction and gate (:func:`extrapolated_los`), the in-gate entries of the ``(D, S)``
negative log-likelihood cost (:func:`_cost_edges`: only detections inside a column's window of LOS
x-component are evaluated), and the global assignment of those entries solved per connected component
(:func:`assign`: a component of one row or one column is its cheapest pair;
:func:`scipy.optimize.linear_sum_assignment` on the rest). The optimum decomposes because a pair outside the
gate costs :data:`FORBIDDEN`, far above any sum of in-gate costs: every optimal assignment first matches as
many in-gate pairs as possible, component by component.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from scipy.optimize import linear_sum_assignment

MAX_ANGULAR_RATE_RAD_S = (
    1.0e-3  # gate for a 1-detection string: 36 km/s across the line of sight at GEO range
)
GATE_SIGMAS = 6.0  # gate half-width in LOS standard deviations around the predicted LOS
PREDICTION_SIGMA_GROWTH = 3.0  # 1σ of a 2-point linear LOS prediction one frame ahead is ≈ √5·σ; rounded up
MAX_ANGULAR_ACCEL_RAD_S2 = 2.0e-5  # LOS acceleration margin (plume accel + HEO sensor motion), generous
PREDICTED_NIS_GATE = 36.0  # χ² (2 dof) gate around a filter-predicted LOS (tail probability e^-18)
FORBIDDEN = 1e6  # assignment cost of a pair outside the gate


class Predicted(NamedTuple):
    """LOS predicted for strings by something better than their own extrapolation (the events' filters)."""

    mask: np.ndarray  # (S,) bool: the prediction replaces the string's own
    los: np.ndarray  # (S, 3) unit predicted LOS
    cov: np.ndarray  # (S, 3, 3) its angular covariance, rad² (measurement noise excluded)


class Edges(NamedTuple):
    """In-gate entries of a ``(D, S)`` link cost (the rest are :data:`FORBIDDEN`), filled up to a count."""

    rows: np.ndarray  # (E,) int64: detection
    cols: np.ndarray  # (E,) int64: string
    costs: np.ndarray  # (E,) negative log-likelihood


@numba.njit(cache=True)
def extrapolated_los(pt, pu, ps, a, n, sids, t):
    """Compiled body of :func:`_predictions` on detection arrays (times ``pt``, LOS ``pu``, σ ``ps``): string
    ``sids[j]`` has ``n[sids[j]]`` detections, rows ``a[sids[j]]`` on; its prediction is from the last two (the
    last one alone: zero rate)."""
    return _predict_unmasked(pt, pu, ps, a, n, sids, t, np.zeros(sids.shape[0], dtype=np.bool_))


@numba.njit(cache=True)
def _predict_unmasked(pt, pu, ps, a, n, sids, t, mask):
    """:func:`extrapolated_los` of the strings where ``mask`` is false (the rest: zeros, unused by the cost)."""
    m = sids.shape[0]
    u = np.zeros((m, 3))
    gate = np.zeros(m)
    for j in range(m):
        if mask[j]:
            continue
        k1 = a[sids[j]] + n[sids[j]] - 1
        k0 = a[sids[j]] + max(n[sids[j]] - 2, 0)
        t0, t1 = pt[k0], pt[k1]
        rate_dt = (t - t1) / max(t1 - t0, 1e-9)
        norm = 0.0
        for c in range(3):
            u[j, c] = pu[k1, c] + (pu[k1, c] - pu[k0, c]) * rate_dt
            norm += u[j, c] * u[j, c]
        norm = math.sqrt(norm)
        for c in range(3):
            u[j, c] /= norm
        dt = abs(t - t1)
        if n[sids[j]] >= 2:
            gate[j] = (
                GATE_SIGMAS * PREDICTION_SIGMA_GROWTH * ps[k1] * max(1.0, dt)
                + MAX_ANGULAR_ACCEL_RAD_S2 * dt**2
            )
        else:
            gate[j] = GATE_SIGMAS * ps[k1] + MAX_ANGULAR_RATE_RAD_S * dt
    return u, gate


def link_costs(u, gate, los, sigma, predicted) -> np.ndarray:
    """:func:`_cost_kernel` of the own predictions ``(u, gate)`` and ``predicted`` ``(mask, u, cov)`` or None."""
    los = np.ascontiguousarray(los, dtype=float)
    sigma = np.ascontiguousarray(sigma, dtype=float)
    mask, up, cov = predicted if predicted is not None else (None, None, None)
    if mask is None or not np.any(mask):
        mask, up, cov = np.zeros(len(u), dtype=np.bool_), np.zeros((1, 3)), np.zeros((1, 3, 3))
    return _cost_kernel(
        los,
        sigma,
        u,
        gate,
        np.asarray(mask, dtype=np.bool_),
        np.ascontiguousarray(up),
        np.ascontiguousarray(cov),
    )


@numba.njit(cache=True)
def _cost_kernel(los, sigma, u, gate, mask, up, cov):
    """``(D, S)`` link costs: own extrapolation (``u``, ``gate``) where ``mask`` is false, else the predicted
    LOS ``up`` with angular covariance ``cov`` (closed-form 2×2 in the tangent plane of ``up``)."""
    cost = np.full((los.shape[0], u.shape[0]), FORBIDDEN)
    edge_i, edge_j, edge_c = _cost_edges(los, sigma, u, gate, mask, up, cov)
    for e in range(edge_i.size):
        cost[edge_i[e], edge_j[e]] = edge_c[e]
    return cost


@numba.njit(cache=True)
def _cost_edges(los, sigma, u, gate, mask, up, cov):
    """The in-gate entries of :func:`_cost_kernel` (the rest are :data:`FORBIDDEN`): ``(rows, cols, costs)``,
    by column. Only the detections whose LOS x-component lies within a column's gate are evaluated (a chord
    ≤ the angle; detections sorted by it); the rest are outside the gate by construction. Own extrapolation:
    the gate angle. Filter prediction: in the gate ``sin²θ = |z|² ≤ NIS·λ_max(S) ≤ NIS·(tr C + 2σ²_max)``
    (the tangent-plane part of ``C`` has at most its trace)."""
    n_d, n_s = los.shape[0], u.shape[0]
    order = np.argsort(los[:, 0])
    xs = los[order, 0]
    var_max = 0.0
    for i in range(n_d):
        var_max = max(var_max, sigma[i] * sigma[i])
    lo = np.empty(n_s, dtype=np.int64)
    hi = np.empty(n_s, dtype=np.int64)
    for j in range(n_s):
        if mask[j]:
            sin2 = PREDICTED_NIS_GATE * (
                abs(cov[j, 0, 0]) + abs(cov[j, 1, 1]) + abs(cov[j, 2, 2]) + 2.0 * var_max
            )
            lo[j], hi[j] = _window(xs, up[j, 0], math.asin(math.sqrt(sin2)) if sin2 < 1.0 else 2.0)
        else:
            lo[j], hi[j] = _window(xs, u[j, 0], gate[j])
    size = 0
    for j in range(n_s):
        size += hi[j] - lo[j]
    edge_i = np.empty(size, dtype=np.int64)
    edge_j = np.empty(size, dtype=np.int64)
    edge_c = np.empty(size)
    edges = Edges(edge_i, edge_j, edge_c)
    m = 0
    for j in range(n_s):
        if mask[j]:
            m = _predicted_column(los, sigma, up[j], cov[j], j, order[lo[j] : hi[j]], edges, m)
            continue
        sp = gate[j] / GATE_SIGMAS
        cos_gate = math.cos(min(gate[j], math.pi))
        for k in range(lo[j], hi[j]):
            i = order[k]
            dot = min(max(los[i, 0] * u[j, 0] + los[i, 1] * u[j, 1] + los[i, 2] * u[j, 2], -1.0), 1.0)
            if dot >= cos_gate:  # cheap pre-test; the gate itself is on the angle
                ang = math.acos(dot)
                if ang <= gate[j]:
                    edge_i[m], edge_j[m] = i, j
                    edge_c[m] = (ang / sp) ** 2 + 4.0 * math.log(sp / sigma[i])
                    m += 1
    return edge_i[:m], edge_j[:m], edge_c[:m]


@numba.njit(cache=True, inline="always")
def _window(xs, x, angle):
    """Range ``[lo, hi)`` of the sorted x-components ``xs`` within ``angle`` (rad, plus a margin far above
    the round-off of ``acos``) of ``x``: every unit vector within that angle of one with x-component ``x``."""
    w = angle * (1.0 + 1e-6) + 1e-7
    if w >= 2.0:
        return 0, xs.size
    return np.searchsorted(xs, x - w), np.searchsorted(xs, x + w, side="right")


@numba.njit(
    cache=True, inline="always"
)  # (inlined per column, as _window: a third of the frame's cost was calls)
def _predicted_column(los, sigma, u, cov, j, candidates, edges, m):
    """Column ``j`` of :func:`_cost_kernel` for a filter-predicted LOS ``u`` (3,) with covariance ``cov``
    (3, 3) rad²: NIS + ln det(S/σ²), gated at :data:`PREDICTED_NIS_GATE` and to the hemisphere ahead, for the
    detections ``candidates``; the in-gate entries go to ``edges`` (:class:`Edges`) from ``m`` on; returns the
    new count."""
    x, y, z = u[0], u[1], u[2]
    if abs(z) < 0.9:  # the helper axis and handedness of triangulate.tangent_basis
        a, b, c = -y, x, 0.0
    else:
        a, b, c = 0.0, -z, y
    n = math.sqrt(a * a + b * b + c * c)
    e1 = (a / n, b / n, c / n)
    e2 = (y * e1[2] - z * e1[1], z * e1[0] - x * e1[2], x * e1[1] - y * e1[0])
    s00 = s01 = s11 = 0.0  # e1ᵀ C e1, e1ᵀ C e2, e2ᵀ C e2 (scalars: no temporary arrays per column)
    for r in range(3):
        ce1 = cov[r, 0] * e1[0] + cov[r, 1] * e1[1] + cov[r, 2] * e1[2]
        ce2 = cov[r, 0] * e2[0] + cov[r, 1] * e2[1] + cov[r, 2] * e2[2]
        s00 += e1[r] * ce1
        s01 += e1[r] * ce2
        s11 += e2[r] * ce2
    edge_i, edge_j, edge_c = edges  # (unpacked once: a field read per entry costs a reference count)
    for i in candidates:
        var = sigma[i] * sigma[i]
        aa, bb, dd = s00 + var, s01, s11 + var
        z0 = los[i, 0] * e1[0] + los[i, 1] * e1[1] + los[i, 2] * e1[2]
        z1 = los[i, 0] * e2[0] + los[i, 1] * e2[1] + los[i, 2] * e2[2]
        det = aa * dd - bb * bb
        nis = (dd * z0 * z0 - 2.0 * bb * z0 * z1 + aa * z1 * z1) / det
        ahead = los[i, 0] * x + los[i, 1] * y + los[i, 2] * z > 0.0
        if nis <= PREDICTED_NIS_GATE and ahead:
            edge_i[m], edge_j[m] = i, j
            edge_c[m] = nis + math.log(det / var**2)
            m += 1
    return m


def assign(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pairs (within the gate) of the global assignment of ``cost`` ``(D, S)``, rows
    ascending: :func:`~scipy.optimize.linear_sum_assignment` per connected component of the in-gate pairs
    (the optimum decomposes: pairs outside the gate, at :data:`FORBIDDEN`, only fill unmatched rows); a
    component of one row or one column (most of a frame: one plume, one string) is its cheapest pair."""
    edges = (*np.nonzero(cost < FORBIDDEN), cost[cost < FORBIDDEN])
    return solve_components(*edges, *_components(cost.shape[0], cost.shape[1], *edges))


def solve_components(edge_i, edge_j, edge_c, rows, cols, label, n_multi) -> tuple[np.ndarray, np.ndarray]:
    """:func:`assign` given the in-gate entries and their :func:`_components`: the solver on each component
    left (≥ 2 rows and columns), on its own rows and columns."""
    if not n_multi:
        return rows, cols
    rows, cols = [rows], [cols]
    of_edge = np.ascontiguousarray(label[edge_i])
    edge_i, edge_j, edge_c = (np.ascontiguousarray(a) for a in (edge_i, edge_j, edge_c))
    for m in range(n_multi):
        r, c, sub = _component_cost(edge_i, edge_j, edge_c, of_edge, m)
        ri, ci = linear_sum_assignment(sub)
        good = sub[ri, ci] < FORBIDDEN
        rows.append(r[ri[good]])
        cols.append(c[ci[good]])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    order = np.argsort(rows)
    return rows[order], cols[order]


@numba.njit(cache=True)
def _component_cost(edge_i, edge_j, edge_c, of_edge, m):
    """Component ``m``'s rows and columns (ascending) and its dense cost (:data:`FORBIDDEN` off its in-gate
    entries), the solver's input, in one call (was ~10 array operations per component)."""
    sel = np.flatnonzero(of_edge == m)
    ei, ej = edge_i[sel], edge_j[sel]
    r, c = np.unique(ei), np.unique(ej)
    sub = np.full((r.size, c.size), FORBIDDEN)
    for k in range(sel.size):
        sub[np.searchsorted(r, ei[k]), np.searchsorted(c, ej[k])] = edge_c[sel[k]]
    return r, c, sub


@numba.njit(cache=True)
def frame_costs(pool, blocks, sids, t, chunk, rows, predicted):
    """One sensor frame's in-gate link costs and their components (:func:`extrapolated_los`,
    :func:`_cost_edges` and :func:`_components` in one call): detections ``rows`` of ``chunk`` at time ``t``,
    strings ``sids`` of ``pool`` (both :class:`~vigil.fusion.strings.poolarrays.DetectionRows`; the strings'
    :class:`~vigil.fusion.strings.poolarrays.Blocks` ``blocks``), with the :class:`Predicted` LOS of those
    strings. Returns the arguments of :func:`solve_components`."""
    los_all, sigma_all = chunk.los, chunk.sigma
    los = np.empty((rows.size, 3))
    sigma = np.empty(rows.size)
    for k in range(rows.size):
        sigma[k] = sigma_all[rows[k]]
        for c in range(3):
            los[k, c] = los_all[rows[k], c]
    mask = predicted.mask  # (masked strings: the filter predicts)
    u, gate = _predict_unmasked(pool.time_s, pool.los, pool.sigma, blocks.first, blocks.used, sids, t, mask)
    edge_i, edge_j, edge_c = _cost_edges(los, sigma, u, gate, mask, predicted.los, predicted.cov)
    return (edge_i, edge_j, edge_c) + _components(rows.size, sids.size, edge_i, edge_j, edge_c)


@numba.njit(cache=True)
def segment_links(pool, blocks, sids, sid_stops, ts, chunk, rows, row_stops, predicted):
    """:func:`frame_costs` of several sensor frames in one call (frame ``f``: detections
    ``rows[row_stops[f]:row_stops[f + 1]]`` of ``chunk`` at time ``ts[f]``, strings
    ``sids[sid_stops[f]:sid_stops[f + 1]]`` with their rows of ``predicted``), each frame's components solved
    where that needs no solver. Returns
    ``(ri, ci, pair_stops, n_multi, edges, edge_stops, label)``: frame ``f``'s pairs
    ``pair_stops[f]:pair_stops[f + 1]`` (positions in its rows and strings, rows ascending) and its count of
    components left to :func:`solve_components`; for such a frame (else none) its in-gate entries
    ``edges = (edge_i, edge_j, edge_c)`` ``edge_stops[f]:edge_stops[f + 1]`` and its rows' component labels
    ``label[row_stops[f]:row_stops[f + 1]]`` (what the solver takes besides the pairs)."""
    n_f = ts.size
    ri = np.empty(rows.size, dtype=np.int64)
    ci = np.empty(rows.size, dtype=np.int64)
    pair_stops = np.zeros(n_f + 1, dtype=np.int64)
    edge_stops = np.zeros(n_f + 1, dtype=np.int64)
    n_multi = np.zeros(n_f, dtype=np.int64)
    label = np.full(rows.size, -1, dtype=np.int64)
    ei = np.empty(0, dtype=np.int64)
    ej = np.empty(0, dtype=np.int64)
    ec = np.empty(0)
    m = n_e = 0
    for f in range(n_f):
        s0, s1, r0, r1 = sid_stops[f], sid_stops[f + 1], row_stops[f], row_stops[f + 1]
        if s1 > s0:
            ahead = Predicted(predicted.mask[s0:s1], predicted.los[s0:s1], predicted.cov[s0:s1])
            edge_i, edge_j, edge_c, pr, pc, lab, multi = frame_costs(
                pool, blocks, sids[s0:s1], ts[f], chunk, rows[r0:r1], ahead
            )
            for k in range(pr.size):
                ri[m], ci[m] = pr[k], pc[k]
                m += 1
            if multi:
                n_multi[f] = multi
                label[r0:r1] = lab[: r1 - r0]
                if n_e + edge_i.size > ei.size:
                    size = max(2 * ei.size, n_e + edge_i.size)
                    ei, ej, ec = _grown(ei, size, n_e), _grown(ej, size, n_e), _grown(ec, size, n_e)
                ei[n_e : n_e + edge_i.size] = edge_i
                ej[n_e : n_e + edge_i.size] = edge_j
                ec[n_e : n_e + edge_i.size] = edge_c
                n_e += edge_i.size
        pair_stops[f + 1] = m
        edge_stops[f + 1] = n_e
    return ri[:m], ci[:m], pair_stops, n_multi, (ei[:n_e], ej[:n_e], ec[:n_e]), edge_stops, label


@numba.njit(cache=True)
def _grown(a, size, n):
    """A fresh array of ``size`` holding the first ``n`` entries of ``a``."""
    out = np.empty(size, dtype=a.dtype)
    out[:n] = a[:n]
    return out


@numba.njit(cache=True)
def _components(n_d, n_s, edge_i, edge_j, edge_c):
    """Connected components of the in-gate entries ``(edge_i, edge_j, edge_c)`` of a ``(n_d, n_s)`` cost
    (nodes: rows, then columns). A component with one row (or one column) is solved here: its cheapest entry
    (the first in row-major order on a tie). Returns those pairs' ``(rows, cols)`` (rows ascending), per node
    the number of its component among the others (≥ 2 rows and ≥ 2 columns; else −1), and their count."""
    parent = np.arange(n_d + n_s)
    for e in range(edge_i.size):
        a, b = _root(parent, edge_i[e]), _root(parent, n_d + edge_j[e])
        if a != b:
            parent[max(a, b)] = min(a, b)
    n_rows = np.zeros(n_d + n_s, dtype=np.int64)
    n_cols = np.zeros(n_d + n_s, dtype=np.int64)
    for k in range(n_d + n_s):
        parent[k] = _root(parent, k)
        if k < n_d:
            n_rows[parent[k]] += 1
        else:
            n_cols[parent[k]] += 1
    best = np.full(n_d + n_s, -1, dtype=np.int64)  # per root of a one-row or one-column component
    for e in range(edge_i.size):
        r = parent[edge_i[e]]
        if n_rows[r] == 1 or n_cols[r] == 1:
            b = best[r]
            if b < 0:
                best[r] = e
                continue
            c, cb = edge_c[e], edge_c[b]
            if c < cb or (c == cb and (edge_i[e], edge_j[e]) < (edge_i[b], edge_j[b])):
                best[r] = e
    rows = np.empty(n_d, dtype=np.int64)
    cols = np.empty(n_d, dtype=np.int64)
    n_pairs = 0
    for i in range(n_d):  # rows ascending
        e = best[parent[i]]
        if e >= 0 and edge_i[e] == i:
            rows[n_pairs], cols[n_pairs] = i, edge_j[e]
            n_pairs += 1
    label = np.full(n_d + n_s, -1, dtype=np.int64)
    number = np.full(n_d + n_s, -1, dtype=np.int64)
    n_multi = 0
    for k in range(n_d + n_s):
        r = parent[k]
        if n_rows[r] > 1 and n_cols[r] > 1:
            if number[r] < 0:
                number[r] = n_multi
                n_multi += 1
            label[k] = number[r]
    return rows[:n_pairs], cols[:n_pairs], label, n_multi


@numba.njit(cache=True, inline="always")
def _root(parent, k):
    """Union-find root of ``k`` (path halving)."""
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k
