"""Gating strings against live events' boost filters: predicted positions and LOS, pre-gates, track costs.

Pure functions on the engine's :class:`~vigil.fusion.event.FusedEvent`s and
:class:`~vigil.fusion.strings.SensorString`s (SI, ECEF), used by the engine to continue strings where their
event's filter predicts the object (:func:`filter_los_predictor`), to attach new strings to live events
(:func:`near`, :func:`track_cost`), and to test two events as one object (:func:`overlapping`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .event import FusedEvent
from .strings import SensorString

TRACK_GATE_CHI2_MEAN = 16.0  # mean normalised miss² of a new string's rays to an event's predicted position
PREGATE_M = 30_000.0  # a string's ray this far from an event's prediction is not tested (σ ≲ 2 km)
RECENT_RAYS = 5  # rays of a new string tested against an event's prediction


def positions_at(events: list[FusedEvent], t) -> np.ndarray:
    """Filter-predicted positions (m) ``(T, E, 3)`` of ``events`` at times ``t`` ``(T,)`` s (no covariance;
    :meth:`~vigil.fusion.boost.LosExtendedKalmanFilter.position_at` of all events at once)."""
    x = np.array([e.filter.x for e in events])  # (E, 9)
    dt = np.asarray(t, dtype=float)[:, None] - np.array([e.filter.t for e in events])[None, :]  # (T, E)
    return x[None, :, :3] + dt[..., None] * x[None, :, 3:6] + 0.5 * dt[..., None] ** 2 * x[None, :, 6:]


def near(strings: list[SensorString], events: list[FusedEvent]) -> np.ndarray:
    """``(S, E)`` mask: the last ray of each string passes within :data:`PREGATE_M` of each event's
    predicted position, ahead of the sensor (a cheap pre-gate before :func:`track_cost`)."""
    t = np.array([s.last_time for s in strings])
    p = np.array([s.positions[-1] for s in strings])
    u = np.array([s.los[-1] for s in strings])
    x = positions_at(events, t)  # (S, E, 3)
    d = x - p[:, None, :]
    along = np.einsum("sei,si->se", d, u)
    miss = np.linalg.norm(d - along[..., None] * u[:, None, :], axis=-1)
    return (miss < PREGATE_M) & (along > 0.0)


def track_cost(s: SensorString, event: FusedEvent) -> float:
    """Mean normalised miss² of the last :data:`RECENT_RAYS` rays of ``s`` to ``event``'s predicted position
    (ray noise ``σρ`` and the filter's position variance per axis); compare with :data:`TRACK_GATE_CHI2_MEAN`."""
    t, p, u, sigma = (a[-RECENT_RAYS:] for a in s.arrays())
    total = 0.0
    for k in range(len(t)):
        x, cov = event.filter.state_at(float(t[k]))
        d = x[:3] - p[k]
        rho = d @ u[k]
        perp = d - rho * u[k]
        var = (sigma[k] * rho) ** 2 + np.trace(cov[:3, :3]) / 3
        total += perp @ perp / var / 2
    return total / len(t)


def fits(strings: list[SensorString], event: FusedEvent) -> bool:
    """Every string's recent rays fit ``event``'s filter prediction (:func:`track_cost` within the gate)."""
    return all(track_cost(s, event) <= TRACK_GATE_CHI2_MEAN for s in strings)


def overlapping(a: FusedEvent, b: FusedEvent) -> bool:
    """True when one sensor has strings in both events over a common time span (two objects in its view);
    time-disjoint strings of one sensor are a string that broke (a gap, a crossing) and may be one object."""
    for sa in a.strings:
        for sb in b.strings:
            if sa.sensor_id == sb.sensor_id and sa.first_time <= sb.last_time and sb.first_time <= sa.last_time:
                return True
    return False


def filter_los_predictor(live: list[FusedEvent], owner: dict[int, FusedEvent], jerk_psd: float) -> Callable | None:
    """String continuation by the events' filters (see :meth:`GatedAssignmentStringer.update`): a string of a
    live stereo event (``live``; ``owner``: string id → event) is continued where its event's filter predicts
    the object, not where the string's own 2-point extrapolation points — two plumes crossing in one sensor's
    view keep their identities, and a string back from a gap (staging) is not captured by another plume near
    its stale extrapolation. Returns ``predict(strings, t, sensor_pos) → (mask (S,), u (S, 3), cov (S, 3, 3))``
    (position covariance propagated with white jerk ``jerk_psd`` m²/s⁵ and projected on the view), or None."""
    if not live:
        return None
    index = {id(e): k for k, e in enumerate(live)}
    x = np.array([e.filter.x for e in live])
    cov = np.array([e.filter.P for e in live])
    cov_ij = cov.reshape(-1, 3, 3, 3, 3).transpose(0, 2, 4, 1, 3).reshape(-1, 9, 9)
    t_f = np.array([e.filter.t for e in live])

    def predict(strings, t, sensor_pos):
        which = np.array([index.get(id(owner.get(s.string_id)), -1) for s in strings])
        mask = which >= 0
        k = which[mask]
        dt = t - t_f[k]
        c = np.stack([np.ones_like(dt), dt, 0.5 * dt**2], -1)  # position row of F(dt), per block
        pos = (c[:, None, :] @ x[k].reshape(-1, 3, 3))[:, 0]
        blocks = cov_ij[k]  # (S, i·j, a·b): P[3a+i, 3b+j]
        p_pos = (blocks @ (c[:, :, None] * c[:, None, :]).reshape(-1, 9, 1)).reshape(-1, 3, 3)
        p_pos = p_pos + (jerk_psd * np.abs(dt) ** 5 / 20)[:, None, None] * np.eye(3)
        d = pos - sensor_pos
        rho = np.linalg.norm(d, axis=-1)
        u = d / rho[:, None]
        proj = np.eye(3) - u[:, :, None] * u[:, None, :]
        u_all = np.zeros((len(strings), 3))
        cov_all = np.zeros((len(strings), 3, 3))
        u_all[mask] = u
        cov_all[mask] = proj @ p_pos @ proj / rho[:, None, None] ** 2
        return mask, u_all, cov_all

    return predict
