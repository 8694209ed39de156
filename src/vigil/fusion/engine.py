"""The fusion engine: time-ordered detections in, versioned warnings out.

``FusionEngine(...)`` is built from swappable parts (stringer, associator, launch estimator, boost
filter settings, impact predictor, classifier) and iterated over observations chunk by chunk
(:attr:`FusionConfig.chunk_s` of frame time); it yields ``(time_s, [Warning, …])`` after each chunk.
The loop reads like the chain: string → associate → filter → estimate launch → detect burnout →
predict impact → classify → issue. A first warning is issued as soon as two sensors' strings are paired
(two frames each), then improved versions at the launch refits (:data:`REFIT_SPANS_S`, and once the launch
window plus :attr:`FusionConfig.update_interval_s` is covered), and at burnout (end of detections for :attr:`FusionConfig.burnout_gap_s`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from vigil.records import ObservationBatch

from .ascentfit import seed_start
from .associate import Associator, MissDistanceAssociator, triangulation_seeds
from .boost import JERK_PSD_M2_S5, run_filters
from .classify import Classifier, EnergyClassifier
from .event import FusedEvent, estimate_burnout, init_filter, to_warning
from .impact import ImpactPredictor, UnscentedImpactPredictor
from .launch import ASCENT_WINDOW_S, TL_GRID_S, AscentBackFitEstimator, LaunchEstimator
from .lighttime import correct_light_time
from .mono import mono_launch, point_launch
from .strings import GatedAssignmentStringer, SensorString, Stringer

TRACK_GATE_CHI2_MEAN = 16.0  # mean normalised miss² of a new string's rays to an event's predicted position
# Launch refits when the event's data span passes these (s), then once at launch window + update interval (the
# final fit). Fewer than the 3/6/10/15/20/30/40 s of round 2 (the fits were ~40 % of the 100-launch salvo's
# time); on the 88 launches of the /tmp/fz check the medians moved within noise (launch error 0.80 → 0.79 km).
REFIT_SPANS_S = (3.0, 10.0, 20.0)
PREGATE_M = 30_000.0  # a string's ray this far from an event's prediction is not tested (σ ≲ 2 km)
MERGE_DISTANCE_M = 50_000.0  # two live events whose filters are this close are tested as one object
DEGRADE_FACTOR = 4.0  # a refit whose launch covariance grows this much is a side minimum: keep the old
RECENT_RAYS = 5  # rays of a new string tested against an event's prediction
CUT_REJECTIONS = 3  # a string whose last detections are this many consecutive filter rejections is cut there


@dataclass(frozen=True)
class FusionConfig:
    """Engine settings (SI). ``containment`` is the probability inside stated ellipses."""

    chunk_s: float = 1.0
    update_interval_s: float = 5.0
    burnout_gap_s: float = 15.0  # > the longest staging coast seen (Falcon 9 MECO→SES: 8-12 s)
    containment: float = 0.95
    mono_after_s: float = 15.0
    mono_min_detections: int = 10
    jerk_psd_m2_s5: float = JERK_PSD_M2_S5
    launch_window_s: float = ASCENT_WINDOW_S
    light_time: bool = True  # correct detections to emission time and axes (lighttime.py)


class FusionEngine:
    """Iterator of ``(time_s, warnings)`` over time-ordered observations (see module docstring)."""

    def __init__(self, config: FusionConfig | None = None, stringer: Stringer | None = None,
                 associator: Associator | None = None, launch_estimator: LaunchEstimator | None = None,
                 impact_predictor: ImpactPredictor | None = None, classifier: Classifier | None = None) -> None:
        self.config = config or FusionConfig()
        self.stringer = stringer or GatedAssignmentStringer()
        self.associator = associator or MissDistanceAssociator()
        self.launch_estimator = launch_estimator or AscentBackFitEstimator(self.config.launch_window_s)
        self.impact_predictor = impact_predictor or UnscentedImpactPredictor()
        self.classifier = classifier or EnergyClassifier()
        self.events: list[FusedEvent] = []
        self._owner: dict[int, FusedEvent] = {}  # string_id -> event
        self._ids = itertools.count(1)
        self.epoch = "1970-01-01T00:00:00Z"

    # --- the loop --------------------------------------------------------------------------------
    def run(self, observations: ObservationBatch | Iterable[ObservationBatch]) -> Iterator[tuple[float, list]]:
        """Consume one batch or a stream of time-ordered batches; yield ``(time_s, warnings)`` per chunk."""
        batches = [observations] if isinstance(observations, ObservationBatch) else observations
        now = 0.0
        for batch in batches:
            self.epoch = batch.epoch
            batch = batch.sorted_by_time()
            if not len(batch):
                continue
            emitted = correct_light_time(batch) if self.config.light_time else batch
            edges = np.floor(batch.time_s / self.config.chunk_s)
            bounds = np.flatnonzero(np.diff(edges)) + 1
            for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(edges)], strict=True):
                rows = np.arange(lo, hi)
                now = (edges[lo] + 1) * self.config.chunk_s
                yield now, self.step(emitted.take(rows), now, frame_key=batch.time_s[rows])
        yield now, self.finish(now)

    def step(self, chunk: ObservationBatch, now: float, frame_key=None) -> list:
        """Process one chunk of (light-time corrected) detections at reception time ``now`` (s); return the
        warnings it issues. ``frame_key``: per-row sensor-frame key (reception time; default ``time_s``)."""
        changed = self.stringer.update(chunk.obs_id, chunk.sensor_id, chunk.partner_id, chunk.time_s,
                                       chunk.sensor_pos_ecef_m, chunk.los_ecef, chunk.los_sigma_rad,
                                       frame_key=frame_key, predictor=self._los_predictor())
        self._filter(chunk, changed)
        self.stringer.prune(now)
        free = [s for s in self.stringer.strings.values() if s.confirmed and s.string_id not in self._owner]
        free = self._extend(free)
        self._pair(free + self._mono_strings())
        for event in self.events:
            if event.filter is None and not event.mono and event.burnout is None:
                self._start_filter(event)  # pairs of young strings may not share two instants yet
        self._mono(now)
        return self._estimate(now, final=False)

    def finish(self, now: float) -> list:
        """End of data: every live event burns out at its last detection; return the final versions."""
        return self._estimate(now, final=True)

    # --- stages ----------------------------------------------------------------------------------
    def _los_predictor(self):
        """String continuation by the events' filters (see :meth:`GatedAssignmentStringer.update`): a string of a
        live stereo event is continued where its event's filter predicts the object, not where the string's own
        2-point extrapolation points — two plumes crossing in one sensor's view keep their identities, and a
        string back from a gap (staging) is not captured by another plume near its stale extrapolation."""
        live = [e for e in self.events if e.filter is not None and e.burnout is None and not e.mono]
        if not live:
            return None
        index = {id(e): k for k, e in enumerate(live)}
        x = np.array([e.filter.x for e in live])
        cov = np.array([e.filter.P for e in live])
        cov_ij = cov.reshape(-1, 3, 3, 3, 3).transpose(0, 2, 4, 1, 3).reshape(-1, 9, 9)
        t_f = np.array([e.filter.t for e in live])
        q = self.config.jerk_psd_m2_s5

        def predict(strings, t, sensor_pos):
            which = np.array([index.get(id(self._owner.get(s.string_id)), -1) for s in strings])
            mask = which >= 0
            k = which[mask]
            dt = t - t_f[k]
            c = np.stack([np.ones_like(dt), dt, 0.5 * dt**2], -1)  # position row of F(dt), per block
            pos = (c[:, None, :] @ x[k].reshape(-1, 3, 3))[:, 0]
            blocks = cov_ij[k]  # (S, i·j, a·b): P[3a+i, 3b+j]
            p_pos = (blocks @ (c[:, :, None] * c[:, None, :]).reshape(-1, 9, 1)).reshape(-1, 3, 3)
            p_pos = p_pos + (q * np.abs(dt) ** 5 / 20)[:, None, None] * np.eye(3)
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

    def _filter(self, chunk: ObservationBatch, changed: list[SensorString]) -> None:
        """Run each live event's filter through its new detections of this chunk (one compiled call for all
        events, each in time order); cut strings whose latest detections the filter keeps rejecting
        (:meth:`_count_rejections`)."""
        rows: dict[int, list[tuple[int, SensorString]]] = {}
        new_rows = getattr(self.stringer, "new_rows", None)
        index = None if new_rows is not None else {int(i): k for k, i in enumerate(chunk.obs_id)}
        events = {}
        for s in changed:
            event = self._owner.get(s.string_id)
            if event is None or event.filter is None or event.burnout is not None:
                continue
            if new_rows is not None:
                new = [(r, s) for r in new_rows.get(s.string_id, ())[-RECENT_RAYS:]]
            else:
                new = [(index[int(i)], s) for i in s.obs_index[-RECENT_RAYS:] if int(i) in index]
            rows.setdefault(id(event), []).extend(new)
            events[id(event)] = event
        if not events:
            return
        order, stops, strings = [], [], []
        for key in events:
            pairs = sorted(rows[key], key=lambda rs: chunk.time_s[rs[0]])
            order.extend(r for r, _ in pairs)
            strings.append([s for _, s in pairs])
            stops.append(len(order))
        k = np.array(order, dtype=int)
        ok = run_filters([e.filter for e in events.values()], stops, chunk.time_s[k], chunk.sensor_pos_ecef_m[k],
                         chunk.los_ecef[k], chunk.los_sigma_rad[k])
        lo = 0
        for event, hi, group in zip(events.values(), stops, strings, strict=True):
            event.last_detection_s = max(event.last_detection_s, float(chunk.time_s[k[hi - 1]]))
            self._count_rejections(event, group, ok[lo:hi])
            lo = hi

    def _count_rejections(self, event: FusedEvent, strings: list[SensorString], accepted: np.ndarray) -> None:
        """Count each string's consecutive rejected detections; a string reaching :data:`CUT_REJECTIONS` while
        its event's filter accepts other detections is cut before them (it jumped to another object). The tail
        is a free string: it may join another event, pair, or die."""
        for s, ok in zip(strings, accepted, strict=True):
            s.rejections = 0 if ok else s.rejections + 1
        if accepted.all() or not accepted.any():
            return
        for s in {id(s): s for s in strings}.values():
            if s.rejections >= CUT_REJECTIONS and len(s) > s.rejections:
                tail = self.stringer.split(s, len(s) - s.rejections)
                event.dirty = True
                if len(tail) and tail.string_id in self._owner:
                    del self._owner[tail.string_id]

    def _extend(self, free: list[SensorString]) -> list[SensorString]:
        """Attach free strings to live stereo events by global assignment, one per sensor (an event takes at
        most one new string of each sensor per chunk, and may take strings of several sensors at once);
        return those left free."""
        live = [e for e in self.events if e.filter is not None and e.burnout is None]
        if not free or not live:
            return free
        near = self._near(free, live)
        taken = set()
        sensors = np.array([s.sensor_id for s in free])
        for sensor in np.unique(sensors):
            rows = np.flatnonzero(sensors == sensor)
            cost = np.full((len(rows), len(live)), 1e9)
            for i, j in zip(*np.nonzero(near[rows]), strict=True):
                cost[i, j] = self._track_cost(free[rows[i]], live[j])
            cost = np.where(cost <= TRACK_GATE_CHI2_MEAN, cost, 1e9)
            for i, j in zip(*linear_sum_assignment(cost), strict=True):
                if cost[i, j] < 1e9:
                    self._attach(live[j], free[rows[i]])
                    taken.add(int(rows[i]))
        return [s for i, s in enumerate(free) if i not in taken]

    @staticmethod
    def _near(strings: list[SensorString], events: list[FusedEvent]) -> np.ndarray:
        """``(S, E)`` mask: the last ray of each string passes within :data:`PREGATE_M` of each event's
        predicted position (a cheap pre-gate before :meth:`_track_cost`)."""
        t = np.array([s.last_time for s in strings])
        p = np.array([s.positions[-1] for s in strings])
        u = np.array([s.los[-1] for s in strings])
        x = np.stack([e.filter.position_at(t) for e in events], axis=1)  # (S, E, 3)
        d = x - p[:, None, :]
        along = np.einsum("sei,si->se", d, u)
        miss = np.linalg.norm(d - along[..., None] * u[:, None, :], axis=-1)
        return (miss < PREGATE_M) & (along > 0.0)

    def _track_cost(self, s: SensorString, event: FusedEvent) -> float:
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

    def _pair(self, free: list[SensorString]) -> None:
        for group in self.associator.pair(free):
            owners = {id(self._owner[s.string_id]): self._owner[s.string_id] for s in group if s.string_id in self._owner}
            event = next(iter(owners.values())) if owners else (self._consistent_event(group) or self._new_event())
            event.mono = False
            for s in group:
                if s.string_id not in self._owner:
                    self._attach(event, s)
            self._start_filter(event)

    def _start_filter(self, event: FusedEvent) -> None:
        """(Re)start the event's boost filter from triangulated seeds (needs two common instants)."""
        times, points = triangulation_seeds(event.strings)
        if len(times) >= 2:
            event.filter = init_filter(event, times, points, self.config.jerk_psd_m2_s5)
            event.dirty = True

    def _consistent_event(self, group: list[SensorString]) -> FusedEvent | None:
        """A live stereo event of other sensors whose prediction every string of ``group`` fits (a pair of
        the same object formed by another sensor pair in the same chunk), or None."""
        for event in self.events:
            if event.filter is None or event.burnout is not None:
                continue
            if {s.sensor_id for s in group} & {s.sensor_id for s in event.strings}:
                continue
            if all(self._track_cost(s, event) <= TRACK_GATE_CHI2_MEAN for s in group):
                return event
        return None

    def _mono_strings(self) -> list[SensorString]:
        return [s for e in self.events if e.mono and e.burnout is None for s in e.strings]

    def _mono(self, now: float) -> None:
        for s in list(self.stringer.strings.values()):
            if (s.string_id in self._owner or len(s) < self.config.mono_min_detections
                    or now - s.first_time < self.config.mono_after_s):
                continue
            event = self._new_event()
            event.mono = True
            self._attach(event, s)
            event.launch = mono_launch(s.first_time, s.positions[0], s.los[0])
            event.dirty = event.launch is not None

    def _estimate(self, now: float, final: bool) -> list:
        out = []
        self._merge_duplicates()
        for event in self.events:
            if event.burnout is None and (final or now - event.last_detection_s > self.config.burnout_gap_s):
                if not event.mono and not event.launch_final:
                    self._launch(event)
                estimate_burnout(event, self.classifier, self.impact_predictor, self.config.containment)
                event.dirty = True
            elif event.burnout is None and not event.mono and not event.launch_final and self._refit_due(event):
                self._launch(event)
            if event.dirty and event.launch is not None:
                event.version += 1
                event.last_issue_s = now
                event.dirty = False
                out.append(to_warning(event, self.epoch, now, self.config.containment))
        return out

    def _refit_due(self, event: FusedEvent) -> bool:
        """A launch refit is due when the event's data span passed the next of :data:`REFIT_SPANS_S` or the final
        span (launch window + update interval), or when it has no launch estimate yet."""
        span = max(s.last_time for s in event.strings) - min(s.first_time for s in event.strings)
        final = self.config.launch_window_s + self.config.update_interval_s
        due = [m for m in (*REFIT_SPANS_S, final) if event.fitted_span_s < m <= span]
        return bool(due) or event.launch is None

    def _launch(self, event: FusedEvent) -> None:
        t, p, u, sigma = event.detections()
        times, points = triangulation_seeds(event.strings)
        previous = event.launch
        est = None
        if len(times) >= 3:
            start = previous if previous is not None and previous.phi is not None else self._seed_start(t, times, points)
            est = self.launch_estimator.estimate(t, p, u, sigma, times, points, previous=start)
        if est is None and previous is None and len(times):
            est = point_launch(float(t.min()), points[0])
        worse = (previous is not None and est is not None and previous.method == est.method
                 and np.trace(est.cov_en_m2) > DEGRADE_FACTOR * np.trace(previous.cov_en_m2))
        if est is not None and not worse:
            event.launch = est
            event.dirty = True
        event.fitted_span_s = float(np.ptp(t))
        event.launch_final = event.fitted_span_s > self.config.launch_window_s + self.config.update_interval_s

    def _seed_start(self, t, seed_times, seed_points) -> _Start | None:
        """First start of an event's first back-fit: :func:`~vigil.fusion.ascentfit.seed_start` (the batched
        seed scan, ~6× faster than the estimator's own, same start), handed over as the ``previous`` estimate."""
        if not isinstance(self.launch_estimator, AscentBackFitEstimator):
            return None
        chosen = self.launch_estimator.model_for(t)
        if chosen is None:
            return None
        model = chosen[0]
        in_window = seed_times <= model.t_last
        if in_window.sum() < 3:
            return None
        return _Start(seed_start(model.degree, model.first_horizontal, seed_times[in_window], seed_points[in_window],
                                 TL_GRID_S))

    def _merge_duplicates(self) -> None:
        """Merge live stereo events that track one object (pairs formed in different chunks by different
        sensor pairs, or a broken string re-paired): close filter positions, no sensor seeing both at once
        (:func:`_overlapping`), and each one's rays fit the other's filter."""
        self._absorb_monos()
        live = [e for e in self.events if e.filter is not None and e.burnout is None and not e.mono]
        if len(live) < 2:
            return
        t = max(e.filter.t for e in live)
        pos = np.array([e.filter.position_at(t)[0] for e in live])
        close = np.linalg.norm(pos[:, None] - pos[None], axis=-1) < MERGE_DISTANCE_M
        gone: set[int] = set()
        for i, j in zip(*np.nonzero(np.triu(close, 1)), strict=True):
            a, b = live[i], live[j]
            if id(a) in gone or id(b) in gone:
                continue
            if _overlapping(a, b):
                continue
            if all(self._track_cost(s, a) <= TRACK_GATE_CHI2_MEAN for s in b.strings):
                self._absorb(a, b)
                gone.add(id(b))
        if gone:
            self.events = [e for e in self.events if id(e) not in gone]

    def _absorb_monos(self) -> None:
        """A live mono event whose string fits a stereo event of other sensors joins it (same id kept)."""
        monos = [e for e in self.events if e.mono and e.burnout is None]
        live = [e for e in self.events if e.filter is not None and e.burnout is None and not e.mono]
        if not monos or not live:
            return
        strings = [e.strings[0] for e in monos]
        near = self._near(strings, live)
        gone = set()
        for i, j in zip(*np.nonzero(near), strict=True):
            if id(monos[i]) in gone or strings[i].sensor_id in {s.sensor_id for s in live[j].strings}:
                continue
            if all(self._track_cost(s, live[j]) <= TRACK_GATE_CHI2_MEAN for s in monos[i].strings):
                self._absorb(live[j], monos[i])
                gone.add(id(monos[i]))
        if gone:
            self.events = [e for e in self.events if id(e) not in gone]

    def _absorb(self, keep: FusedEvent, other: FusedEvent) -> None:
        for s in other.strings:
            self._attach(keep, s)
        keep.mono = keep.mono and other.mono
        self._start_filter(keep)
        keep.dirty = True

    def _new_event(self) -> FusedEvent:
        event = FusedEvent(f"E{next(self._ids):04d}")
        self.events.append(event)
        return event

    def _attach(self, event: FusedEvent, s: SensorString) -> None:
        event.strings.append(s)
        self._owner[s.string_id] = event
        event.last_detection_s = max(event.last_detection_s, s.last_time)


@dataclass(frozen=True)
class _Start:
    """A start of the launch back-fit passed where the estimator takes its previous estimate (only ``phi``)."""

    phi: np.ndarray


def _overlapping(a: FusedEvent, b: FusedEvent) -> bool:
    """True when one sensor has strings in both events over a common time span (two objects in its view);
    time-disjoint strings of one sensor are a string that broke (a gap, a crossing) and may be one object."""
    for sa in a.strings:
        for sb in b.strings:
            if sa.sensor_id == sb.sensor_id and sa.first_time <= sb.last_time and sb.first_time <= sa.last_time:
                return True
    return False


def fuse(observations: ObservationBatch | Iterable[ObservationBatch], config: FusionConfig | None = None) -> list:
    """Run the engine to the end; return the latest :class:`~vigil.warning.records.Warning` of each event."""
    latest = {}
    for _, warnings in FusionEngine(config).run(observations):
        for w in warnings:
            latest[w.event_id] = w
    return sorted(latest.values(), key=lambda w: w.launch_time_s)


