"""Out-of-sequence observations: buffered re-processing over a lag horizon.

A detection may reach the engine after the chunk of its time was processed (a partner releases with a
delay; a link drops and catches up). The engine keeps what re-processing needs (:class:`History`):

* the raw detections of the last :attr:`~vigil.fusion.config.FusionConfig.lag_horizon_s` (and a little
  more), time-ordered;
* snapshots of its whole state taken before a chunk, every
  :attr:`~vigil.fusion.config.FusionConfig.snapshot_interval_s` of data time.

When late detections arrive, the engine goes back to the latest snapshot at or before the earliest of them
and re-runs every chunk from there in time order, late rows merged in (Bar-Shalom, Chen & Mallick,
"One-step solution for the multistep out-of-sequence-measurement problem in tracking", IEEE T-AES 2004,
and Bar-Shalom 2002, "Update with out-of-sequence measurements in tracking: exact solution": the
"Algorithm A" family keeps the measurements of the lag and re-filters; here the strings, associations,
filters, launch back-fits and burnout states are all re-run, which is exact for every stage, not only the
Kalman update). So the events after a late arrival are those of an in-order run on the same detections,
whatever the arrival order within the horizon; an event closed at burnout before the late data came is
re-opened by the re-run itself.

A detection older than the horizon (``processed - lag_horizon_s``) is **too late**: counted in
:class:`IngestCounts` (the node audits the count), not fused. A detection equal to one already held
(same sensor, same time, same LOS to :data:`DUPLICATE_LOS_DECIMALS`) is a **duplicate**: counted, fused
once. Event identity across a re-run is kept by the detections an event holds
(:func:`carry_identity`), and a changed event is issued as a new version (:func:`changed_warnings`).
"""

from __future__ import annotations

import copy
import math
import zlib
from collections import Counter
from dataclasses import dataclass, fields

import numpy as np

from vigil.records import ObservationBatch

DUPLICATE_LOS_DECIMALS = 9  # LOS components rounded to 1e-9 (1 nrad): one release of one detection
_UNCOMPARED = ("version", "issued_at")  # a re-issued version differs in these only, when nothing changed


@dataclass
class IngestCounts:
    """What the engine did with the rows it was given (cumulative)."""

    rows: int = 0  # rows given to the engine
    late: int = 0  # rows earlier than a processed chunk, inside the horizon: fused by re-processing
    too_late: int = 0  # rows older than the horizon: not fused
    duplicates: int = 0  # rows equal to one already held (sensor, time, LOS): not fused again
    placed: int = 0  # of the late rows: placed in a known string (retrodiction, vigil.fusion.oosm.retrodict)
    loose: int = 0  # of the late rows: continuing no string (clutter, a string's start): held, not fused
    replays: int = 0  # re-processing passes
    replayed_chunks: int = 0  # chunks re-run by them


@dataclass
class _Snapshot:
    chunk: float  # index of the first chunk not yet processed in this state (-inf: before any)
    state: dict
    stale: bool = False  # a late row older than `chunk` was placed after it was taken (it lacks the row)


class History:
    """The detections and engine snapshots of the lag horizon (see the module docstring)."""

    def __init__(self, horizon_s: float, interval_s: float, chunk_s: float) -> None:
        self.horizon_s, self.interval_s, self.chunk_s = float(horizon_s), float(interval_s), float(chunk_s)
        self._parts: list[ObservationBatch] = []  # raw rows held, as added (concatenated when read)
        self.snapshots: list[_Snapshot] = []
        self._keys: set[int] = set()  # row_keys() of the held rows

    @property
    def rows(self) -> ObservationBatch | None:
        """The held rows (raw, in the order added), or None."""
        if not self._parts:
            return None
        if len(self._parts) > 1:
            self._parts = [ObservationBatch.concatenate(self._parts[0].epoch, self._parts)]
        return self._parts[0]

    @rows.setter
    def rows(self, batch: ObservationBatch | None) -> None:
        self._parts = [] if batch is None or not len(batch) else [batch]

    # --- detections -----------------------------------------------------------------------------
    def unseen(self, batch: ObservationBatch, counts: IngestCounts, held: bool = True) -> ObservationBatch:
        """``batch`` less the rows equal to an earlier row of it or (``held``) to a held one, counted as
        duplicates. ``held=False``: nothing is held (one batch, no history): only the batch is searched."""
        keep = first_of_equal(batch)
        if held and len(batch):
            keys = row_keys(batch)
            known = self._keys
            keep &= np.fromiter((k not in known for k in keys.tolist()), dtype=bool, count=len(keys))
            known.update(keys[keep].tolist())
        counts.duplicates += int(np.count_nonzero(~keep))
        return batch if keep.all() else batch.take(keep)

    def add(self, batch: ObservationBatch) -> None:
        """Hold ``batch`` (raw rows) for re-processing."""
        if len(batch):
            self._parts.append(batch)

    def since(self, chunk: float) -> ObservationBatch | None:
        """Remove and return the held rows of chunk index ≥ ``chunk`` (they are re-run)."""
        if self.rows is None:
            return None
        later = np.floor(self.rows.time_s / self.chunk_s) >= chunk
        out = self.rows.take(later)
        self.rows = self.rows.take(~later)
        return out

    # --- snapshots ------------------------------------------------------------------------------
    def snapshot_due(self, chunk: float) -> bool:
        """A snapshot is taken before the first chunk, then before a chunk ``interval_s`` after the last one."""
        if not self.snapshots:
            return True
        return (chunk - self.snapshots[-1].chunk) * self.chunk_s >= self.interval_s

    def keep(self, chunk: float, state: dict, shared: list) -> None:
        """Snapshot ``state`` before chunk index ``chunk``; the objects ``shared`` are immutable (frozen estimates,
        caches keyed by identity) and held by the copy as they are (a deep copy of 100 events' launch
        estimates was half the snapshot's time)."""
        memo = {id(obj): obj for obj in shared}
        self.snapshots.append(_Snapshot(chunk, copy.deepcopy(state, memo)))

    def restore_point(self, chunk: float) -> _Snapshot | None:
        """The latest snapshot taken before chunk index ``chunk`` (or at it); later ones are dropped (they lack
        the late rows). None: no snapshot is that old (the rows are too late)."""
        older = [k for k, s in enumerate(self.snapshots) if s.chunk <= chunk and not s.stale]
        if not older:
            return None
        self.snapshots = self.snapshots[: older[-1] + 1]
        return self.snapshots[-1]

    def placed(self, chunk: float) -> None:
        """Late rows from chunk index ``chunk`` on were placed in the state (not re-run): the snapshots taken
        before later chunks lack them and can no longer be restored."""
        for s in self.snapshots:
            if s.chunk > chunk:
                s.stale = True

    def prune(self, next_chunk: float) -> None:
        """Forget what no row inside the horizon can need: snapshots before the latest one at or before the
        horizon's start, and the rows before that snapshot."""
        start = next_chunk - self.horizon_s / self.chunk_s
        older = [k for k, s in enumerate(self.snapshots) if s.chunk <= start and not s.stale]
        if not older or older[-1] == 0:
            return
        self.snapshots = self.snapshots[older[-1] :]
        first = self.snapshots[0].chunk
        if self.rows is not None and math.isfinite(first):
            gone = np.floor(self.rows.time_s / self.chunk_s) < first
            if gone.any():
                old = self.rows.take(gone)
                self.rows = self.rows.take(~gone)
                self._keys.difference_update(row_keys(old).tolist())


_MIX = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
    np.uint64(0xD6E8FEB86659FD93),
)


def row_keys(batch: ObservationBatch) -> np.ndarray:
    """One 64-bit key per row for the duplicate test: sensor (CRC-32 of its id), time (its bits) and LOS rounded
    to :data:`DUPLICATE_LOS_DECIMALS`, mixed (splitmix64 steps) in array operations; two distinct detections share
    a key with probability ~2⁻⁶⁴ per pair (a per-row tuple of the same fields cost ~5 µs per row)."""
    names, code = np.unique(batch.sensor_id, return_inverse=True)
    h = np.array([zlib.crc32(str(n).encode()) for n in names.tolist()], dtype=np.uint64)[code]
    q = np.round(batch.los_ecef * 10.0**DUPLICATE_LOS_DECIMALS).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        for part in (
            np.ascontiguousarray(batch.time_s, dtype=float).view(np.uint64),
            q[:, 0],
            q[:, 1],
            q[:, 2],
        ):
            h = (h ^ part) * _MIX[0]
            h = (h ^ (h >> np.uint64(30))) * _MIX[1]
            h = (h ^ (h >> np.uint64(27))) * _MIX[2]
            h ^= h >> np.uint64(31)
    return h


def arrival_ticks(batch: ObservationBatch, arrival_s: np.ndarray, tick_s: float = 1.0):
    """Yield ``(now_s, rows)``: the rows of ``batch`` whose arrival time (``arrival_s``, one per row) falls in
    each tick ``[k·tick_s, (k+1)·tick_s)``, in arrival order, ``now_s`` the tick's end (what a node receiving
    them hands to :meth:`~vigil.fusion.engine.FusionEngine.ingest`). Ticks without rows are skipped."""
    arrival_s = np.asarray(arrival_s, dtype=float)
    if not len(batch):
        return
    tick = np.floor(arrival_s / tick_s)
    order = np.argsort(tick, kind="stable")
    tick = tick[order]
    bounds = np.flatnonzero(np.diff(tick)) + 1
    for lo, hi in zip(np.r_[0, bounds].tolist(), np.r_[bounds, len(tick)].tolist(), strict=True):
        yield (tick[lo] + 1.0) * tick_s, batch.take(order[lo:hi])


def late_arrivals(
    time_s: np.ndarray, fraction: float, lag_s: tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """Arrival times of detections of which a random ``fraction`` (each row independently) arrive late by a
    lag drawn uniformly in ``lag_s = (low, high)`` s; the others arrive at their time."""
    time_s = np.asarray(time_s, dtype=float)
    late = rng.random(len(time_s)) < fraction
    return time_s + np.where(late, rng.uniform(lag_s[0], lag_s[1], len(time_s)), 0.0)


def immutable_parts(events) -> list:
    """What a snapshot may share with the live state: each event's frozen launch and impact estimates and its
    identity-keyed warning caches (:class:`~vigil.fusion.events.event.FusedEvent`; a cache whose strings are not the
    copy's misses and is rebuilt)."""
    out: list = []
    for e in events:
        out += [
            x
            for x in (e.launch, e.impact, e.launch_ellipse_of, e.sources_of, e.next_refit_s)
            if x is not None
        ]
    return out


def first_of_equal(batch: ObservationBatch) -> np.ndarray:
    """Mask of the rows of a time-ordered batch that no earlier row equals (sensor, time, LOS rounded to
    :data:`DUPLICATE_LOS_DECIMALS`). Rows are ordered by (time, LOS x) in one float sort (the time as its
    run number: the batch is time-ordered) and neighbours compared, so that the common case (no equal time
    and LOS x anywhere) costs one sort; equal rows are neighbours there unless a third row of the same time
    and LOS but another sensor lies between them."""
    n = len(batch)
    keep = np.ones(n, dtype=bool)
    t = batch.time_s
    if n < 2 or not np.any(t[1:] == t[:-1]):
        return keep
    x = np.round(batch.los_ecef[:, 0], DUPLICATE_LOS_DECIMALS)
    run = np.concatenate([[0], np.cumsum(t[1:] != t[:-1])])
    order = np.argsort(run * 4.0 + x, kind="stable")  # (|x| <= 1: runs never mix)
    a, b = order[:-1], order[1:]
    candidate = (t[a] == t[b]) & (x[a] == x[b])
    if candidate.any():
        a, b = a[candidate], b[candidate]
        los = np.round(batch.los_ecef, DUPLICATE_LOS_DECIMALS)
        same = np.all(los[a] == los[b], axis=1) & (batch.sensor_id[a] == batch.sensor_id[b])
        keep[np.maximum(a, b)[same]] = False
    return keep


def _detections(event) -> set[int]:
    return {int(i) for s in event.strings for i in np.asarray(s.obs_index).tolist()}


def carry_identity(before: list, after: list) -> None:
    """Give each event of a re-run (``after``) that did not exist at its snapshot the id of the event of the
    state before the re-run (``before``) that held most of the same detections (one to one, largest overlap
    first); its version count continues from that event's."""
    known = {e.event_id for e in after}
    old = [e for e in before if e.event_id not in known]
    new = [e for e in after if e.event_id not in {b.event_id for b in before}]
    if not old or not new:
        return
    owner: dict[int, int] = {}  # detection -> the old event holding it (an inverse index: one pass per event)
    for j, e in enumerate(old):
        owner.update(dict.fromkeys(_detections(e), j))
    pairs = []
    for i, e in enumerate(new):
        shared = Counter(owner[d] for d in _detections(e) if d in owner)
        pairs += [(n, i, j) for j, n in shared.items()]
    used_new: set[int] = set()
    used_old: set[int] = set()
    for _, i, j in sorted(pairs, reverse=True):
        if i in used_new or j in used_old:
            continue
        used_new.add(i)
        used_old.add(j)
        new[i].event_id = old[j].event_id


def changed_versions(events: list, issued: dict, epoch: str, now: float, containment: float) -> list:
    """After a re-run: each event whose estimate differs from its last issued version (``issued``: event id →
    Warning) is issued again (one version up); the others keep their issued version numbers."""
    from vigil.fusion.events.event import to_warning

    out = []
    for event in events:
        last = issued.get(event.event_id)
        if event.launch is None:
            continue
        event.version = 1 if last is None else last.version + 1
        warning = to_warning(event, epoch, now, containment)
        if last is not None and same_content(warning, last):
            event.version = last.version
            continue
        event.last_issue_s = now
        event.dirty = False
        out.append(warning)
    return out


def same_content(a, b) -> bool:
    """True when two warnings differ in version and issue time only."""
    return all(getattr(a, f.name) == getattr(b, f.name) for f in fields(a) if f.name not in _UNCOMPARED)
