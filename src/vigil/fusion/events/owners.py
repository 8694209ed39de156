"""The string → event map of the engine, mirrored as an array for lookups of many strings at once.

Each chunk the engine asks which live event owns each of a few hundred strings (the filter-predicted
string gating of every sensor frame, the batched filter stage); a Python dict lookup per string per chunk
was a visible share of the stage. :class:`Owners` is that dict, keeping ``row[string id]`` = the owning
event's number (events numbered as they first own a string) on every assignment and deletion.
"""

from __future__ import annotations

import operator

import numpy as np


class Owners(dict):
    """``string id -> event`` (a dict; assign and ``del`` only), with :meth:`live_rows` for array lookups."""

    def __init__(self) -> None:
        super().__init__()
        self.row = np.full(256, -1, dtype=np.int64)  # string id -> event number (-1: none)
        self._events: list = []  # by number (held: an event's id() is never reused while numbered)
        self._number: dict[int, int] = {}  # id(event) -> number
        self._changes = 0  # assignments and deletions so far (a cached live_rows is valid while unchanged)
        self._cached: tuple | None = None  # (changes, live, live_rows(live)) of the last call

    def __setitem__(self, string_id: int, event) -> None:
        super().__setitem__(string_id, event)
        k = self._number.get(id(event))
        if k is None:
            k = self._number[id(event)] = len(self._events)
            self._events.append(event)
        if string_id >= self.row.size - 1:  # (the last entry stays -1: ids beyond the array map to it)
            self.row = np.concatenate(
                [self.row, np.full(max(self.row.size, string_id + 2), -1, dtype=np.int64)]
            )
        self.row[string_id] = k
        self._changes += 1

    def __delitem__(self, string_id: int) -> None:
        super().__delitem__(string_id)
        self.row[string_id] = -1
        self._changes += 1

    def _unsupported(self, *_args, **_kwargs):
        raise NotImplementedError("Owners changes by assignment and del only (the array mirror)")

    pop = popitem = clear = update = setdefault = __ior__ = _unsupported

    def __reduce__(self):  # (copy / pickle: rebuild through __setitem__, mirror included)
        return _owners_of, (list(self.items()),)

    def live_rows(self, live: list) -> np.ndarray:
        """``(N,)`` array: string id (< N; larger ids: use the last entry, −1) → the position in ``live`` of its
        owner (−1: none, or not in ``live``). The array of the last call is returned again (read only) while
        neither the map nor the events of ``live`` changed (most chunks: the engine asks once per stage)."""
        cached = self._cached
        if (
            cached is not None
            and cached[0] == self._changes
            and len(cached[1]) == len(live)
            and all(map(operator.is_, cached[1], live))
        ):
            return cached[2]
        none = len(self._events)
        live_of = np.full(none + 1, -1, dtype=np.int64)  # event number -> position (last: none)
        get = self._number.get
        live_of[[get(id(e), none) for e in live]] = np.arange(
            len(live)
        )  # (distinct events, distinct numbers;
        live_of[none] = -1  # the events never numbered all land on the last entry: reset)
        out = live_of[self.row]
        self._cached = (self._changes, list(live), out)
        return out


def _owners_of(items: list) -> Owners:
    out = Owners()
    for string_id, event in items:
        out[string_id] = event
    return out


def lookup(slot: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``slot[ids]`` of a :meth:`Owners.live_rows` array (ids beyond it: its last entry, −1)."""
    return slot[np.minimum(ids, slot.size - 1)]
