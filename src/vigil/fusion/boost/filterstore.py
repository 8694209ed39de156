"""The live boost filters' states stacked in one set of arrays that the filters' ``x`` and ``P`` are views of.

Each chunk the engine reads all live filters' states at once (the filter-predicted string gating, the
merge test) and runs many of them through their new detections in one compiled call
(:func:`~vigil.fusion.boost.batch.run_filters`). Gathering the states into arrays and writing the results back into
each filter cost more than the filters' arithmetic. Here a filter, once stored, keeps one row of the
:class:`FilterStore` for as long as it is live: its ``x`` and ``P`` are views of that row, so the compiled
calls read and update the rows in place and only the filter's time (a float) is written back. A row is
released (the filter gets its own copies) when its filter is no longer among the live ones.
"""

from __future__ import annotations

import numpy as np

from vigil.fusion.boost.filter import BoostFilter


class FilterStore:
    """Rows of filter states: ``x`` (C, 9), ``cov`` (C, 9, 9), ``t`` (C,), ``q`` (C,) (jerk PSDs), of which
    the stored filters hold views (``x``, ``P``). Rows of no filter hold stale values."""

    def __init__(self, capacity: int = 64) -> None:
        self.x, self.cov = np.zeros((capacity, 9)), np.zeros((capacity, 9, 9))
        self.t, self.q = np.zeros(capacity), np.zeros(capacity)
        self._row: dict[
            int, int
        ] = {}  # id(filter) -> row (the filter is held in _held: its id is not reused)
        self._held: list[BoostFilter | None] = [None] * capacity
        self._free = list(range(capacity - 1, -1, -1))  # (popped from the end: low rows first)

    def rows_of(self, filters: list[BoostFilter]) -> np.ndarray:
        """The rows ``(E,)`` of ``filters`` (distinct), storing those not stored yet and releasing the stored
        filters not among them."""
        get = self._row.get
        rows = [get(id(f), -1) for f in filters]
        n_new = rows.count(-1)
        if len(self._row) > len(filters) - n_new:  # some stored filter is not among `filters`: release it
            keep = set(rows)
            for r in [r for r in self._row.values() if r not in keep]:
                self._release(r)
        if n_new:
            for k, f in enumerate(filters):
                if rows[k] < 0:
                    rows[k] = self._store(f)
        return np.array(rows, dtype=np.int64)

    def _store(self, f: BoostFilter) -> int:
        if not self._free:
            self._grow()
        r = self._free.pop()
        self.x[r], self.cov[r], self.t[r], self.q[r] = f.x, f.P, f.t, f.q
        f.x, f.P = self.x[r], self.cov[r]
        self._row[id(f)] = r
        self._held[r] = f
        return r

    def _release(self, r: int) -> None:
        f = self._held[r]
        assert f is not None  # (a row released is a stored filter's)
        f.x, f.P = f.x.copy(), f.P.copy()  # (its own again: the row will be another filter's)
        del self._row[id(f)]
        self._held[r] = None
        self._free.append(r)

    def _grow(self) -> None:
        """Double the capacity (the stored filters' views move to the new arrays)."""
        n = self.t.size
        self.x = np.concatenate([self.x, np.zeros((n, 9))])
        self.cov = np.concatenate([self.cov, np.zeros((n, 9, 9))])
        self.t, self.q = np.concatenate([self.t, np.zeros(n)]), np.concatenate([self.q, np.zeros(n)])
        for r, f in enumerate(self._held):
            if f is not None:
                f.x, f.P = self.x[r], self.cov[r]
        self._held += [None] * n
        self._free = list(range(2 * n - 1, n - 1, -1))


class FilterStates:
    """The states of ``filters`` (in order): rows ``rows`` (E,) of the :class:`FilterStore` ``store``. Kept by
    the engine from one step to the next; the next step's set of live filters takes the same store
    (:meth:`of` with ``previous``): an unchanged filter is neither gathered again nor written back."""

    def __init__(self, filters: list[BoostFilter], rows: np.ndarray, store: FilterStore) -> None:
        self.filters, self.rows, self.store = filters, rows, store

    @classmethod
    def of(cls, filters: list[BoostFilter], previous: FilterStates | None = None) -> FilterStates:
        store = previous.store if previous is not None and previous.store is not None else None
        store = store or FilterStore(max(64, 2 * len(filters)))
        return cls(filters, store.rows_of(filters), store)

    def __reduce__(self):
        """Copy / pickle: an empty one (of no filters, no store). A copied filter's ``x`` and ``P`` are copies,
        no longer views of a store, so the copy (of an engine) starts a new store at its next step."""
        return FilterStates, ([], np.zeros(0, dtype=np.int64), None)

    @property
    def arrays(self) -> tuple:
        """``(x, P, t, q)`` of the store, the ``store`` of :func:`~vigil.fusion.boost.batch.run_filters`."""
        s = self.store
        return s.x, s.cov, s.t, s.q
