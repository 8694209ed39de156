"""The compiled steps of one linking update of :class:`~vigil.fusion.strings.stringer.GatedAssignmentStringer`: which
strings are open for each sensor frame (:func:`open_heads`), the order a segment's linked and new detections are
appended in (:func:`link_placements`), and which strings are forgotten as stale (:func:`forget_stale`)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def open_heads(last, ids, id_stops, ct, cpos, rows, row_stops, max_gap):
    """Body of :meth:`GatedAssignmentStringer._open_columns`: frame ``f`` (rows ``rows[row_stops[f]:row_stops[f +
    1]]`` of the chunk arrays ``ct, cpos``; its time ``ts[f]`` and sensor position those of its first row) has open
    strings ``ids[id_stops[f]:id_stops[f + 1]]`` (last detection times ``last[id]``). Returns which are alive
    (``ts[f] − last ≤ max_gap``), each frame's count of the others, the alive strings each frame may extend (last
    detection earlier): their ids ``sids``, positions ``cols`` among the frame's alive ones, and ``sid_stops``;
    then ``ts`` and, per string of ``sids``, its frame's time and sensor position (what the predictor takes)."""
    n_f = row_stops.size - 1
    ts = np.empty(n_f)
    alive = np.empty(ids.size, dtype=np.bool_)
    n_dead = np.zeros(n_f, dtype=np.int64)
    sids = np.empty(ids.size, dtype=np.int64)
    cols = np.empty(ids.size, dtype=np.int64)
    st = np.empty(ids.size)
    spos = np.empty((ids.size, 3))
    sid_stops = np.zeros(n_f + 1, dtype=np.int64)
    m = 0
    for f in range(n_f):
        head = rows[row_stops[f]]
        t = ts[f] = ct[head]
        k = 0  # position among the frame's alive strings
        for e in range(id_stops[f], id_stops[f + 1]):
            age = last[ids[e]]
            alive[e] = t - age <= max_gap
            if not alive[e]:
                n_dead[f] += 1
                continue
            if age < t:
                sids[m], cols[m], st[m] = ids[e], k, t
                for c in range(3):
                    spos[m, c] = cpos[head, c]
                m += 1
            k += 1
        sid_stops[f + 1] = m
    return alive, n_dead, sids[:m], cols[:m], sid_stops, ts, st[:m], spos[:m]


@numba.njit(cache=True)
def forget_stale(known, n, last, now, max_gap, min_n):
    """Body of :meth:`GatedAssignmentStringer.prune` (one pass instead of five array operations per step): the
    known strings with fewer than ``min_n`` detections, the last over ``max_gap`` before ``now``; unmarks
    them in ``known`` and returns their ids, ascending."""
    out = np.empty(known.size, dtype=np.int64)
    m = 0
    for k in range(known.size):
        if known[k] and n[k] < min_n and now - last[k] > max_gap:
            known[k] = False
            out[m] = k
            m += 1
    return out[:m]


@numba.njit(cache=True)
def link_placements(ri, ci, pair_stops, rows, row_stops, sids, cols, sid_stops):
    """A segment's detections in the order they are appended: frame by frame, the linked ones (pairs ``ri, ci``
    ``pair_stops[f]:pair_stops[f + 1]``: positions in the frame's rows and strings), then the rest (new
    strings) in row order. Returns ``(rows, ids, pos, n_linked)``: chunk rows, string ids (0 for a new
    string), positions in the frame's open strings (−1: new), and each frame's count of linked ones (frame
    ``f``'s placements are ``row_stops[f]:row_stops[f + 1]``, as its rows)."""
    n_f = row_stops.size - 1
    app_rows = np.empty(rows.size, dtype=np.int64)
    app_ids = np.zeros(rows.size, dtype=np.int64)
    app_pos = np.full(rows.size, -1, dtype=np.int64)
    n_linked = np.zeros(n_f, dtype=np.int64)
    linked = np.zeros(rows.size, dtype=np.bool_)
    for f in range(n_f):
        m = row_stops[f]
        for p in range(pair_stops[f], pair_stops[f + 1]):
            r, c = row_stops[f] + ri[p], sid_stops[f] + ci[p]
            app_rows[m], app_ids[m], app_pos[m] = rows[r], sids[c], cols[c]
            linked[r] = True
            m += 1
        n_linked[f] = m - row_stops[f]
        for r in range(row_stops[f], row_stops[f + 1]):
            if not linked[r]:
                app_rows[m] = rows[r]
                m += 1
    return app_rows, app_ids, app_pos, n_linked
