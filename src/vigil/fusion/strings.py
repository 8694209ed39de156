"""Per-sensor 2-D strings: consecutive detections of one object by one sensor.

A plume seen from GEO moves slowly across the focal plane (≲ 0.3 mrad/s for 7 km/s at 36 000 km), while
false alarms (~0.01 per frame spread over the ~0.07 sr Earth disk) almost never fall inside the small
gate around a string's predicted line of sight: the chance per frame is ~0.01·π·gate²/0.07 ≈ 1e-6 for a
0.5 mrad gate, so clutter rarely forms strings of ≥ 3. Detections are linked frame by frame with a
global assignment (:func:`scipy.optimize.linear_sum_assignment`) so that crossing plumes of a salvo keep
their identity.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator

import numba
import numpy as np

from .linkcost import (  # noqa: F401 (FORBIDDEN, PREDICTED_NIS_GATE: re-exported, as before the split)
    FORBIDDEN,
    GATE_SIGMAS,
    MAX_ANGULAR_ACCEL_RAD_S2,
    MAX_ANGULAR_RATE_RAD_S,
    PREDICTED_NIS_GATE,
    PREDICTION_SIGMA_GROWTH,
    _costs,
    _predict_kernel,
    frame_costs,  # noqa: F401 (re-exported)
    segment_links,
    solve_components,
)

MAX_GAP_S = 20.0  # a string survives missed detections (and staging) for this long
MIN_CONFIRMED = 2  # detections before a string is used (clutter: two false alarms in one 6σ gate ~1e-6)
INITIAL_CAPACITY = 64  # detections a new string can hold before its arrays grow (doubling)
POOL_BLOCK = 128  # rows of a stringer string's first block (a 1 Hz boost string runs 60-300 detections: moving
# a block costs ~15 µs of Python, keeping 128 rows ~10 kB)


class SensorString:
    """Detections of one object by one sensor, in time order (SI, ECEF).

    Stored in growable arrays (no per-detection Python objects): ``times`` ``(K,)`` s, ``positions``
    ``(K, 3)`` m, ``los`` ``(K, 3)`` unit, ``sigmas`` ``(K,)`` rad and ``obs_index`` ``(K,)`` (rows of the
    engine's observation store) are read-only views of the first ``K`` rows. A stringer's strings are blocks
    of its :class:`StringPool` (so that a sensor frame's detections are appended in one compiled call); a
    string made on its own has its own arrays.
    """

    __slots__ = ("string_id", "sensor_id", "partner_id", "rejections", "first_time", "last_time", "_n", "_t", "_p",
                 "_u", "_s", "_i", "_pool", "_a", "_views")

    def __init__(self, string_id: int, sensor_id: str, partner_id: str, obs_index=(), times=(), positions=(),
                 los=(), sigmas=()) -> None:
        self.string_id = string_id
        self.sensor_id = sensor_id
        self.partner_id = partner_id
        self.rejections = 0  # consecutive latest detections rejected by the owning event's filter
        n = len(times)
        cap = max(INITIAL_CAPACITY, n)
        self._pool = None  # or the StringPool holding this string's block, which starts at row `_a`
        self._a = 0
        self._views = None
        self._n = n
        self._t = np.empty(cap)
        self._p = np.empty((cap, 3))
        self._u = np.empty((cap, 3))
        self._s = np.empty(cap)
        self._i = np.empty(cap, dtype=np.int64)
        if n:
            self._t[:n] = times
            self._p[:n] = np.reshape(positions, (n, 3))
            self._u[:n] = np.reshape(los, (n, 3))
            self._s[:n] = sigmas
            self._i[:n] = obs_index
        self._ends()

    def _ends(self) -> None:
        """Cache the first and last detection times (s; NaN when empty)."""
        n = self._n
        self.first_time = float(self._t[0]) if n else math.nan
        self.last_time = float(self._t[n - 1]) if n else math.nan
        if self._pool is not None:
            self._pool.n[self.string_id] = n
            self._pool.last[self.string_id] = self.last_time

    @property
    def times(self) -> np.ndarray:
        return self._t[: self._n]

    @property
    def positions(self) -> np.ndarray:
        return self._p[: self._n]

    @property
    def los(self) -> np.ndarray:
        return self._u[: self._n]

    @property
    def sigmas(self) -> np.ndarray:
        return self._s[: self._n]

    @property
    def obs_index(self) -> np.ndarray:
        return self._i[: self._n]

    def append(self, index: int, time_s: float, pos, los, sigma: float) -> None:
        """Add one detection (the stringer appends a whole sensor frame at once instead)."""
        n = self._n
        if n == self._t.size:
            self._grow()
        self._t[n] = time_s
        self._p[n] = pos
        self._u[n] = los
        self._s[n] = sigma
        self._i[n] = index
        self._n = n + 1
        self.last_time = float(time_s)
        if n == 0:
            self.first_time = self.last_time
        if self._pool is not None:
            self._pool.n[self.string_id] = n + 1
            self._pool.last[self.string_id] = self.last_time

    def _grow(self) -> None:
        if self._pool is not None:
            self._pool.move(self, 2 * self._t.size)
            return
        cap = 2 * self._t.size
        for name in ("_t", "_p", "_u", "_s", "_i"):
            old = getattr(self, name)
            new = np.empty((cap,) + old.shape[1:], dtype=old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)
        self._views = None

    def truncate(self, k: int) -> None:
        """Keep the first ``k`` detections (fresh buffers: views handed out earlier stay valid)."""
        self._n = k
        if self._pool is not None:
            self._pool.move(self, max(k, INITIAL_CAPACITY))
        else:
            for name in ("_t", "_p", "_u", "_s", "_i"):
                setattr(self, name, getattr(self, name)[:max(k, INITIAL_CAPACITY)].copy())
            self._views = None
        self._ends()

    def __len__(self) -> int:
        return self._n

    @property
    def confirmed(self) -> bool:
        return self._n >= MIN_CONFIRMED

    def arrays(self):
        """``(times (K,), positions (K,3), los (K,3), sigmas (K,))`` as arrays (views; do not modify)."""
        views = self._views  # (cached: read many times per launch refit; dropped when the arrays move)
        if views is None or len(views[0]) != self._n:
            n = self._n
            views = self._views = self._t[:n], self._p[:n], self._u[:n], self._s[:n]
        return views

    def predict_los(self, time_s: float) -> np.ndarray:
        """Unit LOS at ``time_s`` by linear extrapolation of the last two detections (last one if alone)."""
        if self._n < 2:
            return self.los[-1]
        t0, t1 = self.times[-2], self.times[-1]
        rate = (self.los[-1] - self.los[-2]) / max(t1 - t0, 1e-9)
        u = self.los[-1] + rate * (time_s - t1)
        return u / np.linalg.norm(u)

    def gate_rad(self, time_s: float) -> float:
        """Gate half-angle (rad) around :meth:`predict_los` at ``time_s``."""
        dt = abs(time_s - self.times[-1])
        sigma = self.sigmas[-1]
        if self._n < 2:
            return GATE_SIGMAS * sigma + MAX_ANGULAR_RATE_RAD_S * dt
        return GATE_SIGMAS * PREDICTION_SIGMA_GROWTH * sigma * max(1.0, dt) + MAX_ANGULAR_ACCEL_RAD_S2 * dt**2

    def interpolate(self, time_s):
        """Sensor position and unit LOS at ``time_s`` ``(T,)`` by linear interpolation (NaN outside the span)."""
        t, p, u, _ = self.arrays()
        ts = np.atleast_1d(np.asarray(time_s, dtype=float))
        pos, los = _interpolate_rays(t, p, u, ts)
        return pos, los


@numba.njit(cache=True)
def _interpolate_rays(t, p, u, ts):
    """Linear interpolation of positions ``p`` and LOS ``u`` (renormalised) sampled at increasing ``t`` to
    ``ts``; NaN outside ``[t[0], t[-1]]`` (same values as :func:`numpy.interp` per axis)."""
    m = ts.size
    pos = np.full((m, 3), np.nan)
    los = np.full((m, 3), np.nan)
    n = t.size
    for j in range(m):
        x = ts[j]
        if n == 0 or not (t[0] <= x <= t[n - 1]):
            continue
        k = np.searchsorted(t, x, side="right") - 1
        if k >= n - 1:
            k = n - 1
            f = 0.0
        else:
            f = (x - t[k]) / (t[k + 1] - t[k])
        k1 = min(k + 1, n - 1)
        norm = 0.0
        for c in range(3):
            pos[j, c] = p[k, c] + f * (p[k1, c] - p[k, c])
            v = u[k, c] + f * (u[k1, c] - u[k, c])
            los[j, c] = v
            norm += v * v
        norm = math.sqrt(norm)
        for c in range(3):
            los[j, c] /= norm
    return pos, los


def _predictions(strings: list[SensorString], t: float) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`SensorString.predict_los` and :meth:`SensorString.gate_rad` of many strings at once
    (``(S, 3)``, ``(S,)``), from each string's last two detections."""
    rows = [(s, k) for s in strings for k in (max(s._n - 2, 0), s._n - 1)]
    pt = np.array([s._t[k] for s, k in rows])
    pu = np.array([s._u[k] for s, k in rows]).reshape(-1, 3)
    ps = np.array([s._s[k] for s, k in rows])
    n = np.array([min(s._n, 2) for s in strings], dtype=np.int64)  # string j: rows 2j (and 2j + 1)
    a = np.arange(0, 2 * len(strings), 2) + (n == 1)
    return _predict_kernel(pt, pu, ps, a, n, np.arange(len(strings)), float(t))


def link_cost(strings: list[SensorString], t: float, los, sigma, predictor=None, sensor_pos=None) -> np.ndarray:
    """``(D, S)`` cost of linking detections (unit ``los`` ``(D, 3)``, noise ``sigma`` ``(D,)``) to strings at
    ``t``: the negative log-likelihood ``NIS + ln det(S/σ²)`` of the detection under each string's predicted
    LOS (covariance ``S``), :data:`FORBIDDEN` outside the gate. The determinant term makes a stale string
    with a wide gate lose a detection to a fresh string that predicts it well (the plain normalised angle
    favoured the wide gate). Own extrapolation: isotropic ``S = (gate/6)²``, gated at 6σ; a ``predictor``
    (see :meth:`GatedAssignmentStringer.update`; called with ``strings``, ``t`` and ``sensor_pos`` (3,) m)
    replaces it, gated at :data:`PREDICTED_NIS_GATE`. One compiled call (:func:`~vigil.fusion.linkcost._cost_kernel`)."""
    u, gate = _predictions(strings, t)
    predicted = predictor(strings, t, sensor_pos) if predictor is not None else None
    return _costs(u, gate, los, sigma, predicted)


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

    def new_strings(self, ids: list[int], sensor: str, partner: str) -> list[SensorString]:
        """Empty strings ``ids`` of one sensor, each with a block of :data:`POOL_BLOCK` rows."""
        if ids[-1] >= self.n.size:
            size = max(2 * self.n.size, ids[-1] + 1, 256)
            for name in ("a", "cap", "n", "last", "stamp", "known"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate([old, np.zeros(size - old.size, dtype=old.dtype)]))
        start = self._reserve(len(ids) * POOL_BLOCK)
        out = []
        for k, sid in enumerate(ids):
            s = SensorString.__new__(SensorString)
            s.string_id, s.sensor_id, s.partner_id, s.rejections, s._pool, s._n = sid, sensor, partner, 0, self, 0
            s.first_time = s.last_time = math.nan
            self._place(s, start + k * POOL_BLOCK, POOL_BLOCK)
            out.append(s)
        self.n[ids] = 0
        self.last[ids] = math.nan
        self.stamp[ids] = -1
        self.known[ids] = True
        return out

    def move(self, s: SensorString, cap: int) -> None:
        """Give ``s`` a fresh block of ``cap`` rows holding its detections."""
        start = self._reserve(cap)
        n = s._n
        for dst, src in ((self.t, s._t), (self.p, s._p), (self.u, s._u), (self.s, s._s), (self.i, s._i)):
            dst[start:start + n] = src[:n]
        self._place(s, start, cap)

    def scatter(self, sids, strings: list[SensorString], rows, chunk: _Chunk,
                stamp: int) -> tuple[list[SensorString], np.ndarray]:
        """Append detection ``rows[k]`` of ``chunk`` to string ``sids[k]`` (``strings[k]``; each at most once);
        return the strings not yet appended to under ``stamp`` (one per update), in order, and their ids."""
        while True:
            full, fresh = _scatter(self.t, self.p, self.u, self.s, self.i, self.a, self.n, self.cap, self.last,
                                   self.stamp, sids, rows, chunk.t, chunk.pos, chunk.los, chunk.sigma, chunk.index,
                                   stamp)
            if not full.size:
                break
            for k in full.tolist():
                self.move(strings[k], 2 * int(self.cap[sids[k]]))
        for s, k, t in zip(strings, self.n[sids].tolist(), chunk.t[rows].tolist(), strict=True):
            s._n = k
            s.last_time = t
        return list(itertools.compress(strings, fresh.tolist())), sids[fresh]

    def _place(self, s: SensorString, start: int, cap: int) -> None:
        end = start + cap
        s._a = start
        s._views = None
        s._t, s._p, s._u, s._s, s._i = self.t[start:end], self.p[start:end], self.u[start:end], self.s[start:end], \
            self.i[start:end]
        self.a[s.string_id] = start
        self.cap[s.string_id] = cap

    def _reserve(self, rows: int) -> int:
        """First row of ``rows`` free rows at the end (reallocating, with only the live blocks, when full)."""
        if self.used + rows > self.t.size:
            live = {id(s): s for s in self._live() if s._pool is self}.values()
            size = max(2 * (sum(s._t.size for s in live) + rows), self.min_rows)
            old = (self.t, self.p, self.u, self.s, self.i)
            self.t, self.p, self.u, self.s = np.empty(size), np.empty((size, 3)), np.empty((size, 3)), np.empty(size)
            self.i = np.empty(size, dtype=np.int64)
            self.used = 0
            for s in live:
                a, n, cap = s._a, s._n, s._t.size
                for dst, src in zip((self.t, self.p, self.u, self.s, self.i), old, strict=True):
                    dst[self.used:self.used + n] = src[a:a + n]
                self._place(s, self.used, cap)
                self.used += cap
        start = self.used
        self.used += rows
        return start


@numba.njit(cache=True)
def _scatter(t, p, u, s, i, a, n, cap, last, stamp, sids, rows, ct, cp, cu, cs, ci, now):
    """Body of :meth:`StringPool.scatter`: chunk rows ``rows`` of ``(ct, cp, cu, cs, ci)`` to the ends of the
    blocks of strings ``sids`` (pool arrays ``t, p, u, s, i``; per id ``a, n, cap, last, stamp``). Returns
    ``(full, fresh)``: the positions in ``sids`` of full blocks (then nothing is written), and which strings
    had not been stamped ``now``."""
    full = np.empty(sids.size, dtype=np.int64)
    m = 0
    for k in range(sids.size):
        if n[sids[k]] == cap[sids[k]]:
            full[m] = k
            m += 1
    fresh = np.zeros(sids.size, dtype=np.bool_)
    if m:
        return full[:m], fresh
    for k in range(sids.size):
        j, r = sids[k], rows[k]
        d = a[j] + n[j]
        t[d] = ct[r]
        s[d] = cs[r]
        i[d] = ci[r]
        for c in range(3):
            p[d, c] = cp[r, c]
            u[d, c] = cu[r, c]
        n[j] += 1
        last[j] = ct[r]
        fresh[k] = stamp[j] != now
        stamp[j] = now
    return full[:0], fresh


class Stringer(ABC):
    """Base of string builders: consume detections frame by frame, keep the strings."""

    @abstractmethod
    def update(self, index, sensor_id, partner_id, time_s, pos, los, sigma, frame_key=None,
               predictor=None) -> list[SensorString]:
        """Add detections (parallel arrays of one chunk); return the strings that changed.

        ``frame_key`` (optional, parallel) groups detections into one sensor frame (default: ``time_s``; the
        engine passes the reception time, since light-time-corrected times differ within a frame)."""


class _Chunk:
    """One update's detection arrays (contiguous, as the compiled scatter and cost take them)."""

    __slots__ = ("index", "t", "pos", "los", "sigma")

    def __init__(self, index, time_s, pos, los, sigma) -> None:
        self.index = np.ascontiguousarray(index, dtype=np.int64)
        self.t = np.ascontiguousarray(time_s, dtype=float)
        self.pos = np.ascontiguousarray(pos, dtype=float)
        self.los = np.ascontiguousarray(los, dtype=float)
        self.sigma = np.ascontiguousarray(sigma, dtype=float)


_NO_IDS = np.zeros(0, dtype=np.int64)


def _predicted(predictor, sids, t, sensor_pos):
    """``predictor``'s ``(mask, u, cov)`` for strings ``sids`` as the compiled cost takes them (none: mask off)."""
    out = predictor(sids, t, sensor_pos) if predictor is not None else None
    if out is None or out[0] is None:
        return np.zeros(sids.size, dtype=np.bool_), np.zeros((1, 3)), np.zeros((1, 3, 3))
    mask, up, cov = out
    return (np.asarray(mask, dtype=np.bool_), np.ascontiguousarray(up, dtype=float),
            np.ascontiguousarray(cov, dtype=float))


def _segment_predicted(predictor, sids, counts, ts, sensor_pos):
    """:func:`_predicted` of several frames' strings at once: frame ``f`` (time ``ts[f]``, sensor position
    ``sensor_pos[f]``) has the next ``counts[f]`` of ``sids``. One call of ``predictor.per_string`` where it
    has one (:func:`~vigil.fusion.gating.filter_los_predictor`), else one call per frame. Full-size arrays."""
    n = sids.size
    per_string = getattr(predictor, "per_string", None)
    if per_string is not None:
        mask, up, cov = per_string(sids, np.repeat(ts, counts), np.repeat(sensor_pos, counts, axis=0))
        return (np.asarray(mask, dtype=np.bool_), np.ascontiguousarray(up, dtype=float),
                np.ascontiguousarray(cov, dtype=float))
    mask, up, cov = np.zeros(n, dtype=np.bool_), np.zeros((n, 3)), np.zeros((n, 3, 3))
    if predictor is None:
        return mask, up, cov
    lo = 0
    for t, pos, k in zip(ts.tolist(), sensor_pos, counts.tolist(), strict=True):
        if k:
            m, u, c = _predicted(predictor, sids[lo:lo + k], t, pos)
            mask[lo:lo + k] = m
            if m.any():
                up[lo:lo + k], cov[lo:lo + k] = u, c
        lo += k
    return mask, up, cov


def _frames(sensor_id: np.ndarray, frame_key: np.ndarray) -> tuple[np.ndarray, list[int], list[str]]:
    """A chunk's sensor frames, by key then sensor name: ``(order, starts, sensors)`` — frame ``f`` is rows
    ``order[starts[f]:starts[f + 1]]`` of sensor ``sensors[f]``. The common chunk (keys ascending, each run of
    one key from one sensor) is recognised in a few array operations; else the rows are sorted by key and
    sensor code (a dict of the few names: faster than np.unique or searchsorted on strings)."""
    n = frame_key.size
    if n > 1 and bool(np.all(frame_key[1:] >= frame_key[:-1])):
        runs = [0, *(np.flatnonzero(frame_key[1:] != frame_key[:-1]) + 1).tolist(), n]
        if set((np.flatnonzero(sensor_id[1:] != sensor_id[:-1]) + 1).tolist()) <= set(runs):  # sensor: per run
            return np.arange(n), runs, [str(v) for v in sensor_id[runs[:-1]].tolist()]
    values = sensor_id.tolist() if sensor_id.dtype.kind == "U" else [str(v) for v in sensor_id.tolist()]
    names = sorted(set(values))
    number = {name: k for k, name in enumerate(names)}
    code = np.array([number[v] for v in values], dtype=np.int64)
    order = np.lexsort((code, frame_key))  # (stable: rows of a frame keep their order)
    kc, kf = code[order], frame_key[order]
    starts = [0, *(np.flatnonzero((kc[1:] != kc[:-1]) | (kf[1:] != kf[:-1])) + 1).tolist(), n]
    return order, starts, [names[kc[a]] for a in starts[:-1]]


class GatedAssignmentStringer(Stringer):
    """Link each sensor frame's detections to open strings by angular distance to the predicted LOS.

    Cost is the angle to :meth:`SensorString.predict_los`; pairs outside :meth:`SensorString.gate_rad`
    are forbidden; the frame is solved by global assignment. Unlinked detections open new strings. Frames of
    different sensors do not interact: consecutive frames of distinct sensors (a chunk's, usually) are linked
    together, with one compiled call for their predictions, in-gate costs and components of the assignment
    (:func:`~vigil.fusion.linkcost.segment_links`), and one compiled append of all their detections to the
    strings' blocks of the :class:`StringPool` (no Python call per detection but the scalar caches).
    """

    def __init__(self, max_gap_s: float = MAX_GAP_S) -> None:
        self.max_gap_s = max_gap_s
        self.strings: dict[int, SensorString] = {}
        self._open: dict[str, tuple[np.ndarray, list[SensorString]]] = {}  # sensor -> (ids, strings) in order
        self._ids = itertools.count(1)
        self._pool = StringPool(self._held)
        self._stamp = 0  # updates so far (strings appended to in this one are stamped with it)
        # the last update's appends, in order: string ids (R,) and rows (R,) of its arrays
        self.new_detections: tuple[np.ndarray, np.ndarray] = (_NO_IDS, _NO_IDS)
        self.changed_ids = _NO_IDS  # ids of the strings the last update returned, in that order

    def _held(self) -> Iterator[SensorString]:
        """Strings whose detections must be kept: the known ones and the open ones (a pruned string may stay
        open until its sensor's next frame)."""
        yield from self.strings.values()
        for _, group in self._open.values():
            yield from group

    @property
    def new_rows(self) -> dict[int, list[int]]:
        """``string_id -> rows`` of the last update's arrays it took (from :attr:`new_detections`)."""
        out: dict[int, list[int]] = {}
        for sid, row in zip(*(a.tolist() for a in self.new_detections), strict=True):
            out.setdefault(sid, []).append(row)
        return out

    def update(self, index, sensor_id, partner_id, time_s, pos, los, sigma, frame_key=None,
               predictor=None) -> list[SensorString]:
        """See :meth:`Stringer.update`. ``predictor(ids, t, sensor_pos)``, optional, is called with the ids
        (int array) of the strings open in a frame and returns ``(mask (S,), u (S, 3), cov (S, 3, 3))`` — for
        the strings where ``mask`` is set, the LOS predicted by something better than the string's own
        extrapolation (the engine passes its events' filters) and that prediction's angular covariance (rad²,
        measurement noise excluded). The strings are returned in the order they were first appended to in this
        update (frames by key, then sensor; the filter stage takes their rows in that order)."""
        self.new_detections = (_NO_IDS, _NO_IDS)
        self.changed_ids = _NO_IDS
        frame_key = np.asarray(time_s if frame_key is None else frame_key)
        if not frame_key.size:
            return []
        order, starts, sensors = _frames(np.asarray(sensor_id), frame_key)
        chunk = _Chunk(index, time_s, pos, los, sigma)
        self._stamp += 1
        log = ([], [], [], [])  # string ids and rows of every append; strings in the order first appended to, ids
        segment = []  # consecutive frames of distinct sensors: independent, linked together
        for a, b, sensor in zip(starts[:-1], starts[1:], sensors, strict=True):
            if any(f[0] == sensor for f in segment):
                self._link_segment(segment, chunk, predictor, log)
                segment = []
            segment.append((sensor, str(partner_id[order[a]]), order[a:b]))
        self._link_segment(segment, chunk, predictor, log)
        self.new_detections = (np.concatenate(log[0]), np.concatenate(log[1]))
        self.changed_ids = np.concatenate(log[3])
        return log[2]

    def _open_columns(self, frames, chunk):
        """Per frame of ``frames`` (``(sensor, partner, rows)``): its time, the sensor's open strings still
        alive ``(ids, group)`` and the positions among them of the strings it may extend (last detection
        earlier)."""
        pool = self._pool
        out = []
        for sensor, _, rows in frames:
            t = float(chunk.t[rows[0]])
            ids, group = self._open.get(sensor, (_NO_IDS, []))
            last = pool.last[ids]
            alive = t - last <= self.max_gap_s
            if not alive.all():
                ids, group, last = ids[alive], list(itertools.compress(group, alive.tolist())), last[alive]
            out.append((t, ids, group, np.flatnonzero(last < t)))
        return out

    def _link_segment(self, frames, chunk, predictor, log) -> None:
        """Link consecutive sensor frames of distinct sensors (``(sensor, partner, rows of chunk)``; frames of
        different sensors do not interact) to their sensors' open strings: one predictor call, one compiled
        call for all frames' costs and components (:func:`~vigil.fusion.linkcost.segment_links`; the solver
        only for a frame whose components need it), new strings for the rest (ids in frame order), and one
        compiled append of every detection. Appends ``(string ids, rows)`` of every detection placed to
        ``log``'s first two lists, frame by frame (linked, then new), and the strings first appended to in this
        update and their ids to the last two."""
        pool = self._pool
        heads = self._open_columns(frames, chunk)
        counts = np.array([h[3].size for h in heads], dtype=np.int64)
        sids = np.concatenate([h[1][h[3]] for h in heads])
        ts = np.array([h[0] for h in heads])
        rows = np.concatenate([f[2] for f in frames])
        row_stops = np.zeros(len(frames) + 1, dtype=np.int64)
        np.cumsum([f[2].size for f in frames], out=row_stops[1:])
        sid_stops = np.zeros(len(frames) + 1, dtype=np.int64)
        np.cumsum(counts, out=sid_stops[1:])
        mask, up, cov = _segment_predicted(predictor, sids, counts, ts, chunk.pos[rows[row_stops[:-1]]])
        ri, ci, pair_stops, n_multi, edges, edge_stops, label = segment_links(
            pool.t, pool.u, pool.s, pool.a, pool.n, sids, sid_stops, ts, chunk.los, chunk.sigma, rows, row_stops, mask,
            up, cov)
        pairs = []
        for f, multi in enumerate(n_multi.tolist()):
            r, c = ri[pair_stops[f]:pair_stops[f + 1]], ci[pair_stops[f]:pair_stops[f + 1]]
            if multi:  # (rare) components for the solver
                e = slice(edge_stops[f], edge_stops[f + 1])
                r, c = solve_components(*(a[e] for a in edges), r, c, label[row_stops[f]:row_stops[f + 1]], multi)
            pairs.append((r, c))
        app_ids, app_rows, app_strings, created = [], [], [], []
        for (sensor, partner, frame), (_, ids, group, cols), (r, c) in zip(frames, heads, pairs, strict=True):
            c = cols[c]
            app_ids.append(ids[c])
            app_rows.append(frame[r])
            app_strings.extend([group[k] for k in c.tolist()])
            linked = np.zeros(frame.size, dtype=np.bool_)
            linked[r] = True
            new = frame[~linked]
            if new.size:
                new_ids = [next(self._ids) for _ in range(new.size)]
                strings = pool.new_strings(new_ids, sensor, partner)
                self.strings.update(zip(new_ids, strings, strict=True))  # held before any reallocation
                new_ids = np.asarray(new_ids, dtype=np.int64)
                app_ids.append(new_ids)
                app_rows.append(new)
                app_strings.extend(strings)
                created.extend(strings)
                ids, group = np.concatenate([ids, new_ids]), group + strings
            self._open[sensor] = (ids, group)
        app_ids, app_rows = np.concatenate(app_ids), np.concatenate(app_rows)
        log[0].append(app_ids)
        log[1].append(app_rows)
        fresh, fresh_ids = pool.scatter(app_ids, app_strings, app_rows, chunk, self._stamp)
        log[2].extend(fresh)
        log[3].append(fresh_ids)
        for s in created:
            s.first_time = s.last_time

    def split(self, s: SensorString, k: int) -> SensorString:
        """Cut ``s`` before its ``k``-th detection: ``s`` keeps the head and is closed; the tail becomes a new
        open string (returned). Used when the owning event's filter rejects the tail (a swapped string)."""
        tail = self._pool.new_strings([next(self._ids)], s.sensor_id, s.partner_id)[0]
        self.strings[tail.string_id] = tail  # held before any reallocation below
        m = len(s) - k
        if m > POOL_BLOCK:
            self._pool.move(tail, m)
        for name in ("_t", "_p", "_u", "_s", "_i"):
            getattr(tail, name)[:m] = getattr(s, name)[k:k + m]
        tail._n = m
        tail._ends()
        s.truncate(k)
        s.rejections = 0
        ids, group = self._open.get(s.sensor_id, (_NO_IDS, []))
        keep = ids != s.string_id
        self._open[s.sensor_id] = (np.r_[ids[keep], tail.string_id], [o for o in group if o is not s] + [tail])
        return tail

    def prune(self, now_s: float) -> None:
        """Forget unconfirmed strings that can no longer grow (keeps memory bounded on long runs)."""
        pool = self._pool
        dead = np.flatnonzero(pool.known & (pool.n < MIN_CONFIRMED) & (now_s - pool.last > self.max_gap_s))
        for k in dead.tolist():
            del self.strings[k]
        pool.known[dead] = False

    def confirmed_ids(self) -> np.ndarray:
        """Ids of the confirmed strings in :attr:`strings`, ascending (their order there: ids grow)."""
        return self.long_ids(MIN_CONFIRMED)

    def long_ids(self, min_detections: int) -> np.ndarray:
        """Ids of the strings in :attr:`strings` with at least ``min_detections`` detections, ascending."""
        pool = self._pool
        return np.flatnonzero(pool.known & (pool.n >= min_detections))
