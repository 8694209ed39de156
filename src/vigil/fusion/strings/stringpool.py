"""The shared detection storage of a stringer's strings: one set of arrays, a block of rows per string.

A sensor frame's detections are appended to their strings' blocks in one compiled call (:func:`_scatter`)
instead of one Python call per detection; each :class:`~vigil.fusion.strings.sensorstring.SensorString`'s arrays are
views of its block.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numba
import numpy as np

from vigil.fusion.strings.poolarrays import Blocks, DetectionRows, chunk_rows
from vigil.fusion.strings.sensorstring import SensorString

if TYPE_CHECKING:
    from vigil.fusion.strings.chunkframes import ChunkArrays

POOL_BLOCK = (
    128  # rows of a stringer string's first block (a 1 Hz boost string runs 60-300 detections: moving
)
# a block costs ~15 µs of Python, keeping 128 rows ~10 kB)
_ROWS = frozenset("tpusi")  # the detection arrays (rows of blocks), as opposed to the per-string-id ones


class StringPool:
    """The detection arrays of all a stringer's strings: each string owns a block of rows, and its views
    (:attr:`SensorString.times`, …) are slices of that block. Per string id: ``a`` (first row), ``cap``
    (rows), ``n`` (used) and ``last`` (last detection time, s), so that a sensor frame is linked and appended
    with array operations and one compiled scatter instead of one Python call per detection. A full block
    moves to a fresh one of twice the size; full arrays are reallocated holding only the blocks of the
    strings ``live()`` returns (views handed out earlier keep the old buffers, whose rows never change)."""

    min_rows = 1 << 16  # smallest reallocation (rows): ~4.7 MB, a few reallocations in a 100-launch salvo

    def __init__(self, live: Callable[[], Iterable[SensorString]]) -> None:
        self._live = live
        self.used = 0
        self.t, self.p, self.u, self.s = np.empty(0), np.empty((0, 3)), np.empty((0, 3)), np.empty(0)
        self.i = np.empty(0, dtype=np.int64)
        self.a, self.cap, self.n, self.stamp = (np.zeros(0, dtype=np.int64) for _ in range(4))
        self.last = np.zeros(0)
        self.known = np.zeros(0, dtype=np.bool_)  # in the stringer's `strings` (created, not yet pruned)
        self.rej = np.zeros(0, dtype=np.int64)  # SensorString.rejections

    def __deepcopy__(self, memo: dict) -> StringPool:
        """A copy whose arrays exist before its strings are copied (they become views of them:
        :meth:`SensorString.__deepcopy__`); ``live`` is rebound to the copied stringer last. Of the detection
        arrays only the rows in use are copied: rows from ``used`` on are written (reserved, then appended)
        before any string's views reach them, so the copy's are left uninitialised (a snapshot then costs the
        rows held, not the arrays' capacity)."""
        out = StringPool.__new__(StringPool)
        memo[id(self)] = out
        used = self.used
        for name, value in vars(self).items():
            if name == "_live":
                continue
            if name in _ROWS:
                rows = np.empty_like(value)
                rows[:used] = value[:used]
                setattr(out, name, rows)
            else:
                setattr(
                    out, name, value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value, memo)
                )
        out._live = copy.deepcopy(self._live, memo)
        return out

    def new_strings(self, ids: list[int], sensor: str, partner: str) -> list[SensorString]:
        """Empty strings ``ids`` of one sensor, each with a block of :data:`POOL_BLOCK` rows."""
        if ids[-1] >= self.n.size:
            size = max(2 * self.n.size, ids[-1] + 1, 256)
            for name in ("a", "cap", "n", "last", "stamp", "known", "rej"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate([old, np.zeros(size - old.size, dtype=old.dtype)]))
        start = self._reserve(len(ids) * POOL_BLOCK)
        out = []
        for k, sid in enumerate(ids):
            s = SensorString.pooled(sid, sensor, partner, self)
            self._place(s, start + k * POOL_BLOCK, POOL_BLOCK)
            out.append(s)
        self.n[ids] = 0
        self.last[ids] = math.nan
        self.stamp[ids] = -1
        self.known[ids] = True
        self.rej[ids] = 0
        return out

    def move(self, s: SensorString, cap: int) -> None:
        """Give ``s`` a fresh block of ``cap`` rows holding its detections."""
        start = self._reserve(cap)
        n = s.count
        for dst, src in (
            (self.t, s.t_rows),
            (self.p, s.p_rows),
            (self.u, s.u_rows),
            (self.s, s.s_rows),
            (self.i, s.i_rows),
        ):
            dst[start : start + n] = src[:n]
        self._place(s, start, cap)

    def scatter(
        self, sids, strings: list[SensorString], rows, chunk: ChunkArrays, stamp: int
    ) -> tuple[list[SensorString], np.ndarray]:
        """Append detection ``rows[k]`` of ``chunk`` to string ``sids[k]`` (``strings[k]``; each at most once);
        return the strings not yet appended to under ``stamp`` (one per update), in order, and their ids (all of
        them, ``strings`` and ``sids`` themselves, in an update's first segment of frames: the common case)."""
        while True:
            full, fresh, n_fresh = _scatter(self.rows(), self.blocks(), sids, rows, chunk_rows(chunk), stamp)
            if not full.size:
                break
            for k in full.tolist():
                self.move(strings[k], 2 * int(self.cap[sids[k]]))
        for s, k, t in zip(strings, self.n[sids].tolist(), chunk.t[rows].tolist(), strict=True):
            s.count = k
            s.last_time = t
        if n_fresh == len(strings):
            return strings, sids
        return list(itertools.compress(strings, fresh.tolist())), sids[fresh]

    def rows(self) -> DetectionRows:
        """The detection arrays (every string's block of rows)."""
        return DetectionRows(self.t, self.p, self.u, self.s, self.i)

    def blocks(self) -> Blocks:
        """The per string id arrays: where each string's block lies, its use and its last append."""
        return Blocks(self.a, self.n, self.cap, self.last, self.stamp)

    def _place(self, s: SensorString, start: int, cap: int) -> None:
        end = start + cap
        s.use_block(
            start,
            self.t[start:end],
            self.p[start:end],
            self.u[start:end],
            self.s[start:end],
            self.i[start:end],
        )
        self.a[s.string_id] = start
        self.cap[s.string_id] = cap

    def _reserve(self, rows: int) -> int:
        """First row of ``rows`` free rows at the end (reallocating, with only the live blocks, when full)."""
        if self.used + rows > self.t.size:
            live = {id(s): s for s in self._live() if s.pool is self}.values()
            size = max(2 * (sum(s.t_rows.size for s in live) + rows), self.min_rows)
            old = (self.t, self.p, self.u, self.s, self.i)
            self.t, self.p, self.u, self.s = (
                np.empty(size),
                np.empty((size, 3)),
                np.empty((size, 3)),
                np.empty(size),
            )
            self.i = np.empty(size, dtype=np.int64)
            self.used = 0
            for s in live:
                a, n, cap = s.block_start, s.count, s.t_rows.size
                for dst, src in zip((self.t, self.p, self.u, self.s, self.i), old, strict=True):
                    dst[self.used : self.used + n] = src[a : a + n]
                self._place(s, self.used, cap)
                self.used += cap
        start = self.used
        self.used += rows
        return start


@numba.njit(cache=True)
def _scatter(pool, blocks, sids, rows, chunk, now):
    """Body of :meth:`StringPool.scatter`: rows ``rows`` of ``chunk`` to the ends of the blocks of strings
    ``sids`` in ``pool`` (both :class:`DetectionRows`; the blocks: :class:`Blocks`). Returns
    ``(full, fresh, n_fresh)``: the positions in ``sids`` of full blocks (then nothing is written), which strings
    had not been stamped ``now``, and their count."""
    t, pos, los, sigma, index = pool  # (unpacked once: a field read per row costs a reference count)
    first, n, cap, last, stamp = blocks
    chunk_t, chunk_pos, chunk_los, chunk_sigma, chunk_index = chunk
    full = np.empty(sids.size, dtype=np.int64)
    m = 0
    for k in range(sids.size):
        if n[sids[k]] == cap[sids[k]]:
            full[m] = k
            m += 1
    fresh = np.zeros(sids.size, dtype=np.bool_)
    if m:
        return full[:m], fresh, 0
    n_fresh = 0
    for k in range(sids.size):
        j, r = sids[k], rows[k]
        d = first[j] + n[j]
        t[d] = chunk_t[r]
        sigma[d] = chunk_sigma[r]
        index[d] = chunk_index[r]
        for c in range(3):
            pos[d, c] = chunk_pos[r, c]
            los[d, c] = chunk_los[r, c]
        n[j] += 1
        last[j] = chunk_t[r]
        fresh[k] = stamp[j] != now
        n_fresh += fresh[k]
        stamp[j] = now
    return full[:0], fresh, n_fresh
