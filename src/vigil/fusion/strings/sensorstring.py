"""One sensor's string of detections of one object, stored in growable arrays (a stringer's strings in the
rows of its :class:`~vigil.fusion.strings.stringpool.StringPool`), with its own LOS extrapolation and gate.

Built and extended by :mod:`vigil.fusion.strings.stringer`; read by the association, filter and launch stages (through
:meth:`SensorString.arrays` views: no per-detection Python objects).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numba
import numpy as np

from vigil.fusion.strings.linkcost import (
    GATE_SIGMAS,
    MAX_ANGULAR_ACCEL_RAD_S2,
    MAX_ANGULAR_RATE_RAD_S,
    PREDICTION_SIGMA_GROWTH,
)

MIN_CONFIRMED = 2  # detections before a string is used (clutter: two false alarms in one 6σ gate ~1e-6)
INITIAL_CAPACITY = 64  # detections a new string can hold before its arrays grow (doubling)


class SensorString:
    """Detections of one object by one sensor, in time order (SI, ECEF).

    Stored in growable arrays (no per-detection Python objects): ``times`` ``(K,)`` s, ``positions``
    ``(K, 3)`` m, ``los`` ``(K, 3)`` unit, ``sigmas`` ``(K,)`` rad and ``obs_index`` ``(K,)`` (rows of the
    engine's observation store) are read-only views of the first ``K`` rows. A stringer's strings are blocks
    of its :class:`~vigil.fusion.strings.stringpool.StringPool` (so that a sensor frame's detections are appended in
    one compiled call); a string made on its own has its own arrays.

    Storage, read and written by the pool, the stringer and the compiled readers that take a pool's rows in
    place: ``count`` detections held; ``t_rows``, ``p_rows``, ``u_rows``, ``s_rows``, ``i_rows`` the arrays
    whose first ``count`` rows they are (capacity ``t_rows.size``); ``pool`` None, or the
    :class:`~vigil.fusion.strings.stringpool.StringPool` whose rows from ``block_start`` on those arrays are.
    """

    __slots__ = (
        "string_id",
        "sensor_id",
        "partner_id",
        "_rej",
        "first_time",
        "last_time",
        "count",
        "t_rows",
        "p_rows",
        "u_rows",
        "s_rows",
        "i_rows",
        "pool",
        "block_start",
        "_views",
    )

    def __init__(
        self,
        string_id: int,
        sensor_id: str,
        partner_id: str,
        obs_index=(),
        times=(),
        positions=(),
        los=(),
        sigmas=(),
    ) -> None:
        self.string_id = string_id
        self.sensor_id = sensor_id
        self.partner_id = partner_id
        self._rej = 0
        n = len(times)
        cap = max(INITIAL_CAPACITY, n)
        self.pool: Any = (
            None  # None, or the StringPool holding this string's block, which starts at row `block_start`
        )
        self.block_start = 0
        self._views = None
        self.count = n
        self.t_rows = np.empty(cap)
        self.p_rows = np.empty((cap, 3))
        self.u_rows = np.empty((cap, 3))
        self.s_rows = np.empty(cap)
        self.i_rows = np.empty(cap, dtype=np.int64)
        if n:
            self.t_rows[:n] = times
            self.p_rows[:n] = np.reshape(positions, (n, 3))
            self.u_rows[:n] = np.reshape(los, (n, 3))
            self.s_rows[:n] = sigmas
            self.i_rows[:n] = obs_index
        self._ends()

    def __deepcopy__(self, memo: dict) -> SensorString:
        """A copy (of an engine's state, :mod:`vigil.fusion.oosm.buffer`) whose arrays are again views of the copied
        pool's block where this string's are views of its pool's current buffers (the pool appends there).
        The scalars are assigned one by one (a snapshot copies a few hundred strings: no generic machinery)."""
        out = SensorString.__new__(SensorString)
        memo[id(self)] = out
        out.string_id, out.sensor_id, out.partner_id, out._rej = (
            self.string_id,
            self.sensor_id,
            self.partner_id,
            self._rej,
        )
        out.first_time, out.last_time, out.count, out.block_start, out._views = (
            self.first_time,
            self.last_time,
            self.count,
            self.block_start,
            None,
        )
        pool = self.pool
        if pool is None:
            out.pool = None
            out.t_rows, out.p_rows, out.u_rows, out.s_rows, out.i_rows = (
                self.t_rows.copy(),
                self.p_rows.copy(),
                self.u_rows.copy(),
                self.s_rows.copy(),
                self.i_rows.copy(),
            )
            return out
        copied = memo.get(id(pool))
        out.pool = copied = copy.deepcopy(pool, memo) if copied is None else copied
        a = self.block_start
        b = a + self.t_rows.shape[0]
        mine = (self.t_rows, self.p_rows, self.u_rows, self.s_rows, self.i_rows)
        theirs = (pool.t, pool.p, pool.u, pool.s, pool.i)
        if (
            mine[0].base is theirs[0]
            and mine[1].base is theirs[1]
            and mine[2].base is theirs[2]
            and mine[3].base is theirs[3]
            and mine[4].base is theirs[4]
        ):  # (the common case: views of the pool)
            out.t_rows, out.p_rows, out.u_rows, out.s_rows, out.i_rows = (
                copied.t[a:b],
                copied.p[a:b],
                copied.u[a:b],
                copied.s[a:b],
                copied.i[a:b],
            )
            return out
        for name, m, t, c in zip(
            ("t_rows", "p_rows", "u_rows", "s_rows", "i_rows"),
            mine,
            theirs,
            (copied.t, copied.p, copied.u, copied.s, copied.i),
            strict=True,
        ):
            setattr(out, name, c[a : a + m.shape[0]] if m.base is t else m.copy())
        return out

    @classmethod
    def pooled(cls, string_id: int, sensor_id: str, partner_id: str, pool: Any) -> SensorString:
        """An empty string of ``pool`` with no rows yet (the pool gives it a block: :meth:`use_block`)."""
        s = cls.__new__(cls)
        s.string_id, s.sensor_id, s.partner_id, s._rej, s.pool, s.count = (
            string_id,
            sensor_id,
            partner_id,
            0,
            pool,
            0,
        )
        s.first_time = s.last_time = math.nan
        return s

    def use_block(self, start: int, t, p, u, s, i) -> None:
        """Make ``t, p, u, s, i`` (the pool's rows from ``start`` on) this string's arrays."""
        self.block_start = start
        self._views = None
        self.t_rows, self.p_rows, self.u_rows, self.s_rows, self.i_rows = t, p, u, s, i

    def set_count(self, count: int) -> None:
        """Hold the first ``count`` rows of the arrays (written in place by a pool or stringer) as detections."""
        self.count = count
        self._views = None
        self._ends()

    def _ends(self) -> None:
        """Cache the first and last detection times (s; NaN when empty)."""
        n = self.count
        self.first_time = float(self.t_rows[0]) if n else math.nan
        self.last_time = float(self.t_rows[n - 1]) if n else math.nan
        if self.pool is not None:
            self.pool.n[self.string_id] = n
            self.pool.last[self.string_id] = self.last_time

    @property
    def rejections(self) -> int:
        """Consecutive latest detections rejected by the owning event's filter (a pooled string's count is
        kept in the pool's ``rej`` array, which the engine reads and writes for many strings at once)."""
        return self._rej if self.pool is None else int(self.pool.rej[self.string_id])

    @rejections.setter
    def rejections(self, count: int) -> None:
        if self.pool is None:
            self._rej = count
        else:
            self.pool.rej[self.string_id] = count

    @property
    def times(self) -> np.ndarray:
        return self.t_rows[: self.count]

    @property
    def positions(self) -> np.ndarray:
        return self.p_rows[: self.count]

    @property
    def los(self) -> np.ndarray:
        return self.u_rows[: self.count]

    @property
    def sigmas(self) -> np.ndarray:
        return self.s_rows[: self.count]

    @property
    def obs_index(self) -> np.ndarray:
        return self.i_rows[: self.count]

    def append(self, index: int, time_s: float, pos, los, sigma: float) -> None:
        """Add one detection (the stringer appends a whole sensor frame at once instead)."""
        n = self.count
        if n == self.t_rows.size:
            self._grow()
        self.t_rows[n] = time_s
        self.p_rows[n] = pos
        self.u_rows[n] = los
        self.s_rows[n] = sigma
        self.i_rows[n] = index
        self.count = n + 1
        self.last_time = float(time_s)
        if n == 0:
            self.first_time = self.last_time
        if self.pool is not None:
            self.pool.n[self.string_id] = n + 1
            self.pool.last[self.string_id] = self.last_time

    def _grow(self) -> None:
        if self.pool is not None:
            self.pool.move(self, 2 * self.t_rows.size)
            return
        cap = 2 * self.t_rows.size
        for name in ("t_rows", "p_rows", "u_rows", "s_rows", "i_rows"):
            old = getattr(self, name)
            new = np.empty((cap,) + old.shape[1:], dtype=old.dtype)
            new[: self.count] = old[: self.count]
            setattr(self, name, new)
        self._views = None

    def truncate(self, k: int) -> None:
        """Keep the first ``k`` detections (fresh buffers: views handed out earlier stay valid)."""
        self.count = k
        if self.pool is not None:
            self.pool.move(self, max(k, INITIAL_CAPACITY))
        else:
            for name in ("t_rows", "p_rows", "u_rows", "s_rows", "i_rows"):
                setattr(self, name, getattr(self, name)[: max(k, INITIAL_CAPACITY)].copy())
            self._views = None
        self._ends()

    def __len__(self) -> int:
        return self.count

    @property
    def confirmed(self) -> bool:
        return self.count >= MIN_CONFIRMED

    def arrays(self):
        """``(times (K,), positions (K,3), los (K,3), sigmas (K,))`` as arrays (views; do not modify)."""
        views = self._views  # (cached: read many times per launch refit; dropped when the arrays move)
        if views is None or len(views[0]) != self.count:
            n = self.count
            views = self._views = self.t_rows[:n], self.p_rows[:n], self.u_rows[:n], self.s_rows[:n]
        return views

    def predict_los(self, time_s: float) -> np.ndarray:
        """Unit LOS at ``time_s`` by linear extrapolation of the last two detections (last one if alone)."""
        if self.count < 2:
            return self.los[-1]
        t0, t1 = self.times[-2], self.times[-1]
        rate = (self.los[-1] - self.los[-2]) / max(t1 - t0, 1e-9)
        u = self.los[-1] + rate * (time_s - t1)
        return u / np.linalg.norm(u)

    def gate_rad(self, time_s: float) -> float:
        """Gate half-angle (rad) around :meth:`predict_los` at ``time_s``."""
        dt = abs(time_s - self.times[-1])
        sigma = self.sigmas[-1]
        if self.count < 2:
            return GATE_SIGMAS * sigma + MAX_ANGULAR_RATE_RAD_S * dt
        return GATE_SIGMAS * PREDICTION_SIGMA_GROWTH * sigma * max(1.0, dt) + MAX_ANGULAR_ACCEL_RAD_S2 * dt**2

    def interpolate(self, time_s):
        """Sensor position and unit LOS at ``time_s`` ``(T,)`` by linear interpolation (NaN outside the span)."""
        t, p, u, _ = self.arrays()
        ts = np.atleast_1d(np.asarray(time_s, dtype=float))
        pos, los = interpolate_rays(t, p, u, ts)
        return pos, los


@numba.njit(cache=True)
def interpolate_rays(t, p, u, ts):
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
