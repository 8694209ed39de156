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

import numba
import numpy as np
from scipy.optimize import linear_sum_assignment

MAX_ANGULAR_RATE_RAD_S = 1.0e-3  # gate for a 1-detection string: 36 km/s across the line of sight at GEO range
GATE_SIGMAS = 6.0  # gate half-width in LOS standard deviations around the predicted LOS
PREDICTION_SIGMA_GROWTH = 3.0  # 1σ of a 2-point linear LOS prediction one frame ahead is ≈ √5·σ; rounded up
MAX_ANGULAR_ACCEL_RAD_S2 = 2.0e-5  # LOS acceleration margin (plume accel + HEO sensor motion), generous
MAX_GAP_S = 20.0  # a string survives missed detections (and staging) for this long
MIN_CONFIRMED = 2  # detections before a string is used (clutter: two false alarms in one 6σ gate ~1e-6)
INITIAL_CAPACITY = 64  # detections a new string can hold before its arrays grow (doubling)
PREDICTED_NIS_GATE = 36.0  # χ² (2 dof) gate around a filter-predicted LOS (tail probability e^-18)


class SensorString:
    """Detections of one object by one sensor, in time order (SI, ECEF).

    Stored in growable arrays (no per-detection Python objects): ``times`` ``(K,)`` s, ``positions``
    ``(K, 3)`` m, ``los`` ``(K, 3)`` unit, ``sigmas`` ``(K,)`` rad and ``obs_index`` ``(K,)`` (rows of the
    engine's observation store) are read-only views of the first ``K`` rows.
    """

    __slots__ = ("string_id", "sensor_id", "partner_id", "rejections", "first_time", "last_time", "_n", "_t", "_p",
                 "_u", "_s", "_i", "_tail")

    def __init__(self, string_id: int, sensor_id: str, partner_id: str, obs_index=(), times=(), positions=(),
                 los=(), sigmas=()) -> None:
        self.string_id = string_id
        self.sensor_id = sensor_id
        self.partner_id = partner_id
        self.rejections = 0  # consecutive latest detections rejected by the owning event's filter
        n = len(times)
        cap = max(INITIAL_CAPACITY, n)
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
        """Cache the first and last detection times (s; NaN when empty) and the tail (both read every frame)."""
        n = self._n
        self.first_time = float(self._t[0]) if n else math.nan
        self.last_time = float(self._t[n - 1]) if n else math.nan
        self._tail = np.zeros((2, 5))  # rows (second last, last) of (t, los, σ): the 2-point prediction's input
        for row, k in enumerate((max(n - 2, 0), n - 1)):
            if n:
                self._tail[row] = (self._t[k], *self._u[k], self._s[k])

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

    def append(self, index: int, time_s: float, pos, los, sigma: float, tail_row=None) -> None:
        """Add one detection. ``tail_row`` (optional) is ``(t, los, σ)`` as one (5,) row (the stringer passes
        a row of its per-chunk array: one copy instead of three)."""
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
        tail = self._tail
        if tail_row is None:
            tail_row = (time_s, *los, sigma)
        tail[0] = tail[1]
        tail[1] = tail_row
        if n == 0:
            self.first_time = self.last_time
            tail[0] = tail[1]

    def _grow(self) -> None:
        cap = 2 * self._t.size
        for name in ("_t", "_p", "_u", "_s", "_i"):
            old = getattr(self, name)
            new = np.empty((cap,) + old.shape[1:], dtype=old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def truncate(self, k: int) -> None:
        """Keep the first ``k`` detections (fresh buffers: views handed out earlier stay valid)."""
        for name in ("_t", "_p", "_u", "_s", "_i"):
            setattr(self, name, getattr(self, name)[:max(k, INITIAL_CAPACITY)].copy())
        self._n = k
        self._ends()

    def __len__(self) -> int:
        return self._n

    @property
    def confirmed(self) -> bool:
        return self._n >= MIN_CONFIRMED

    def arrays(self):
        """``(times (K,), positions (K,3), los (K,3), sigmas (K,))`` as arrays (views; do not modify)."""
        n = self._n
        return self._t[:n], self._p[:n], self._u[:n], self._s[:n]

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
    (``(S, 3)``, ``(S,)``), from each string's cached tail (its last two detections)."""
    tails = np.array([s._tail for s in strings])  # (S, 2, 5)
    two = np.fromiter((s._n >= 2 for s in strings), dtype=np.bool_, count=len(strings))
    return _predict_kernel(tails, two, float(t))


@numba.njit(cache=True)
def _predict_kernel(tails, two, t):
    """Compiled body of :func:`_predictions` on the strings' tails ``(S, 2, 5)``: rows (second last, last) of
    ``(t, los, σ)``."""
    m = tails.shape[0]
    u = np.empty((m, 3))
    gate = np.empty(m)
    sigma = tails[:, 1, 4]
    for j in range(m):
        t0, t1 = tails[j, 0, 0], tails[j, 1, 0]
        rate_dt = (t - t1) / max(t1 - t0, 1e-9)
        norm = 0.0
        for c in range(3):
            u[j, c] = tails[j, 1, 1 + c] + (tails[j, 1, 1 + c] - tails[j, 0, 1 + c]) * rate_dt
            norm += u[j, c] * u[j, c]
        norm = math.sqrt(norm)
        for c in range(3):
            u[j, c] /= norm
        dt = abs(t - t1)
        if two[j]:
            gate[j] = GATE_SIGMAS * PREDICTION_SIGMA_GROWTH * sigma[j] * max(1.0, dt) + MAX_ANGULAR_ACCEL_RAD_S2 * dt**2
        else:
            gate[j] = GATE_SIGMAS * sigma[j] + MAX_ANGULAR_RATE_RAD_S * dt
    return u, gate


FORBIDDEN = 1e6  # assignment cost of a pair outside the gate


def link_cost(strings: list[SensorString], t: float, los, sigma, predictor=None, sensor_pos=None) -> np.ndarray:
    """``(D, S)`` cost of linking detections (unit ``los`` ``(D, 3)``, noise ``sigma`` ``(D,)``) to strings at
    ``t``: the negative log-likelihood ``NIS + ln det(S/σ²)`` of the detection under each string's predicted
    LOS (covariance ``S``), :data:`FORBIDDEN` outside the gate. The determinant term makes a stale string
    with a wide gate lose a detection to a fresh string that predicts it well (the plain normalised angle
    favoured the wide gate). Own extrapolation: isotropic ``S = (gate/6)²``, gated at 6σ; a ``predictor``
    (see :meth:`GatedAssignmentStringer.update`; ``sensor_pos`` (3,) m is passed to it) replaces it, gated at
    :data:`PREDICTED_NIS_GATE`. One compiled call (:func:`_cost_kernel`)."""
    los = np.ascontiguousarray(los, dtype=float)
    sigma = np.ascontiguousarray(sigma, dtype=float)
    u, gate = _predictions(strings, t)
    mask, up, cov = None, None, None
    if predictor is not None:
        mask, up, cov = predictor(strings, t, sensor_pos)
    if mask is None or not np.any(mask):
        mask, up, cov = np.zeros(len(strings), dtype=np.bool_), np.zeros((1, 3)), np.zeros((1, 3, 3))
    return _cost_kernel(los, sigma, u, gate, np.asarray(mask, dtype=np.bool_), np.ascontiguousarray(up),
                        np.ascontiguousarray(cov))


@numba.njit(cache=True)
def _cost_kernel(los, sigma, u, gate, mask, up, cov):
    """``(D, S)`` link costs: own extrapolation (``u``, ``gate``) where ``mask`` is false, else the predicted
    LOS ``up`` with angular covariance ``cov`` (closed-form 2×2 in the tangent plane of ``up``)."""
    n_d, n_s = los.shape[0], u.shape[0]
    cost = np.empty((n_d, n_s))
    for j in range(n_s):
        if mask[j]:
            _predicted_column(los, sigma, up[j], cov[j], cost, j)
            continue
        sp = gate[j] / GATE_SIGMAS
        cos_gate = math.cos(min(gate[j], math.pi))
        for i in range(n_d):
            dot = min(max(los[i, 0] * u[j, 0] + los[i, 1] * u[j, 1] + los[i, 2] * u[j, 2], -1.0), 1.0)
            cost[i, j] = FORBIDDEN
            if dot >= cos_gate:  # cheap pre-test; the gate itself is on the angle
                ang = math.acos(dot)
                if ang <= gate[j]:
                    cost[i, j] = (ang / sp) ** 2 + 4.0 * math.log(sp / sigma[i])
    return cost


@numba.njit(cache=True)
def _predicted_column(los, sigma, u, cov, cost, j):
    """Column ``j`` of :func:`_cost_kernel` for a filter-predicted LOS ``u`` (3,) with covariance ``cov``
    (3, 3) rad²: NIS + ln det(S/σ²), gated at :data:`PREDICTED_NIS_GATE` and to the hemisphere ahead."""
    x, y, z = u[0], u[1], u[2]
    if abs(z) < 0.9:  # the helper axis and handedness of triangulate.tangent_basis
        a, b, c = -y, x, 0.0
    else:
        a, b, c = 0.0, -z, y
    n = math.sqrt(a * a + b * b + c * c)
    e1 = np.array([a / n, b / n, c / n])
    e2 = np.array([y * e1[2] - z * e1[1], z * e1[0] - x * e1[2], x * e1[1] - y * e1[0]])
    ce1, ce2 = cov @ e1, cov @ e2
    s00, s01, s11 = e1 @ ce1, e1 @ ce2, e2 @ ce2
    for i in range(los.shape[0]):
        var = sigma[i] * sigma[i]
        aa, bb, dd = s00 + var, s01, s11 + var
        z0 = los[i, 0] * e1[0] + los[i, 1] * e1[1] + los[i, 2] * e1[2]
        z1 = los[i, 0] * e2[0] + los[i, 1] * e2[1] + los[i, 2] * e2[2]
        det = aa * dd - bb * bb
        nis = (dd * z0 * z0 - 2.0 * bb * z0 * z1 + aa * z1 * z1) / det
        ahead = los[i, 0] * x + los[i, 1] * y + los[i, 2] * z > 0.0
        cost[i, j] = nis + math.log(det / var**2) if (nis <= PREDICTED_NIS_GATE and ahead) else FORBIDDEN


class Stringer(ABC):
    """Base of string builders: consume detections frame by frame, keep the strings."""

    @abstractmethod
    def update(self, index, sensor_id, partner_id, time_s, pos, los, sigma, frame_key=None,
               predictor=None) -> list[SensorString]:
        """Add detections (parallel arrays of one chunk); return the strings that changed.

        ``frame_key`` (optional, parallel) groups detections into one sensor frame (default: ``time_s``; the
        engine passes the reception time, since light-time-corrected times differ within a frame)."""


class _Chunk:
    """One update's detection arrays, with Python lists of the scalars and ``(t, los, σ)`` rows made once per
    chunk (appending reads them per detection)."""

    __slots__ = ("index", "t", "pos", "los", "sigma", "_sig", "_tail")

    def __init__(self, index, time_s, pos, los, sigma) -> None:
        self.los = np.asarray(los, dtype=float)
        self.sigma = np.asarray(sigma, dtype=float)
        self.pos = np.asarray(pos, dtype=float)
        self.index = np.asarray(index).tolist()
        self.t = np.asarray(time_s, dtype=float).tolist()
        self._sig = self.sigma.tolist()
        self._tail = np.column_stack([np.asarray(time_s, dtype=float), self.los, self.sigma])

    def push(self, s: SensorString, i: int) -> None:
        """Append detection ``i`` of the chunk to ``s``."""
        s.append(self.index[i], self.t[i], self.pos[i], self.los[i], self._sig[i], self._tail[i])


class GatedAssignmentStringer(Stringer):
    """Link each sensor frame's detections to open strings by angular distance to the predicted LOS.

    Cost is the angle to :meth:`SensorString.predict_los`; pairs outside :meth:`SensorString.gate_rad`
    are forbidden; the frame is solved by global assignment. Unlinked detections open new strings.
    """

    def __init__(self, max_gap_s: float = MAX_GAP_S) -> None:
        self.max_gap_s = max_gap_s
        self.strings: dict[int, SensorString] = {}
        self._open: dict[str, list[SensorString]] = {}
        self._ids = itertools.count(1)
        self.new_rows: dict[int, list[int]] = {}  # string_id -> rows of the last update's arrays it took

    def update(self, index, sensor_id, partner_id, time_s, pos, los, sigma, frame_key=None,
               predictor=None) -> list[SensorString]:
        """See :meth:`Stringer.update`. ``predictor(strings, t, sensor_pos)``, optional, returns
        ``(mask (S,), u (S, 3), cov (S, 3, 3))`` — for the strings where ``mask`` is set, the LOS predicted by something better than the string's own
        extrapolation (the engine passes its events' filters) and that prediction's angular covariance (rad²,
        measurement noise excluded)."""
        changed: dict[int, SensorString] = {}
        self.new_rows = {}
        frame_key = np.asarray(time_s if frame_key is None else frame_key)
        sensor_str = np.asarray(sensor_id).astype(str)
        order = np.lexsort((sensor_str, frame_key))
        if not len(order):
            return []
        ks, kf = sensor_str[order], frame_key[order]
        starts = np.r_[0, np.flatnonzero((ks[1:] != ks[:-1]) | (kf[1:] != kf[:-1])) + 1, len(order)].tolist()
        chunk = _Chunk(index, time_s, pos, los, sigma)
        for a, b in zip(starts[:-1], starts[1:], strict=True):
            rows = order[a:b]
            sensor = str(sensor_id[rows[0]])
            for s in self._link_frame(sensor, str(partner_id[rows[0]]), rows, chunk, predictor):
                changed[s.string_id] = s
        return list(changed.values())

    def _link_frame(self, sensor, partner, rows, chunk, predictor=None):
        t = chunk.t[int(rows[0])]
        alive = [s for s in self._open.get(sensor, []) if t - s.last_time <= self.max_gap_s]
        self._open[sensor] = alive
        open_ = [s for s in alive if s.last_time < t]
        linked = np.zeros(len(rows), dtype=np.bool_)
        touched = []
        if open_:
            cost = link_cost(open_, t, chunk.los[rows], chunk.sigma[rows], predictor, chunk.pos[rows[0]])
            ri, ci = linear_sum_assignment(cost)
            good = cost[ri, ci] < FORBIDDEN
            ri, ci = ri[good], ci[good]
            linked[ri] = True
            for c, i in zip(ci.tolist(), rows[ri].tolist(), strict=True):
                s = open_[c]
                chunk.push(s, i)
                self.new_rows.setdefault(s.string_id, []).append(i)
                touched.append(s)
        for i in rows[~linked].tolist():
            s = SensorString(next(self._ids), sensor, partner)
            chunk.push(s, i)
            self.new_rows[s.string_id] = [i]
            self.strings[s.string_id] = s
            self._open[sensor].append(s)
            touched.append(s)
        return touched

    def split(self, s: SensorString, k: int) -> SensorString:
        """Cut ``s`` before its ``k``-th detection: ``s`` keeps the head and is closed; the tail becomes a new
        open string (returned). Used when the owning event's filter rejects the tail (a swapped string)."""
        tail = SensorString(next(self._ids), s.sensor_id, s.partner_id, s.obs_index[k:], s.times[k:],
                            s.positions[k:], s.los[k:], s.sigmas[k:])
        s.truncate(k)
        s.rejections = 0
        self.strings[tail.string_id] = tail
        group = self._open.setdefault(s.sensor_id, [])
        self._open[s.sensor_id] = [o for o in group if o is not s] + [tail]
        return tail

    def prune(self, now_s: float) -> None:
        """Forget unconfirmed strings that can no longer grow (keeps memory bounded on long runs)."""
        dead = [k for k, s in self.strings.items() if s._n < MIN_CONFIRMED and now_s - s.last_time > self.max_gap_s]
        for k in dead:
            del self.strings[k]
