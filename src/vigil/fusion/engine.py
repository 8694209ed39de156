"""The fusion engine: time-ordered detections in, versioned warnings out.

``FusionEngine(...)`` is built from swappable parts (stringer, associator, launch estimator, boost
filter settings, impact predictor, classifier) and iterated over observations chunk by chunk
(:attr:`FusionConfig.chunk_s` of frame time); it yields ``(time_s, [Warning, …])`` after each chunk.
The loop reads like the chain: string → associate → filter → estimate launch → detect burnout →
predict impact → classify → issue. A first warning is issued as soon as two sensors' strings are paired
(two frames each), then improved versions at the launch refits (:data:`~vigil.fusion.events.launchrefit.REFIT_SPANS_S`, and once the launch
window plus :attr:`FusionConfig.update_interval_s` is covered), and at burnout (end of detections for :attr:`FusionConfig.burnout_gap_s`).

One door takes detections: :meth:`FusionEngine.ingest` (``run`` uses it per batch; so do the sharing node and
``vigil run``'s network). It sorts, drops duplicates, corrects light time and chunks; detections earlier than
a processed chunk, within :attr:`FusionConfig.lag_horizon_s`, are fused by re-processing from a snapshot
(:mod:`vigil.fusion.oosm.buffer`), older ones are counted as too late (:attr:`FusionEngine.counts`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator

import numpy as np

from vigil.fusion.association.associate import Associator, Detections, MissDistanceAssociator, Seeds
from vigil.fusion.boost.batch import run_filters
from vigil.fusion.boost.filterrows import filter_rows
from vigil.fusion.boost.rays import LosRays
from vigil.fusion.coast.classify import Classifier
from vigil.fusion.coast.classify_sigma import EnergyClassifier
from vigil.fusion.coast.impact import ImpactPredictor, UnscentedImpactPredictor
from vigil.fusion.config import FusionConfig
from vigil.fusion.events.assembly import EventAssembly
from vigil.fusion.events.event import FusedEvent, classify_live, confirm_held, estimate_burnout, to_warning
from vigil.fusion.events.gating import RECENT_RAYS, FilterLosPredictor, filter_los_predictor
from vigil.fusion.events.launchrefit import refit_due, refit_launch
from vigil.fusion.events.owners import lookup
from vigil.fusion.events.rejections import count_rejections
from vigil.fusion.launch.backfit import AscentBackFitEstimator, LaunchEstimator
from vigil.fusion.lighttime import correct_light_time
from vigil.fusion.oosm.buffer import History, IngestCounts, carry_identity, changed_versions, immutable_parts
from vigil.fusion.oosm.retrodict import PendingRefits
from vigil.fusion.strings.base import Stringer
from vigil.fusion.strings.chunkframes import sensor_codes
from vigil.fusion.strings.sensorstring import SensorString
from vigil.fusion.strings.stringer import GatedAssignmentStringer
from vigil.records import ObservationBatch

CLOSING_STARTS = "warm"  # the closing fit's starts: "warm" (the previous fit), "cold" (the seed scan), "both"


class FusionEngine(EventAssembly):
    """Iterator of ``(time_s, warnings)`` over time-ordered observations (see module docstring); the event
    bookkeeping (attach, pair, mono, merge) is inherited from :class:`~vigil.fusion.events.assembly.EventAssembly`."""

    def __init__(
        self,
        config: FusionConfig | None = None,
        stringer: Stringer | None = None,
        associator: Associator | None = None,
        launch_estimator: LaunchEstimator | None = None,
        impact_predictor: ImpactPredictor | None = None,
        classifier: Classifier | None = None,
    ) -> None:
        config = config or FusionConfig()
        super().__init__(
            stringer or GatedAssignmentStringer(), associator or MissDistanceAssociator(), config
        )
        self.launch_estimator = launch_estimator or AscentBackFitEstimator(self.config.launch_window_s)
        self.impact_predictor = impact_predictor or UnscentedImpactPredictor()
        self.classifier = classifier or EnergyClassifier()
        self._latest_s = -math.inf  # the latest detection time of all chunks so far (s)
        self._span_start: dict[
            str, tuple[int, float]
        ] = {}  # event id -> (strings, their earliest first time)
        self.epoch = "1970-01-01T00:00:00Z"
        self.counts = IngestCounts()
        self._next_chunk = -math.inf  # index of the first chunk not yet processed
        self._history = History(
            self.config.lag_horizon_s, self.config.snapshot_interval_s, self.config.chunk_s
        )
        self._issued: dict = {}  # event id -> its latest issued Warning (versions continue across re-runs)
        self._retro = (
            PendingRefits()
        )  # events whose fits lack late rows placed in their strings (retrodict.py)

    # --- the loop --------------------------------------------------------------------------------
    def run(
        self, observations: ObservationBatch | Iterable[ObservationBatch]
    ) -> Iterator[tuple[float, list]]:
        """Consume one batch or a stream of batches (each through :meth:`ingest`); yield ``(time_s, warnings)``
        per chunk. One batch cannot be followed by late rows: no history is kept for it."""
        single = isinstance(observations, ObservationBatch)
        batches = [observations] if isinstance(observations, ObservationBatch) else observations
        now = 0.0
        for batch in batches:
            for now, warnings in self._ingest_chunks(batch, keep=not single):
                yield now, warnings
        yield now, self.finish(now)

    def ingest(self, batch: ObservationBatch, now_s: float | None = None) -> list:
        """Fuse a batch of detections in any order (the one entry of every caller); return the warnings issued.
        Rows of processed chunks inside the lag horizon are fused by re-processing; events they change are
        issued as new versions at ``now_s`` (default: the end of the latest processed chunk)."""
        out: list = []
        for _, warnings in self._ingest_chunks(batch, keep=True, now_s=now_s):
            out += warnings
        return out

    def _ingest_chunks(
        self, batch: ObservationBatch, keep: bool, now_s: float | None = None
    ) -> Iterator[tuple[float, list]]:
        """:meth:`ingest` chunk by chunk; ``keep``: hold rows and snapshots for later late rows."""
        self.epoch = batch.epoch
        self.counts.rows += len(batch)
        batch = batch.sorted_by_time()
        batch = self._history.unseen(batch, self.counts, held=keep)
        if not len(batch):
            return
        chunk = np.floor(batch.time_s / self.config.chunk_s)
        late = chunk < self._next_chunk
        if late.any():
            horizon = self._next_chunk - self.config.lag_horizon_s / self.config.chunk_s
            too_late = late & (chunk < horizon)
            self.counts.too_late += int(np.count_nonzero(too_late))
            if too_late.any():
                late, batch, chunk = late[~too_late], batch.take(~too_late), chunk[~too_late]
            if late.any():
                rows = batch.take(late)
                start = self._place(rows) if keep else math.inf
                if start is not None:
                    yield self._reprocess(rows, now_s, start)
                batch = batch.take(~late)
        if self._retro.refit(self, self._next_chunk * self.config.chunk_s) and not len(batch):
            now = self._next_chunk * self.config.chunk_s  # (no chunk follows to issue the refits)
            yield now, self._issue(self._estimate(now, final=False))
        yield from self._process(batch, keep)
        if keep:
            start = self._retro.claimed(self)  # (a held loose row that a string now reaches: the stringer's)
            if start is not None:
                yield self._reprocess(None, now_s, start)

    def _place(self, late: ObservationBatch) -> float | None:
        """Late rows placed in the strings they continue, their events refit later (:mod:`~vigil.fusion.oosm.retrodict`)
        instead of a re-run: None; else (nothing done) the earliest time the re-run must start at."""
        emitted = correct_light_time(late) if self.config.light_time else late
        start = self._retro.place(self, late, emitted, self._next_chunk * self.config.chunk_s)
        if start is None:
            self.counts.late += len(late)
            self._history.add(late)
            self._history.placed(float(np.floor(late.time_s.min() / self.config.chunk_s)))
        return start

    def _issue(self, warnings: list) -> list:
        self._issued.update((w.event_id, w) for w in warnings)
        return warnings

    def _process(
        self, batch: ObservationBatch, keep: bool, issue: bool = True, complete: float = math.inf
    ) -> Iterator[tuple[float, list]]:
        """Step through the chunks of time-ordered rows of chunks not yet processed; ``issue=False``: a re-run,
        whose warnings are not issued (:func:`~vigil.fusion.oosm.buffer.changed_versions` issues what changed). ``complete``: a re-run's
        last chunk of late rows; after it one snapshot only, before the next chunk (the next late rows of the
        same partner start there: snapshots after it would be dropped unused)."""
        if not len(batch):
            return
        emitted = correct_light_time(batch) if self.config.light_time else batch
        code, names = sensor_codes(batch.sensor_id)  # (once per batch: chunks' frames found on integers)
        edges = np.floor(batch.time_s / self.config.chunk_s)
        bounds = np.flatnonzero(np.diff(edges)) + 1
        history = self._history
        after = False  # (a re-run's one snapshot after its late rows is taken)
        for lo, hi in zip(np.r_[0, bounds].tolist(), np.r_[bounds, len(edges)].tolist(), strict=True):
            due = history.snapshot_due(edges[lo]) if edges[lo] <= complete else not after
            if keep and due:
                history.keep(
                    self._next_chunk if not history.snapshots else edges[lo],
                    self._state(),
                    immutable_parts(self.events),
                )
                after = after or edges[lo] > complete
            rows = slice(lo, hi)  # views, not copies: the chunk's arrays are only read
            now = (edges[lo] + 1) * self.config.chunk_s
            warnings = self.step(
                emitted.take(rows), now, frame_key=batch.time_s[rows], sensor_code=(code[rows], names)
            )
            self._next_chunk = edges[lo] + 1
            if keep and issue:
                self._issued.update((w.event_id, w) for w in warnings)
            yield now, warnings
        if keep:
            history.add(batch)
            history.prune(self._next_chunk)

    def _state(self) -> dict:
        """The engine's mutable state (what a snapshot holds): everything but the parts' settings, the history,
        the counts, the issued versions and the event id counter (ids are never reused)."""
        return {k: v for k, v in vars(self).items() if k not in _NOT_STATE}

    def _reprocess(
        self, late: ObservationBatch | None, now_s: float | None, start_s: float = math.inf
    ) -> tuple[float, list]:
        """Re-run from the latest snapshot before the earliest late row (and ``start_s``), late rows merged in
        (None: rows already held, from ``start_s``); return ``(now, new versions of the events the re-run changed)``."""
        first_s = start_s if late is None else min(late.time_s[0], start_s)
        first = float(np.floor(first_s / self.config.chunk_s))
        snapshot = self._history.restore_point(first)
        now = self._next_chunk * self.config.chunk_s if now_s is None else float(now_s)
        if snapshot is None:  # (no state that old is kept: as too late)
            self.counts.too_late += 0 if late is None else len(late)
            return now, []
        self.counts.late += 0 if late is None else len(late)
        self.counts.replays += 1
        self._retro.replayed(self.config.chunk_s, snapshot.chunk)
        before = list(self.events)
        rows = self._history.since(snapshot.chunk)
        if late is None:
            redo = None if rows is None else rows.sorted_by_time()  # (held in the order added)
        else:
            redo = (
                late
                if rows is None
                else ObservationBatch.concatenate(late.epoch, [rows, late]).sorted_by_time()
            )
        if redo is None:
            return now, []
        end = self._next_chunk
        vars(self).update(
            copy.deepcopy(snapshot.state, {id(o): o for o in immutable_parts(snapshot.state["events"])})
        )
        self._filter_states = None  # (the copy's filters hold their own arrays: a new store at the next step)
        complete = float(np.floor((first_s if late is None else late.time_s[-1]) / self.config.chunk_s))
        for _ in self._process(redo, keep=True, issue=False, complete=complete):
            self.counts.replayed_chunks += 1
        self._next_chunk = max(self._next_chunk, end)
        carry_identity(before, self.events)
        self._span_start.clear()  # (a cache by event id: ids were carried over)
        return now, self._issue(
            changed_versions(self.events, self._issued, self.epoch, now, self.config.containment)
        )

    def step(self, chunk: ObservationBatch, now: float, frame_key=None, sensor_code=None) -> list:
        """Process one chunk of (light-time corrected) detections at reception time ``now`` (s); return the
        warnings it issues. ``frame_key``: per-row sensor-frame key (reception time; default ``time_s``);
        ``sensor_code``: the rows' :func:`~vigil.fusion.strings.stringer.sensor_codes` (default: computed per chunk)."""
        if len(chunk):
            self._latest_s = max(self._latest_s, float(np.fmax.reduce(chunk.time_s)))  # (NaN times: none)
        predictor = filter_los_predictor(
            self._live(), self._owner, self.config.jerk_psd_m2_s5, self._filter_states
        )
        self._filter_states = (
            predictor.states if predictor is not None else None
        )  # (kept if _filter keeps them)
        changed = self.stringer.update(
            chunk.obs_id,
            chunk.sensor_id,
            chunk.partner_id,
            chunk.time_s,
            chunk.sensor_pos_ecef_m,
            chunk.los_ecef,
            chunk.los_sigma_rad,
            frame_key=frame_key,
            predictor=predictor,
            sensor_code=sensor_code,
        )
        self._filter(chunk, changed, predictor)
        self.stringer.prune(now)
        free = self._free_strings()
        free = self._extend(free)
        self._pair(free + self._mono_strings())
        for event in self.events:
            if event.filter is None and not event.mono and event.burnout is None:
                self._start_filter(event)  # pairs of young strings may not share two instants yet
        self._mono(now)
        return self._estimate(now, final=False)

    def finish(self, now: float) -> list:
        """End of data: every live event burns out at its last detection; return the final versions."""
        self._retro.refit(self, now, everything=True)
        return self._issue(self._estimate(now, final=True))

    def close(self, now: float) -> list:
        """The run stops while its events may still be in flight (a node shut down: its data may go on, so no
        burnout is declared): each live stereo event's launch gets its closing fit now from starts that depend
        on its detections only (:meth:`launch_fit` ``data_only``), so that its last version is a function of the
        data it holds, not of the sequence of fits before (a node restarted mid-stream, which re-fuses what it
        stored in one batch, ends on the same version). Returns the versions that changed."""
        self._retro.refit(self, now, everything=True)
        for event in self.events:
            if event.burnout is None and not event.mono and event.strings:
                self.launch_fit(event, final=True, data_only=True)
        return self._issue(self._estimate(now, final=False))

    # --- stages ----------------------------------------------------------------------------------
    def _filter(
        self,
        chunk: ObservationBatch,
        changed: list[SensorString],
        predictor: FilterLosPredictor | None = None,
    ) -> None:
        """Run each live event's filter through its new detections of this chunk (one compiled call for all
        events, each in time order: :func:`~vigil.fusion.boost.filterrows.filter_rows`); cut strings whose latest
        detections the filter keeps rejecting (:func:`~vigil.fusion.events.rejections.count_rejections`). ``predictor``: this step's
        :func:`~vigil.fusion.events.gating.filter_los_predictor`; where its events are all the live ones (no mono
        event has a filter), its string → event array serves here too, and the filters run in place in the
        :class:`~vigil.fusion.boost.filterstore.FilterStore` of its states."""
        sid, row = self.stringer.appended(chunk.obs_id, changed, RECENT_RAYS)
        if not sid.size:
            return
        live = self._live(stereo_only=False)
        shared = (
            predictor if predictor is not None and len(predictor.live) == len(live) else None
        )  # (a sub-list)
        ids = self.stringer.changed_ids(changed)
        event_of = lookup(shared.slot if shared is not None else self._owner.live_rows(live), ids)
        k, stops, number, taken, which = filter_rows(sid, row, ids, event_of, chunk.time_s, RECENT_RAYS)
        if not stops.size:
            return
        events = [live[e] for e in number.tolist()]
        rays = LosRays(chunk.time_s, chunk.sensor_pos_ecef_m, chunk.los_ecef, chunk.los_sigma_rad)
        ok = run_filters(
            [e.filter for e in events],
            stops,
            rays,
            store=shared.states.arrays if shared is not None else None,
            rows=shared.states.rows[number] if shared is not None else None,
            take=k,
        )  # (shared: in the store)
        if shared is None:  # (the filters took new arrays: the kept states are no longer theirs)
            self._filter_states = None
        for event, t_last in zip(events, chunk.time_s[k[stops - 1]].tolist(), strict=True):
            if t_last > event.last_detection_s:  # (max(), without the call)
                event.last_detection_s = t_last
        count_rejections(self.stringer, self._owner, events, stops, changed, taken, which, ok, ids)

    def _estimate(self, now: float, final: bool) -> list:
        out = []
        self._merge_duplicates()
        gap = self.config.burnout_gap_s
        for event in self.events:
            if event.burnout is None:
                if final or now - event.last_detection_s > gap:
                    shared = None
                    if not event.mono and not event.launch_final:
                        shared = self.launch_fit(event, final=True)
                    estimate_burnout(
                        event, self.classifier, self.impact_predictor, self.config.containment, shared
                    )
                    event.dirty = True
                elif not event.mono and not event.launch_final and self._refit_due(event):
                    self.launch_fit(event)
                if event.burnout is None and event.class_ == "unknown":
                    classify_live(event, self.classifier)  # (a launcher is called before its cutoff)
            if event.held is not None:
                confirm_held(
                    event, now, final
                )  # (a ballistic call once dark long enough, or at the end of data)
            if event.dirty and event.launch is not None:
                event.version += 1
                event.last_issue_s = now
                event.dirty = False
                out.append(to_warning(event, self.epoch, now, self.config.containment))
        return out

    def _refit_due(self, event: FusedEvent) -> bool:
        """:func:`~vigil.fusion.events.launchrefit.refit_due` on the engine's latest detection time and span cache."""
        return refit_due(event, self.config, self._latest_s, self._span_start)

    def forget_span_start(self, event_id: str) -> None:
        """Drop the cached earliest first time of event ``event_id``'s strings (a late row moved one)."""
        self._span_start.pop(event_id, None)

    def launch_fit(
        self, event: FusedEvent, final: bool = False, data_only: bool = False
    ) -> tuple[Detections, Seeds] | None:
        """:func:`~vigil.fusion.events.launchrefit.refit_launch` of ``event`` with the engine's estimator and
        :data:`CLOSING_STARTS`."""
        return refit_launch(event, self.launch_estimator, self.config, CLOSING_STARTS, final, data_only)


_NOT_STATE = frozenset(
    {"config", "stringer_settings", "_history", "counts", "_issued", "_ids", "epoch", "_retro"}
)


def fuse(
    observations: ObservationBatch | Iterable[ObservationBatch], config: FusionConfig | None = None
) -> list:
    """Run the engine to the end; return the latest :class:`~vigil.warning.records.Warning` of each event."""
    latest = {}
    for _, warnings in FusionEngine(config).run(observations):
        for w in warnings:
            latest[w.event_id] = w
    return sorted(latest.values(), key=lambda w: w.launch_time_s)
