"""A chunk's new detections grouped for the events' filters, and the filters' verdicts counted per string.

The engine runs every live event's filter over its strings' new detections of a chunk in one compiled call
(:func:`~vigil.fusion.boost.batch.run_filters`), each event's rows in time order. Which rows go where is index
bookkeeping over a few hundred rows per chunk: done here in one compiled call each way instead of ~30 small
numpy operations (whose fixed cost was most of the stage).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def filter_rows(sid, row, changed_ids, event_of, time_s, recent):
    """Rows for :func:`~vigil.fusion.boost.batch.run_filters`.

    ``sid``, ``row`` ``(R,)``: the stringer's appends of the chunk (string id, chunk row) in append order;
    ``changed_ids`` ``(U,)``: the changed strings in the order they were first appended to; ``event_of``
    ``(U,)``: each one's live event (index) or -1. Each string's last ``recent`` rows are taken, strings in
    ``changed_ids`` order and each string's rows in append order (the arrival order); events are numbered as
    they first appear in it. Returns ``(rows (K,)`` grouped by event and time-sorted within one (stable: arrival
    order on ties), ``stops (E,)``, ``events (E,)`` (their ``event_of`` values), ``strings (S,)`` (positions
    in ``changed_ids`` of the strings taken, in that order), ``which (K,)`` (each row's position in
    ``strings``)``)``.
    """
    n_u = changed_ids.size
    top = max(changed_ids.max() if n_u else 0, sid.max() if sid.size else 0)
    rank_of = np.full(top + 1, -1, dtype=np.int64)  # (an append of a string not in `changed_ids` is ignored)
    for r in range(n_u):
        rank_of[changed_ids[r]] = r
    count = np.zeros(n_u + 1, dtype=np.int64)
    for k in range(sid.size):
        if rank_of[sid[k]] >= 0:
            count[rank_of[sid[k]] + 1] += 1
    start = np.cumsum(count)  # rank r's rows are arrival[start[r]:start[r + 1]]
    fill = start[:-1].copy()
    arrival = np.empty(sid.size, dtype=np.int64)
    for k in range(sid.size):
        r = rank_of[sid[k]]
        if r >= 0:
            arrival[fill[r]] = row[k]
            fill[r] += 1
    number = np.full(event_of.max() + 1 if n_u else 1, -1, dtype=np.int64)
    events = np.empty(n_u, dtype=np.int64)
    strings = np.empty(n_u, dtype=np.int64)
    rows = np.empty(sid.size, dtype=np.int64)
    owner = np.empty(sid.size, dtype=np.int64)
    which = np.empty(sid.size, dtype=np.int64)
    n_e = n_s = n_k = 0
    for r in range(n_u):
        e = event_of[r]
        if e < 0 or start[r] == start[r + 1]:
            continue
        if number[e] < 0:
            number[e] = n_e
            events[n_e] = e
            n_e += 1
        strings[n_s] = r
        for a in range(max(start[r], start[r + 1] - recent), start[r + 1]):
            rows[n_k], owner[n_k], which[n_k] = arrival[a], number[e], n_s
            n_k += 1
        n_s += 1
    rows, stops, which = _by_event_then_time(rows[:n_k], owner[:n_k], which[:n_k], n_e, time_s)
    return rows, stops, events[:n_e], strings[:n_s], which


@numba.njit(cache=True)
def _by_event_then_time(rows, owner, which, n_e, time_s):
    """``(rows, stops, which)`` regrouped by ``owner`` (0…n_e−1) and time-sorted within each group (stable: the
    order of a stable argsort, for finite times)."""
    stops = np.zeros(n_e, dtype=np.int64)
    for k in range(rows.size):
        stops[owner[k]] += 1
    stops = np.cumsum(stops)
    fill = np.concatenate((np.zeros(1, dtype=np.int64), stops[:-1]))
    grouped = np.empty(rows.size, dtype=np.int64)
    for k in range(rows.size):
        grouped[fill[owner[k]]] = k
        fill[owner[k]] += 1
    lo = 0
    for e in range(n_e):  # stable insertion sort of each group by time (a few rows each: no argsort arrays)
        for a in range(lo + 1, stops[e]):
            k, t = grouped[a], time_s[rows[grouped[a]]]
            b = a
            while b > lo and time_s[rows[grouped[b - 1]]] > t:
                grouped[b] = grouped[b - 1]
                b -= 1
            grouped[b] = k
        lo = stops[e]
    return rows[grouped], stops, which[grouped]


@numba.njit(cache=True)
def rejection_counts(which, accepted, old, stops, cut):
    """Consecutive rejections per string after this chunk's verdicts (``accepted`` per row, rows grouped by
    event up to ``stops`` and time-ordered within one; ``which``: each row's string; ``old``: counts before),
    and the cut candidates ``(event, string)`` pairs: strings at ≥ ``cut`` in events whose filter accepted
    some but not all of their rows, per event in order of the strings' first rows."""
    count = old.copy()
    for k in range(which.size):
        count[which[k]] = 0 if accepted[k] else count[which[k]] + 1
    cand_e = np.empty(which.size, dtype=np.int64)
    cand_s = np.empty(which.size, dtype=np.int64)
    seen = np.full(old.size, -1, dtype=np.int64)
    n = lo = 0
    for e in range(stops.size):
        hi = stops[e]
        n_ok = 0
        for k in range(lo, hi):
            n_ok += 1 if accepted[k] else 0
        if 0 < n_ok < hi - lo:
            for k in range(lo, hi):
                j = which[k]
                if seen[j] != e and count[j] >= cut:
                    cand_e[n], cand_s[n] = e, j
                    n += 1
                seen[j] = e
        lo = hi
    return count, cand_e[:n], cand_s[:n]
