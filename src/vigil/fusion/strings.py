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
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

MAX_ANGULAR_RATE_RAD_S = 1.0e-3  # gate for a 1-detection string: 36 km/s across the line of sight at GEO range
GATE_SIGMAS = 6.0  # gate half-width in LOS standard deviations around the predicted LOS
PREDICTION_SIGMA_GROWTH = 3.0  # 1σ of a 2-point linear LOS prediction one frame ahead is ≈ √5·σ; rounded up
MAX_ANGULAR_ACCEL_RAD_S2 = 2.0e-5  # LOS acceleration margin (plume accel + HEO sensor motion), generous
MAX_GAP_S = 20.0  # a string survives missed detections (and staging) for this long
MIN_CONFIRMED = 2  # detections before a string is used (clutter: two false alarms in one 6σ gate ~1e-6)
PREDICTED_NIS_GATE = 36.0  # χ² (2 dof) gate around a filter-predicted LOS (tail probability e^-18)


@dataclass
class SensorString:
    """Detections of one object by one sensor, in time order (SI, ECEF)."""

    string_id: int
    sensor_id: str
    partner_id: str
    obs_index: list[int] = field(default_factory=list)  # rows of the engine's observation store
    times: list[float] = field(default_factory=list)
    positions: list[np.ndarray] = field(default_factory=list)
    los: list[np.ndarray] = field(default_factory=list)
    sigmas: list[float] = field(default_factory=list)
    rejections: int = 0  # consecutive latest detections rejected by the owning event's filter

    def append(self, index: int, time_s: float, pos, los, sigma: float) -> None:
        self.obs_index.append(int(index))
        self.times.append(float(time_s))
        self.positions.append(np.asarray(pos, dtype=float))
        self.los.append(np.asarray(los, dtype=float))
        self.sigmas.append(float(sigma))

    def __len__(self) -> int:
        return len(self.times)

    @property
    def confirmed(self) -> bool:
        return len(self.times) >= MIN_CONFIRMED

    def arrays(self):
        """``(times (K,), positions (K,3), los (K,3), sigmas (K,))`` as arrays."""
        return np.array(self.times), np.array(self.positions), np.array(self.los), np.array(self.sigmas)

    def predict_los(self, time_s: float) -> np.ndarray:
        """Unit LOS at ``time_s`` by linear extrapolation of the last two detections (last one if alone)."""
        if len(self.times) < 2:
            return self.los[-1]
        t0, t1 = self.times[-2], self.times[-1]
        rate = (self.los[-1] - self.los[-2]) / max(t1 - t0, 1e-9)
        u = self.los[-1] + rate * (time_s - t1)
        return u / np.linalg.norm(u)

    def gate_rad(self, time_s: float) -> float:
        """Gate half-angle (rad) around :meth:`predict_los` at ``time_s``."""
        dt = abs(time_s - self.times[-1])
        sigma = self.sigmas[-1]
        if len(self.times) < 2:
            return GATE_SIGMAS * sigma + MAX_ANGULAR_RATE_RAD_S * dt
        return GATE_SIGMAS * PREDICTION_SIGMA_GROWTH * sigma * max(1.0, dt) + MAX_ANGULAR_ACCEL_RAD_S2 * dt**2

    def interpolate(self, time_s):
        """Sensor position and unit LOS at ``time_s`` ``(T,)`` by linear interpolation (NaN outside the span)."""
        t, p, u, _ = self.arrays()
        ts = np.atleast_1d(np.asarray(time_s, dtype=float))
        pos = np.stack([np.interp(ts, t, p[:, k], left=np.nan, right=np.nan) for k in range(3)], axis=-1)
        los = np.stack([np.interp(ts, t, u[:, k], left=np.nan, right=np.nan) for k in range(3)], axis=-1)
        return pos, los / np.linalg.norm(los, axis=-1, keepdims=True)


def _predictions(strings: list[SensorString], t: float) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`SensorString.predict_los` and :meth:`SensorString.gate_rad` of many strings at once
    (``(S, 3)``, ``(S,)``)."""
    n = np.array([len(s.times) for s in strings])
    last = np.array([s.los[-1] for s in strings])
    prev = np.array([s.los[-2] if len(s.los) > 1 else s.los[-1] for s in strings])
    t1 = np.array([s.times[-1] for s in strings])
    t0 = np.array([s.times[-2] if len(s.times) > 1 else s.times[-1] for s in strings])
    sigma = np.array([s.sigmas[-1] for s in strings])
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
    s2 = np.einsum("sij,sjk,slk->sil", e, cov, e)  # (S, 2, 2)
    var = np.asarray(sigma, dtype=float)[:, None] ** 2  # (D, 1)
    a, b, d = s2[None, :, 0, 0] + var, s2[None, :, 0, 1], s2[None, :, 1, 1] + var  # (D, S) each, closed form
    z = np.einsum("sij,dj->dsi", e, los)  # (D, S, 2) small angles off the prediction
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

    def update(self, index, sensor_id, partner_id, time_s, pos, los, sigma, frame_key=None,
               predictor=None) -> list[SensorString]:
        """See :meth:`Stringer.update`. ``predictor(strings, t, sensor_pos)``, optional, returns
        ``(mask (S,), u (S, 3), cov (S, 3, 3))`` — for the strings where ``mask`` is set, the LOS predicted by something better than the string's own
        extrapolation (the engine passes its events' filters) and that prediction's angular covariance (rad²,
        measurement noise excluded)."""
        changed: dict[int, SensorString] = {}
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
        open_ = [s for s in self._open.get(sensor, []) if t - s.times[-1] <= self.max_gap_s and s.times[-1] < t]
        self._open[sensor] = [s for s in self._open.get(sensor, []) if t - s.times[-1] <= self.max_gap_s]
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
            touched.append(open_[c])
            linked.add(r)
        for r, i in enumerate(rows):
            if r not in linked:
                s = SensorString(next(self._ids), sensor, partner)
                s.append(index[i], time_s[i], pos[i], los[i], sigma[i])
                self.strings[s.string_id] = s
                self._open[sensor].append(s)
                touched.append(s)
        return touched

    def split(self, s: SensorString, k: int) -> SensorString:
        """Cut ``s`` before its ``k``-th detection: ``s`` keeps the head and is closed; the tail becomes a new
        open string (returned). Used when the owning event's filter rejects the tail (a swapped string)."""
        tail = SensorString(next(self._ids), s.sensor_id, s.partner_id, s.obs_index[k:], s.times[k:],
                            s.positions[k:], s.los[k:], s.sigmas[k:])
        del s.obs_index[k:], s.times[k:], s.positions[k:], s.los[k:], s.sigmas[k:]
        s.rejections = 0
        self.strings[tail.string_id] = tail
        group = self._open.setdefault(s.sensor_id, [])
        self._open[s.sensor_id] = [o for o in group if o is not s] + [tail]
        return tail

    def prune(self, now_s: float) -> None:
        """Forget unconfirmed strings that can no longer grow (keeps memory bounded on long runs)."""
        dead = [k for k, s in self.strings.items() if not s.confirmed and now_s - s.times[-1] > self.max_gap_s]
        for k in dead:
            del self.strings[k]
