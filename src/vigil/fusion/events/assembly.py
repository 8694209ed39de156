"""Event assembly: strings → events. Attaching free strings to live events, pairing strings into new events,
mono events, and merging duplicates (the engine's bookkeeping, separate from its loop in :mod:`engine`).

:class:`EventAssembly` is the base of :class:`~vigil.fusion.engine.FusionEngine`; it holds the events, the
string → event map, the stringer and associator it is built with, and the events' filter states kept between
steps. Gating against the events' filters is in :mod:`gating`.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment

from vigil.frames import GM_EARTH_M3_S2
from vigil.fusion.association.associate import Associator, detections_and_seeds
from vigil.fusion.boost.filterstore import FilterStates
from vigil.fusion.config import FusionConfig
from vigil.fusion.events.event import FusedEvent, init_filter, live_filters
from vigil.fusion.events.gating import (
    TRACK_GATE_CHI2_MEAN,
    fits,
    latest_close_pairs,
    near,
    overlapping,
    track_cost,
)
from vigil.fusion.events.owners import Owners
from vigil.fusion.launch.mono import mono_launch
from vigil.fusion.strings.base import Stringer
from vigil.fusion.strings.linkcost import FORBIDDEN
from vigil.fusion.strings.sensorstring import SensorString

MERGE_DISTANCE_M = 50_000.0  # two live events whose filters are this close are tested as one object
REIGNITE_MAX_S = (
    300.0  # a plume this soon after an event's burnout, on its coast, is the same object lit again
)
REIGNITE_GATE_M = (
    20_000.0  # its first ray passes this close to the coast prediction (burnout σ_v 30 m/s × 60 s:
)
#   2 km; Coriolis and the new burn's first seconds: < 1 km; other launches are hundreds of km away)


class EventAssembly:
    """Events and their strings: attach, pair, mono, merge (see module docstring)."""

    def __init__(self, stringer: Stringer, associator: Associator, config: FusionConfig) -> None:
        self.stringer = stringer
        self.associator = associator
        self.config = config
        self.events: list[FusedEvent] = []
        self._owner = Owners()  # string_id -> event (with an array mirror)
        self._ids = itertools.count(1)
        self._filter_states: FilterStates | None = (
            None  # the live events' filters as arrays (the engine's step)
        )

    def owner_of(self, string_id: int) -> FusedEvent | None:
        """The event that owns string ``string_id`` (None: no event does)."""
        return self._owner.get(string_id)

    def _live(self, stereo_only: bool = True) -> list[FusedEvent]:
        """Events with a running filter and no burnout yet (stereo only by default)."""
        return [
            e
            for e in self.events
            if e.filter is not None and e.burnout is None and not (stereo_only and e.mono)
        ]

    def _free_strings(self) -> list[SensorString]:
        """Confirmed strings no event owns, in the stringer's order
        (:meth:`~vigil.fusion.strings.stringer.Stringer.confirmed_ids`)."""
        return self._unowned(self.stringer.confirmed_ids())

    def _unowned_strings(self, min_detections: int) -> list[SensorString]:
        """The stringer's strings, in its order, less those owned or shorter than ``min_detections``
        (:meth:`~vigil.fusion.strings.stringer.Stringer.long_ids`; a superset of what :meth:`_mono` takes: it tests each one)."""
        return self._unowned(self.stringer.long_ids(min_detections))

    def _unowned(self, ids: np.ndarray) -> list[SensorString]:
        """The stringer's strings ``ids`` that no event owns (owner map's array)."""
        row = self._owner.row
        ids = ids[(ids >= row.size) | (row[np.minimum(ids, row.size - 1)] < 0)]
        return [self.stringer.strings[i] for i in ids.tolist()]

    def _extend(self, free: list[SensorString]) -> list[SensorString]:
        """Attach free strings to live stereo events by global assignment, one per sensor (an event takes at
        most one new string of each sensor per chunk, and may take strings of several sensors at once);
        return those left free."""
        if not free:
            return free
        live = self._live(stereo_only=False)
        if not live:
            return free
        close = near(free, live, self._filter_states)
        taken = set()
        sensors = [s.sensor_id for s in free]
        hit = np.asarray(close.any(axis=1)).tolist()
        for sensor in sorted({x for x, h in zip(sensors, hit, strict=True) if h}):  # (none near: none taken)
            rows = [k for k, x in enumerate(sensors) if x == sensor]
            cost = np.full((len(rows), len(live)), FORBIDDEN)
            ii, jj = np.nonzero(close[rows])
            for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
                cost[i, j] = track_cost(free[rows[i]], live[j])
            cost = np.where(cost <= TRACK_GATE_CHI2_MEAN, cost, FORBIDDEN)
            ii, jj = linear_sum_assignment(cost)
            for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
                if cost[i, j] < FORBIDDEN:
                    self._attach(live[j], free[rows[i]])
                    taken.add(rows[i])
        return [s for i, s in enumerate(free) if i not in taken]

    def _pair(self, free: list[SensorString]) -> None:
        for group in self.associator.pair(free):
            owners = {
                id(self._owner[s.string_id]): self._owner[s.string_id]
                for s in group
                if s.string_id in self._owner
            }
            event = (
                next(iter(owners.values()))
                if owners
                else (self._consistent_event(group) or self._reignited(group) or self._new_event())
            )
            event.mono = False
            for s in group:
                if s.string_id not in self._owner:
                    self._attach(event, s)
            self._start_filter(event)

    def _start_filter(self, event: FusedEvent) -> None:
        """(Re)start the event's boost filter from triangulated seeds (needs two common instants); the seeds
        and the time-sorted detections the filter then runs through come from one compiled call
        (:func:`~vigil.fusion.association.associate.detections_and_seeds`)."""
        if not _may_seed(event.strings):
            return  # (the young pairs the engine retries each step: ~40 µs of sorting and interpolation saved)
        detections, (times, points) = detections_and_seeds(event.strings)
        if len(times) >= 2:
            event.filter = init_filter(event, times, points, self.config.jerk_psd_m2_s5, detections)
            event.dirty = True

    def _consistent_event(self, group: list[SensorString]) -> FusedEvent | None:
        """A live stereo event of other sensors whose prediction every string of ``group`` fits (a pair of
        the same object formed by another sensor pair in the same chunk), or None."""
        sensors = {s.sensor_id for s in group}
        for event in self.events:
            if event.filter is None or event.burnout is not None:
                continue
            for s in event.strings:  # (a loop, not any() of a generator: most events stop here)
                if s.sensor_id in sensors:
                    break
            else:
                if fits(group, event):
                    return event
        return None

    def _reignited(self, group: list[SensorString]) -> FusedEvent | None:
        """A burnt-out stereo event whose coast from its burnout state every string of ``group`` starts on
        (a stage lit again after a coast longer than the burnout gap), reopened; or None. Its class goes back
        to ``unknown`` with that reason (a new version: a missile called at the first cutoff was a launcher
        staging, :mod:`~vigil.fusion.coast.classify_sigma`)."""
        for event in self.events:
            b = event.burnout
            if b is None or event.mono or event.filter is None or not np.all(np.isfinite(b.r)):
                continue
            if all(
                b.time_s < s.first_time <= b.time_s + REIGNITE_MAX_S and on_coast(b.time_s, b.r, b.v, s)
                for s in group
            ):
                gap = min(s.first_time for s in group) - b.time_s
                event.burnout, event.impact, event.held = None, None, None
                event.class_, event.class_checked_s = "unknown", -np.inf
                event.class_reason = f"plume seen again {gap:.0f} s after its cutoff: a coast, not a burnout"
                event.dirty = True
                return event
        return None

    def _mono_strings(self) -> list[SensorString]:
        return [s for e in self.events if e.mono and e.burnout is None for s in e.strings]

    def _mono(self, now: float) -> None:
        """Strings no event owns with enough detections over a long enough span become mono events."""
        for s in self._unowned_strings(self.config.mono_min_detections):
            if (
                s.string_id in self._owner
                or len(s) < self.config.mono_min_detections
                or now - s.first_time < self.config.mono_after_s
            ):
                continue
            event = self._new_event()
            event.mono = True
            self._attach(event, s)
            event.launch = mono_launch(s.first_time, s.positions[0], s.los[0])
            event.dirty = event.launch is not None

    def _merge_duplicates(self) -> None:
        """Merge live stereo events that track one object (pairs formed in different chunks by different
        sensor pairs, or a broken string re-paired): close filter positions, no sensor seeing both at once
        (:func:`~vigil.fusion.events.gating.overlapping`), and each one's rays fit the other's filter."""
        self._absorb_monos()
        live = self._live()
        if len(live) < 2:
            return
        gone: set[int] = set()
        for i, j in zip(
            *(k.tolist() for k in latest_close_pairs(self._stored_states(live), MERGE_DISTANCE_M)),
            strict=True,
        ):
            a, b = live[i], live[j]
            if id(a) in gone or id(b) in gone:
                continue
            if overlapping(a, b):
                continue
            if fits(b.strings, a):
                self._absorb(a, b)
                gone.add(id(b))
        if gone:
            self.events = [e for e in self.events if id(e) not in gone]

    def _stored_states(self, live: list[FusedEvent]) -> FilterStates:
        """The :class:`~vigil.fusion.boost.filterstore.FilterStates` of ``live``'s filters, kept for the engine's next
        step (``_filter_states``): the filters started since its filter stage join the store now, once."""
        states = self._filter_states
        filters = live_filters(live)
        if states is None or states.filters != filters:  # (identity: the filters define no __eq__)
            states = self._filter_states = FilterStates.of(filters, states)
        return states

    def _absorb_monos(self) -> None:
        """A live mono event whose string fits a stereo event of other sensors joins it (same id kept)."""
        monos = [e for e in self.events if e.mono and e.burnout is None]
        if not monos:
            return
        live = self._live()
        if not live:
            return
        strings = [e.strings[0] for e in monos]
        close = near(strings, live)
        gone = set()
        for i, j in zip(*np.nonzero(close), strict=True):
            if id(monos[i]) in gone or strings[i].sensor_id in {s.sensor_id for s in live[j].strings}:
                continue
            if fits(monos[i].strings, live[j]):
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
        event = FusedEvent(f"E{next(self._ids):04d}", tracked=self.config.tracks)
        self.events.append(event)
        return event

    def _attach(self, event: FusedEvent, s: SensorString) -> None:
        if (
            event.launch_final
            and event.strings
            and s.first_time <= (min(x.first_time for x in event.strings) + self.config.launch_window_s)
        ):
            event.launch_final = False  # (its closing fit lacks this string's window data: redone at burnout)
        event.strings.append(s)
        self._owner[s.string_id] = event
        event.last_detection_s = max(event.last_detection_s, s.last_time)


def _may_seed(strings: list[SensorString]) -> bool:
    """False where :func:`~vigil.fusion.association.associate.detections_and_seeds` surely finds fewer than two seeds: a
    seed is an instant of the longest string (the first of them) that a string of another sensor spans
    (its rays interpolate there), so there are two only if two such instants lie between the other strings'
    earliest start and latest end. (A necessary condition: True lets the full call decide.)"""
    sizes = [len(s) for s in strings]
    ref = strings[sizes.index(max(sizes))]
    lo, hi = np.inf, -np.inf
    for s in strings:
        if s is not ref and s.sensor_id != ref.sensor_id and len(s):
            t = s.arrays()[0]
            lo, hi = min(lo, t[0]), max(hi, t[-1])  # (a NaN end spans nothing: min/max keep the other)
    if not lo <= hi:
        return False
    t = ref.arrays()[0]
    return bool(np.count_nonzero((t >= lo) & (t <= hi)) >= 2)


def on_coast(t_s: float, r, v, s: SensorString) -> bool:
    """True when the first ray of ``s`` passes within :data:`REIGNITE_GATE_M` of the free-fall coast from the
    ECEF state ``(r, v)`` at ``t_s`` (central gravity, 1 s steps; rotating-frame terms < 1 km here)."""
    t, pos, los = (a[0] for a in s.arrays()[:3])
    steps = max(int(np.ceil(t - t_s)), 1)
    h = (t - t_s) / steps
    x, u = np.asarray(r, dtype=float).copy(), np.asarray(v, dtype=float).copy()
    for _ in range(steps):  # (semi-implicit Euler: ~100 m over a minute, far inside the gate)
        u += h * (-GM_EARTH_M3_S2 * x / np.linalg.norm(x) ** 3)
        x += h * u
    d = x - np.asarray(pos, dtype=float)
    los = np.asarray(los, dtype=float)
    return bool(np.linalg.norm(d - (d @ los) * los) <= REIGNITE_GATE_M and d @ los > 0.0)
