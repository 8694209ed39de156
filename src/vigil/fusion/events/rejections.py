"""Strings the boost filter keeps rejecting: counted per string, and cut where they jumped to another object."""

from __future__ import annotations

import numpy as np

from vigil.fusion.boost.filterrows import rejection_counts
from vigil.fusion.events.event import FusedEvent
from vigil.fusion.events.owners import Owners
from vigil.fusion.strings.base import Stringer
from vigil.fusion.strings.sensorstring import SensorString

CUT_REJECTIONS = 3  # a string whose last detections are this many consecutive filter rejections is cut there


def count_rejections(
    stringer: Stringer,
    owner: Owners,
    events: list[FusedEvent],
    stops: np.ndarray,
    changed: list[SensorString],
    taken: np.ndarray,
    which: np.ndarray,
    accepted: np.ndarray,
    ids: np.ndarray,
) -> None:
    """Count each string's consecutive rejected detections (rows grouped by event up to ``stops``, in time
    order; row ``k`` is of string ``changed[taken[which[k]]]``, id ``ids[taken[which[k]]]``); a string reaching
    :data:`CUT_REJECTIONS` while its event's filter accepts other detections of the chunk is cut before them
    (it jumped to another object); ``owner`` (string id → event) forgets the tail. The tail is a free string: it may join another event, pair, or die. Where
    the stringer keeps the counts in an array by id
    (:attr:`~vigil.fusion.strings.stringer.GatedAssignmentStringer.rejections`), they are read and written there
    at once (no per-string Python but for the cuts)."""
    table = stringer.rejections
    if table is not None:
        sids = ids[taken]
        count, cut_events, cut_strings = rejection_counts(which, accepted, table[sids], stops, CUT_REJECTIONS)
        table[sids] = count
    else:
        strings = [changed[j] for j in taken.tolist()]
        old = np.array([s.rejections for s in strings], dtype=np.int64)
        count, cut_events, cut_strings = rejection_counts(which, accepted, old, stops, CUT_REJECTIONS)
        for j in np.flatnonzero(count != old).tolist():
            strings[j].rejections = int(count[j])
    for e, j in zip(cut_events.tolist(), cut_strings.tolist(), strict=True):
        s = changed[int(taken[j])]
        if len(s) > s.rejections:
            events[e].cut_s = max(events[e].cut_s, float(s.last_time))  # (decided on the data so far)
            tail = stringer.split(s, len(s) - s.rejections)
            events[e].dirty = True
            if len(tail) and tail.string_id in owner:
                del owner[tail.string_id]
