"""The fusion engine: time-ordered detections in, versioned warnings out.

``FusionEngine(...)`` is built from swappable parts (stringer, associator, launch estimator, boost
filter settings, impact predictor, classifier) and iterated over observations chunk by chunk
(:attr:`FusionConfig.chunk_s` of frame time); it yields ``(time_s, [Warning, …])`` after each chunk.
The loop reads like the chain: string → associate → filter → estimate launch → detect burnout →
predict impact → classify → issue. A first warning is issued as soon as two sensors' strings are paired
(three frames each), then improved versions every :attr:`FusionConfig.update_interval_s` while the launch
back-fit improves, and at burnout (end of detections for :attr:`FusionConfig.burnout_gap_s`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from vigil.records import ObservationBatch

from .associate import Associator, MissDistanceAssociator, triangulation_seeds
from .boost import JERK_PSD_M2_S5
from .classify import Classifier, EnergyClassifier
from .event import FusedEvent, estimate_burnout, init_filter, to_warning
from .impact import ImpactPredictor, UnscentedImpactPredictor
from .launch import ASCENT_WINDOW_S, AscentBackFitEstimator, LaunchEstimator
from .mono import mono_launch, point_launch
from .strings import GatedAssignmentStringer, SensorString, Stringer

TRACK_GATE_CHI2_MEAN = 16.0  # mean normalised miss² of a new string's rays to an event's predicted position
NIS_REJECT = 50.0  # a single LOS this far off (χ², 2 dof) is not applied to the filter (clutter in the gate)
DEGRADE_FACTOR = 4.0  # a refit whose launch covariance grows this much is a side minimum: keep the old
RECENT_RAYS = 5  # rays of a new string tested against an event's prediction


@dataclass(frozen=True)
class FusionConfig:
    """Engine settings (SI). ``containment`` is the probability inside stated ellipses."""

    chunk_s: float = 1.0
    update_interval_s: float = 5.0
    burnout_gap_s: float = 8.0
    containment: float = 0.95
    mono_after_s: float = 15.0
    mono_min_detections: int = 10
    jerk_psd_m2_s5: float = JERK_PSD_M2_S5
    launch_window_s: float = ASCENT_WINDOW_S


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
            edges = np.floor(batch.time_s / self.config.chunk_s)
            for key in np.unique(edges):
                rows = np.flatnonzero(edges == key)
                now = (key + 1) * self.config.chunk_s
                yield now, self.step(batch.take(rows), now)
        yield now, self.finish(now)

    def step(self, chunk: ObservationBatch, now: float) -> list:
        """Process one chunk of detections at time ``now`` (s); return the warnings it issues."""
        changed = self.stringer.update(chunk.obs_id, chunk.sensor_id, chunk.partner_id, chunk.time_s,
                                       chunk.sensor_pos_ecef_m, chunk.los_ecef, chunk.los_sigma_rad)
        self._filter(chunk, changed)
        free = [s for s in self.stringer.strings.values() if s.confirmed and s.string_id not in self._owner]
        free = self._extend(free)
        self._pair(free + self._mono_strings())
        self._mono(now)
        return self._estimate(now, final=False)

    def finish(self, now: float) -> list:
        """End of data: every live event burns out at its last detection; return the final versions."""
        return self._estimate(now, final=True)

    # --- stages ----------------------------------------------------------------------------------
    def _filter(self, chunk: ObservationBatch, changed: list[SensorString]) -> None:
        by_obs = {i: s for s in changed for i in s.obs_index[-5:]}
        for k in np.argsort(chunk.time_s, kind="stable"):
            s = by_obs.get(int(chunk.obs_id[k]))
            event = self._owner.get(s.string_id) if s is not None else None
            if event is None or event.filter is None or event.burnout is not None:
                continue
            if chunk.time_s[k] < event.filter.t:
                continue  # out of sequence (a string attached late); the batch back-fit still uses it
            event.filter.predict(float(chunk.time_s[k]))
            x, p = event.filter.x.copy(), event.filter.P.copy()
            nis = event.filter.update(chunk.sensor_pos_ecef_m[k], chunk.los_ecef[k], float(chunk.los_sigma_rad[k]))
            if nis > NIS_REJECT:
                event.filter.x, event.filter.P = x, p
            event.last_detection_s = max(event.last_detection_s, float(chunk.time_s[k]))

    def _extend(self, free: list[SensorString]) -> list[SensorString]:
        """Attach free strings to live stereo events by global assignment; return those left free."""
        live = [e for e in self.events if e.filter is not None and e.burnout is None]
        if not free or not live:
            return free
        cost = np.array([[self._track_cost(s, e) for e in live] for s in free])
        cost = np.where(cost <= TRACK_GATE_CHI2_MEAN, cost, 1e9)
        taken = set()
        for i, j in zip(*linear_sum_assignment(cost), strict=True):
            if cost[i, j] < 1e9:
                self._attach(live[j], free[i])
                taken.add(i)
        return [s for i, s in enumerate(free) if i not in taken]

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
                    or now - s.times[0] < self.config.mono_after_s):
                continue
            event = self._new_event()
            event.mono = True
            self._attach(event, s)
            event.launch = mono_launch(s.times[0], s.positions[0], s.los[0])
            event.dirty = event.launch is not None

    def _estimate(self, now: float, final: bool) -> list:
        out = []
        for event in self.events:
            if event.burnout is None and (final or now - event.last_detection_s > self.config.burnout_gap_s):
                if not event.mono and not event.launch_final:
                    self._launch(event)
                estimate_burnout(event, self.classifier, self.impact_predictor, self.config.containment)
                event.dirty = True
            elif (event.burnout is None and not event.mono and not event.launch_final
                  and now - event.last_issue_s >= self.config.update_interval_s):
                self._launch(event)
            if event.dirty and event.launch is not None:
                event.version += 1
                event.last_issue_s = now
                event.dirty = False
                out.append(to_warning(event, self.epoch, now, self.config.containment))
        return out

    def _launch(self, event: FusedEvent) -> None:
        t, p, u, sigma = event.detections()
        times, points = triangulation_seeds(event.strings)
        est = self.launch_estimator.estimate(t, p, u, sigma, times, points) if len(times) >= 3 else None
        if est is None and event.launch is None and len(times):
            est = point_launch(float(t.min()), points[0])
        previous = event.launch
        worse = (previous is not None and est is not None and previous.method == est.method
                 and np.trace(est.cov_en_m2) > DEGRADE_FACTOR * np.trace(previous.cov_en_m2))
        if est is not None and not worse:
            event.launch = est
            event.dirty = True
        event.launch_final = float(np.ptp(t)) > self.config.launch_window_s + self.config.update_interval_s

    def _new_event(self) -> FusedEvent:
        event = FusedEvent(f"E{next(self._ids):04d}")
        self.events.append(event)
        return event

    def _attach(self, event: FusedEvent, s: SensorString) -> None:
        event.strings.append(s)
        self._owner[s.string_id] = event
        event.last_detection_s = max(event.last_detection_s, s.times[-1])


def fuse(observations: ObservationBatch | Iterable[ObservationBatch], config: FusionConfig | None = None) -> list:
    """Run the engine to the end; return the latest :class:`~vigil.warning.records.Warning` of each event."""
    latest = {}
    for _, warnings in FusionEngine(config).run(observations):
        for w in warnings:
            latest[w.event_id] = w
    return sorted(latest.values(), key=lambda w: w.launch_time_s)


