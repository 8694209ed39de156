"""Gating strings against live events' boost filters: predicted positions and LOS, pre-gates, track costs.

Pure functions on the engine's :class:`~vigil.fusion.events.event.FusedEvent`s and
:class:`~vigil.fusion.strings.stringer.SensorString`s (SI, ECEF), used by the engine to continue strings where their
event's filter predicts the object (:func:`filter_los_predictor`), to attach new strings to live events
(:func:`near`, :func:`track_cost`), and to test two events as one object (:func:`overlapping`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from vigil.fusion.boost.filterstore import FilterStates
from vigil.fusion.events.event import FusedEvent, live_filters
from vigil.fusion.events.owners import Owners, lookup
from vigil.fusion.strings.base import LosPredictor, Prediction
from vigil.fusion.strings.sensorstring import SensorString

TRACK_GATE_CHI2_MEAN = 16.0  # mean normalised miss² of a new string's rays to an event's predicted position
PREGATE_M = 30_000.0  # a string's ray this far from an event's prediction is not tested (σ ≲ 2 km)
RECENT_RAYS = 5  # rays of a new string tested against an event's prediction


def positions_at(events: list[FusedEvent], t) -> np.ndarray:
    """Filter-predicted positions (m) ``(T, E, 3)`` of ``events`` at times ``t`` ``(T,)`` s (no covariance;
    :meth:`~vigil.fusion.boost.filter.LosExtendedKalmanFilter.position_at` of all events at once)."""
    filters = live_filters(events)
    x = np.array([f.x for f in filters])  # (E, 9)
    t_f = np.array([f.t for f in filters])
    return _positions_at(x, t_f, np.atleast_1d(np.asarray(t, dtype=float)))


def latest_positions(events: list[FusedEvent], states: FilterStates | None = None) -> np.ndarray:
    """:func:`positions_at` of ``events`` ``(E, 3)`` at the latest of their filters' times (``states``: the
    filters' states where the caller keeps them, used if they are still those of ``events``' filters). The
    engine's merge test calls :func:`latest_close_pairs`; this and :func:`close_pairs` define what it computes."""
    x, t_f = _states_of(events, states)
    return _positions_at(x, t_f, t_f[np.argmax(t_f)][None])[0]


def _states_of(events: list[FusedEvent], states: FilterStates | None) -> tuple[np.ndarray, np.ndarray]:
    """The filters' ``x`` (E, 9) and ``t`` (E,) of ``events``: from the store of ``states`` where they are those
    of ``events``' filters, else gathered."""
    filters = live_filters(events)
    if states is None or states.filters != filters:  # (identity: the filters define no __eq__)
        return np.array([f.x for f in filters]), np.array([f.t for f in filters], dtype=float)
    return states.store.x[states.rows], states.store.t[states.rows]


@numba.njit(cache=True)
def _positions_at(x, t_f, t):
    """Body of :func:`positions_at`, compiled (numpy's operation order: ``(r + dt v) + (0.5 dt²) a``, ``dt²``
    as ``dt · dt``, as numpy's square)."""
    out = np.empty((t.size, t_f.size, 3))
    for i in range(t.size):
        for k in range(t_f.size):
            dt = t[i] - t_f[k]
            h = 0.5 * (dt * dt)
            for c in range(3):
                out[i, k, c] = (x[k, c] + dt * x[k, 3 + c]) + h * x[k, 6 + c]
    return out


def close_pairs(pos: np.ndarray, distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``i < j`` (row-major order) of positions ``pos`` ``(E, 3)`` m closer than ``distance_m``
    (squared distances compared; compiled: the ``(E, E, 3)`` difference array cost more than the test)."""
    return _close_pairs(np.ascontiguousarray(pos, dtype=float), float(distance_m) ** 2)


@numba.njit(cache=True)
def _close_pairs(pos, limit2):
    n = pos.shape[0]
    ii = np.empty(n * (n - 1) // 2, dtype=np.int64)
    jj = np.empty(n * (n - 1) // 2, dtype=np.int64)
    m = 0
    for i in range(n):
        for j in range(i + 1, n):
            d0, d1, d2 = pos[i, 0] - pos[j, 0], pos[i, 1] - pos[j, 1], pos[i, 2] - pos[j, 2]
            if d0 * d0 + d1 * d1 + d2 * d2 < limit2:
                ii[m], jj[m] = i, j
                m += 1
    return ii[:m], jj[:m]


def latest_close_pairs(states: FilterStates, distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`close_pairs` of the :func:`latest_positions` of the filters of ``states`` (one compiled call, read in
    the store: the merge test's each step, where the gathering and the two calls cost more than the test)."""
    store = states.store
    return _latest_close_pairs(store.x, store.t, states.rows, float(distance_m) ** 2)


@numba.njit(cache=True)
def _latest_close_pairs(x, t, rows, limit2):
    """Body of :func:`latest_close_pairs`: the latest time as ``t_f[np.argmax(t_f)]`` (the first maximum, or
    the first NaN), the positions as :func:`_positions_at`, the pairs as :func:`_close_pairs`."""
    n = rows.size
    latest = t[rows[0]] if n else 0.0
    for k in range(1, n):
        if latest != latest:
            break
        v = t[rows[k]]
        if v > latest or v != v:
            latest = v
    pos = np.empty((n, 3))
    for k in range(n):
        r = rows[k]
        dt = latest - t[r]
        h = 0.5 * (dt * dt)
        for c in range(3):
            pos[k, c] = (x[r, c] + dt * x[r, 3 + c]) + h * x[r, 6 + c]
    return _close_pairs(pos, limit2)


def near(
    strings: list[SensorString], events: list[FusedEvent], states: FilterStates | None = None
) -> np.ndarray:
    """``(S, E)`` mask: the last ray of each string passes within :data:`PREGATE_M` of each event's
    predicted position, ahead of the sensor (a cheap pre-gate before :func:`track_cost`; compiled).
    ``states``: as for :func:`latest_positions`."""
    if not strings or not events:
        return np.zeros((len(strings), len(events)), dtype=np.bool_)
    t = np.array([s.last_time for s in strings])
    p = np.array([s.positions[-1] for s in strings])
    u = np.array([s.los[-1] for s in strings])
    x, t_f = _states_of(events, states)
    return _near(t, p, u, x, t_f, PREGATE_M)


@numba.njit(cache=True)
def _near(t, p, u, x, t_f, pregate):
    """Body of :func:`near`: positions as :func:`positions_at`, miss and range along each ray."""
    out = np.zeros((t.size, t_f.size), dtype=np.bool_)
    for i in range(t.size):
        for k in range(t_f.size):
            dt = t[i] - t_f[k]
            d0 = x[k, 0] + dt * x[k, 3] + 0.5 * dt**2 * x[k, 6] - p[i, 0]
            d1 = x[k, 1] + dt * x[k, 4] + 0.5 * dt**2 * x[k, 7] - p[i, 1]
            d2 = x[k, 2] + dt * x[k, 5] + 0.5 * dt**2 * x[k, 8] - p[i, 2]
            along = d0 * u[i, 0] + d1 * u[i, 1] + d2 * u[i, 2]
            m0, m1, m2 = d0 - along * u[i, 0], d1 - along * u[i, 1], d2 - along * u[i, 2]
            out[i, k] = math.sqrt(m0 * m0 + m1 * m1 + m2 * m2) < pregate and along > 0.0
    return out


def track_cost(s: SensorString, event: FusedEvent) -> float:
    """Mean normalised miss² of the last :data:`RECENT_RAYS` rays of ``s`` to ``event``'s predicted position
    (:meth:`~vigil.fusion.boost.filter.BoostFilter.ray_misses` of its filter); compare with
    :data:`TRACK_GATE_CHI2_MEAN`."""
    t, p, u, sigma = (a[-RECENT_RAYS:] for a in s.arrays())
    f = event.filter
    assert f is not None  # (gating is against live events: each has a filter)
    return f.ray_misses(t, p, u, sigma)


def fits(strings: list[SensorString], event: FusedEvent) -> bool:
    """Every string's recent rays fit ``event``'s filter prediction (:func:`track_cost` within the gate)."""
    return all(track_cost(s, event) <= TRACK_GATE_CHI2_MEAN for s in strings)


def overlapping(a: FusedEvent, b: FusedEvent) -> bool:
    """True when one sensor has strings in both events over a common time span (two objects in its view);
    time-disjoint strings of one sensor are a string that broke (a gap, a crossing) and may be one object."""
    for sa in a.strings:
        for sb in b.strings:
            if (
                sa.sensor_id == sb.sensor_id
                and sa.first_time <= sb.last_time
                and sb.first_time <= sa.last_time
            ):
                return True
    return False


def filter_los_predictor(
    live: list[FusedEvent], owner: Owners, jerk_psd: float, states: FilterStates | None = None
) -> FilterLosPredictor | None:
    """String continuation by the events' filters (see :meth:`GatedAssignmentStringer.update`): a string of a
    live stereo event (``live``; ``owner``: string id → event) is continued where its event's filter predicts
    the object, not where the string's own 2-point extrapolation points — two plumes crossing in one sensor's
    view keep their identities, and a string back from a gap (staging) is not captured by another plume near
    its stale extrapolation. Returns a :class:`FilterLosPredictor` (position covariance propagated with white
    jerk ``jerk_psd`` m²/s⁵ and projected on the view), or None. ``states``: the filters' states kept from the
    previous step (:class:`FilterStates`), used where they are still those of ``live``'s filters."""
    return FilterLosPredictor(live, owner, jerk_psd, states) if live else None


class FilterLosPredictor(LosPredictor):
    """``predict(string ids (int array), t, sensor_pos) → (mask (S,), u (S, 3), cov (S, 3, 3))`` of
    :func:`filter_los_predictor`; :meth:`per_string` is the same with a time and sensor position per string
    (the strings of several sensor frames in one compiled call: :meth:`frames`). Holds the events ``live``, the
    string id → row array ``slot`` (:meth:`~vigil.fusion.events.owners.Owners.live_rows`) and their filters' states
    (:attr:`states`, rows of a :class:`~vigil.fusion.boost.filterstore.FilterStore` whose arrays it reads: ``x``,
    ``cov``, ``t_f``; the engine's filter stage then runs the filters in place there)."""

    def __init__(
        self, live: list[FusedEvent], owner: Owners, jerk_psd: float, states: FilterStates | None = None
    ) -> None:
        self.live = live
        self.slot = owner.live_rows(live)  # string id -> row of `live` (-1: none)
        filters = live_filters(live)
        if states is None or states.filters != filters:  # (identity: the filters define no __eq__)
            states = FilterStates.of(filters, states)
        self.states = states
        store = states.store
        self.x, self.cov, self.t_f = store.x, store.cov, store.t
        self.rows = states.rows  # row of `live` -> row of the store
        self.jerk_psd = float(jerk_psd)

    def __call__(self, ids: np.ndarray, t: float, sensor_pos: np.ndarray) -> Prediction:
        """See :meth:`LosPredictor.__call__`."""
        return self.per_string(
            ids,
            np.full(ids.size, float(t)),
            np.repeat(np.asarray(sensor_pos, dtype=float).reshape(1, 3), ids.size, axis=0),
        )

    def frames(self, ids: np.ndarray, stops: np.ndarray, t: np.ndarray, sensor_pos: np.ndarray) -> Prediction:
        """See :meth:`LosPredictor.frames`: one compiled call for all the frames' strings (:meth:`per_string`)."""
        return self.per_string(ids, t, sensor_pos)

    def per_string(self, ids: np.ndarray, t: np.ndarray, sensor_pos: np.ndarray) -> Prediction:
        """The prediction of strings ``ids`` at times ``t`` (S,) s from sensor positions ``sensor_pos`` (S, 3) m."""
        which = lookup(self.slot, ids)
        u_all, cov_all = _predict_los(
            self.x, self.cov, self.t_f, self.rows, which, t, sensor_pos, self.jerk_psd
        )
        return which >= 0, u_all, cov_all


@numba.njit(cache=True)
def _predict_los(x, cov, t_f, rows, which, t, sensor_pos, jerk_psd):
    """Compiled body of :func:`filter_los_predictor`'s ``predict``: for string ``j`` of event ``which[j]``
    (-1: none, zeros; its state in row ``rows[which[j]]`` of ``x``, ``cov``, ``t_f``), the unit LOS ``(S, 3)`` from ``sensor_pos[j]`` to the filter-predicted position at ``t[j]``
    and its angular covariance ``(S, 3, 3)`` rad²: ``Π P_pos Π / ρ²`` with ``Π = I − u uᵀ`` and ``P_pos`` the
    position block of ``F P Fᵀ`` plus white jerk ``jerk_psd |Δt|⁵/20`` per axis (state (r, v, a), blocks of 3)."""
    m = which.size
    u_all = np.zeros((m, 3))
    cov_all = np.zeros((m, 3, 3))
    c = np.empty(3)
    cc = np.empty((3, 3))  # c[a] c[b], and below proj[i, a] p_pos[a, b]: products formed once, not per entry
    pp = np.empty((3, 3))  # (the same operations in the same order: the same values as the 4-deep loops)
    p_pos = np.empty((3, 3))
    proj = np.empty((3, 3))
    for j in range(m):
        if which[j] < 0:
            continue
        k = rows[which[j]]
        dt = t[j] - t_f[k]
        c[0], c[1], c[2] = 1.0, dt, 0.5 * dt * dt
        for a in range(3):
            for b in range(3):
                cc[a, b] = c[a] * c[b]
        q = jerk_psd * abs(dt) ** 5 / 20.0
        rho2 = 0.0
        for i in range(3):
            d = c[0] * x[k, i] + c[1] * x[k, 3 + i] + c[2] * x[k, 6 + i] - sensor_pos[j, i]
            u_all[j, i] = d
            rho2 += d * d
            for jj in range(3):
                acc = 0.0
                for a in range(3):
                    for b in range(3):
                        acc += cc[a, b] * cov[k, 3 * a + i, 3 * b + jj]
                p_pos[i, jj] = acc + (q if i == jj else 0.0)
        rho = math.sqrt(rho2)
        for i in range(3):
            u_all[j, i] /= rho
        for i in range(3):
            for jj in range(3):
                proj[i, jj] = (1.0 if i == jj else 0.0) - u_all[j, i] * u_all[j, jj]
        for i in range(3):
            for a in range(3):
                for b in range(3):
                    pp[a, b] = proj[i, a] * p_pos[a, b]
            for jj in range(3):
                acc = 0.0
                for a in range(3):
                    for b in range(3):
                        acc += pp[a, b] * proj[b, jj]
                cov_all[j, i, jj] = acc / rho2
    return u_all, cov_all
