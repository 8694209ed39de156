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
                 "_u", "_s", "_i")

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
        """Cache the first and last detection times (s; NaN when empty): read every frame by the engine."""
        n = self._n
        self.first_time = float(self._t[0]) if n else math.nan
        self.last_time = float(self._t[n - 1]) if n else math.nan

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
    (``(S, 3)``, ``(S,)``)."""
    m = len(strings)
    n = np.empty(m, dtype=np.int64)
    last, prev = np.empty((m, 3)), np.empty((m, 3))
    t0, t1, sigma = np.empty(m), np.empty(m), np.empty(m)
    for j, s in enumerate(strings):
        k = s._n
        n[j] = k
        last[j] = s._u[k - 1]
        prev[j] = s._u[max(k - 2, 0)]
        t1[j] = s._t[k - 1]
        t0[j] = s._t[max(k - 2, 0)]
        sigma[j] = s._s[k - 1]
    rate = (last - prev) / np.maximum(t1 - t0, 1e-9)[:, None]
    u = last + rate * (t - t1)[:, None]
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    dt = np.abs(t - t1)
    gate = np.where(n < 2, GATE_SIGMAS * sigma + MAX_ANGULAR_RATE_RAD_S * dt,
                    GATE_SIGMAS * PREDICTION_SIGMA_GROWTH * sigma * np.maximum(1.0, dt) + MAX_ANGULAR_ACCEL_RAD_S2 * dt**2)
    return u, gate


FORBIDDEN = 1e6  # assignment cost of a pair outside the gate


def link_cost(strings: list[SensorString], t: float, los, sigma, predictor=None, sensor_pos=None) -> np.ndarray:
    """``(D, S)`` cost of linking detections (unit ``los`` ``(D, 3)``, noise ``sigma`` ``(D,)``) to strings at
    ``t``: the negative log-likelihood ``NIS + ln det(S/σ²)`` of the detection under each string's predicted
    LOS (covariance ``S``), :data:`FORBIDDEN` outside the gate. The determinant term makes a stale string
    with a wide gate lose a detection to a fresh string that predicts it well (the plain normalised angle
    favoured the wide gate). Own extrapolation: isotropic ``S = (gate/6)²``, gated at 6σ; a ``predictor``
    (see :meth:`GatedAssignmentStringer.update`; ``sensor_pos`` (3,) m is passed to it) replaces it, gated at
    :data:`PREDICTED_NIS_GATE`."""
    los = np.asarray(los, dtype=float)
    u, gate = _predictions(strings, t)
    sp = gate / GATE_SIGMAS
    ang = np.arccos(np.clip(los @ u.T, -1.0, 1.0))  # (D, S)
    nis = (ang / sp) ** 2
    logdet = 4.0 * np.log(sp[None, :] / np.asarray(sigma)[:, None])
    cost = np.where(ang <= gate, nis + logdet, FORBIDDEN)
    if predictor is not None:
        mask, up, cov = predictor(strings, t, sensor_pos)
        if np.any(mask):
            cols = np.flatnonzero(mask)
            cost[:, cols] = _predicted_cost(los, np.asarray(sigma, dtype=float), up[cols], cov[cols])
    return cost


def _predicted_cost(los, sigma, u, cov) -> np.ndarray:
    """``(D, S)`` NIS + ln det(S/σ²) of detections against predicted LOS ``u`` ``(S, 3)`` with angular
    covariance ``cov`` ``(S, 3, 3)`` (rad²), gated at :data:`PREDICTED_NIS_GATE`."""
    from .triangulate import tangent_basis

    e1, e2 = tangent_basis(u)
    e = np.stack([e1, e2], axis=1)  # (S, 2, 3)
    s2 = e @ cov @ e.transpose(0, 2, 1)  # (S, 2, 2)
    var = np.asarray(sigma, dtype=float)[:, None] ** 2  # (D, 1)
    a, b, d = s2[None, :, 0, 0] + var, s2[None, :, 0, 1], s2[None, :, 1, 1] + var  # (D, S) each, closed form
    z = (los @ e.reshape(-1, 3).T).reshape(len(los), -1, 2)  # (D, S, 2) small angles off the prediction
    det = a * d - b * b
    nis = (d * z[..., 0] ** 2 - 2.0 * b * z[..., 0] * z[..., 1] + a * z[..., 1] ** 2) / det
    logdet = np.log(det / var**2)
    ahead = los @ u.T > 0.0
    return np.where((nis <= PREDICTED_NIS_GATE) & ahead, nis + logdet, FORBIDDEN)


class Stringer(ABC):
    """Base of string builders: consume detections frame by frame, keep the strings."""

    @abstractmethod
    def update(self, index, sensor_id, partner_id, time_s, pos, los, sigma, frame_key=None,
               predictor=None) -> list[SensorString]:
        """Add detections (parallel arrays of one chunk); return the strings that changed.

        ``frame_key`` (optional, parallel) groups detections into one sensor frame (default: ``time_s``; the
        engine passes the reception time, since light-time-corrected times differ within a frame)."""


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
        order = np.lexsort((np.asarray(sensor_id).astype(str), frame_key))
        keys = [(sensor_id[i], frame_key[i]) for i in order]
        starts = [k for k in range(len(keys)) if k == 0 or keys[k] != keys[k - 1]] + [len(keys)]
        for a, b in zip(starts[:-1], starts[1:], strict=True):
            rows = order[a:b]
            sensor = str(sensor_id[rows[0]])
            for s in self._link_frame(sensor, str(partner_id[rows[0]]), rows, index, time_s, pos, los, sigma,
                                      predictor):
                changed[s.string_id] = s
        return list(changed.values())

    def _link_frame(self, sensor, partner, rows, index, time_s, pos, los, sigma, predictor=None):
        t = float(time_s[rows[0]])
        alive = [s for s in self._open.get(sensor, []) if t - s.last_time <= self.max_gap_s]
        self._open[sensor] = alive
        open_ = [s for s in alive if s.last_time < t]
        pairs = []
        if open_:
            cost = link_cost(open_, t, np.asarray(los)[rows], np.asarray(sigma)[rows], predictor,
                             np.asarray(pos)[rows[0]])
            ri, ci = linear_sum_assignment(cost)
            pairs = [(r, c) for r, c in zip(ri, ci, strict=True) if cost[r, c] < FORBIDDEN]
        touched = []
        linked = set()
        for r, c in pairs:
            i = rows[r]
            open_[c].append(index[i], time_s[i], pos[i], los[i], sigma[i])
            self.new_rows.setdefault(open_[c].string_id, []).append(int(i))
            touched.append(open_[c])
            linked.add(r)
        for r, i in enumerate(rows):
            if r not in linked:
                s = SensorString(next(self._ids), sensor, partner)
                s.append(index[i], time_s[i], pos[i], los[i], sigma[i])
                self.new_rows[s.string_id] = [int(i)]
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
