"""Late detections that continue a known string: placed in it, and only the events they touch refit.

Buffered re-processing (:mod:`vigil.fusion.oosm.buffer`) re-runs every chunk from a snapshot before a late row: exact,
but its cost is the lag × the whole engine per arrival (a partner 30 s late re-runs ~30 chunks per tick). Most
late detections, though, belong to a string the engine already holds: a partner's sensor whose earlier
detections came (late) before, or the detections a link dropped from a string that the other frames built. For
those the re-run would only put the detection into that string and refit its event; this module does just
that (retrodiction of the touched events, Bar-Shalom 2002 §1's alternative to re-filtering everything):

* :func:`~vigil.fusion.oosm.placement.placements` gates each late row (light-time corrected) against its sensor's strings at the row's time:
  inside a string's span against the LOS interpolated between the neighbouring detections, outside it against
  the extrapolation of the two end detections (only within :data:`~vigil.fusion.oosm.placement.OUTSIDE_FRAMES` of its end: a
  longer gap is the stringer's assignment to decide); the gate is the stringer's own
  (:meth:`~vigil.fusion.strings.sensorstring.SensorString.gate_rad`, from the nearer neighbour). A row is placed when
  exactly one string takes it and that string has no detection in the row's frame (and no other late row of
  it does). If any row is not placed (it would start a string, be a second object, or clutter that the
  stringer's assignment decides), the caller re-processes the whole call's late rows instead: exact. So it does
  when a row would join a free string (no event owns it), or is not placed but lies within :data:`~vigil.fusion.oosm.placement.NEAR_GATES`
  of a string's gate (the in-order stringer gates a live event's strings on its filter, wider than this
  gate); a held loose row that a string reaches later is re-run then (:meth:`PendingRefits.claimed`).
* :func:`~vigil.fusion.oosm.placement.insert` writes the rows into their strings' pool blocks in time order (a fresh block: views handed
  out earlier keep their rows).
* :class:`PendingRefits` keeps the events whose fitted data changed: a closing launch fit (order-free:
  :meth:`FusionEngine.launch_fit`) whose window holds a placed row, live or burned out; a burnout estimate (of an
  event already burned out). Rows inside the span of a fit that a scheduled one follows need nothing: that one
  has them. Their refit waits until no row joined
  them for :data:`SETTLE_S` (a delayed partner's rows come every frame: one refit when they stop, not one per
  tick), at most :data:`MAX_WAIT_S`, or at once when the placed rows add :data:`REFIT_FRACTION` of the
  event's detections; :meth:`FusionEngine.finish` refits all. The refit is the in-order one on the same
  strings (the launch back-fit, then the burnout smoother, classification and impact), so the final
  warnings are those of the in-order run whenever the strings are (order invariance: tests/fusion/test_oosm.py).

The event's filter (used for gating and cuts of live strings) is not rewound: its estimate lacks the placed
rows, as a filter that missed those frames; the warnings come from the fits, which have them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vigil.fusion.oosm.placement import insert, placements
from vigil.fusion.strings.linkcost import (
    GATE_SIGMAS,
    MAX_ANGULAR_RATE_RAD_S,
)
from vigil.records import ObservationBatch

if TYPE_CHECKING:
    from vigil.fusion.events.event import FusedEvent

SETTLE_S = 5.0  # a touched event refits once no late row joined it for this long (s) ...
MAX_WAIT_S = 30.0  # ... or once its oldest unfitted late row waited this long (s) ...
REFIT_FRACTION = 0.1  # ... or at once when the unfitted late rows are this fraction of its detections
LOOSE_GAP_S = 3.0  # two late rows continuing no string, this close in time (and in gate), start one: re-run
MIN_FRAME_S = 0.05  # rows of one sensor closer in time than this are of one frame


@dataclass
class _Pending:
    event: FusedEvent
    first_s: float  # when its oldest unfitted late row was placed
    last_s: float  # when its latest one was
    rows: int  # unfitted late rows
    launch: bool = False  # some lie in the launch window of a fit at burnout that had not reached them


class PendingRefits:
    """Events whose fits lack placed late rows, and when to refit them; late rows that continue no string
    (module docstring)."""

    def __init__(self) -> None:
        self.events: dict[str, _Pending] = {}
        self.loose: ObservationBatch | None = None  # late rows (corrected) that continued no string
        self.loose_raw_s = np.zeros(0)  # their times as received (before light-time correction)

    def place(self, engine, raw: ObservationBatch, rows: ObservationBatch, now: float) -> float | None:
        """Place late ``rows`` (``raw`` light-time corrected) in their strings and note the touched events; hold
        those that continue none as loose. Returns None when done, else (nothing done) the earliest received
        time a re-run must start at: a row is ambiguous, or one of the loose rows pairs with another (a string
        starts: the stringer's to build)."""
        found = placements(engine.stringer, rows)
        if found is None:
            return float(raw.time_s.min())
        placed, strings, sids, rest = found
        owners = [engine.owner_of(int(j)) for j in np.unique(sids).tolist()]
        if any(
            e is None or e.mono for e in owners
        ):  # (a free or mono string's pairing and joining: in time order)
            return float(raw.time_s.min())
        if placed.size and any(
            engine.owner_of(s.string_id).cut_s >= t
            for s, t in zip(strings, rows.time_s[placed].tolist(), strict=True)
        ):
            return float(raw.time_s.min())  # (a string of its event was cut on data that lacked the row)
        if placed.size and _mono_overlaps(
            engine, float(rows.time_s[placed].min()), float(rows.time_s[placed].max())
        ):
            return float(
                raw.time_s.min()
            )  # (a mono event decided without the rows may have paired with them)
        if rest.size:
            partner = self._partner(rows.take(rest))
            if partner is not None:
                return min(float(raw.time_s.min()), partner)
            self._hold(rows.take(rest), raw.time_s[rest], now - engine.config.lag_horizon_s)
        if placed.size:
            insert(engine.stringer.pool, strings, sids, rows.take(placed))
            self._touched(engine, strings, sids, rows.time_s[placed], now)
        engine.counts.placed += placed.size
        engine.counts.loose += rest.size
        return None

    def _partner(self, rest: ObservationBatch) -> float | None:
        """The earliest received time of the rows that pair with one of ``rest`` (another of them or a loose
        row: same sensor, another frame within :data:`LOOSE_GAP_S`, inside a one-detection string's gate); None
        if none pairs."""
        pool = rest if self.loose is None else ObservationBatch.concatenate(rest.epoch, [rest, self.loose])
        raw = np.r_[np.full(len(rest), np.inf), self.loose_raw_s]
        dt = np.abs(rest.time_s[:, None] - pool.time_s[None, :])
        angle = np.arccos(np.clip(rest.los_ecef @ pool.los_ecef.T, -1.0, 1.0))
        gate = (
            GATE_SIGMAS * np.maximum(rest.los_sigma_rad[:, None], pool.los_sigma_rad[None, :])
            + MAX_ANGULAR_RATE_RAD_S * dt
        )
        pair = (
            (rest.sensor_id[:, None] == pool.sensor_id[None, :])
            & (dt >= MIN_FRAME_S)
            & (dt <= LOOSE_GAP_S)
            & (angle <= gate)
        )
        if not pair.any():
            return None
        cols = np.nonzero(pair)[1]
        return float(np.min(np.r_[raw[cols], np.inf]))  # (rest rows themselves: the caller's minimum)

    def _hold(self, rows: ObservationBatch, raw_s: np.ndarray, oldest_s: float) -> None:
        if self.loose is not None:
            keep = self.loose_raw_s >= oldest_s
            rows = ObservationBatch.concatenate(rows.epoch, [self.loose.take(keep), rows])
            raw_s = np.r_[self.loose_raw_s[keep], raw_s]
        self.loose, self.loose_raw_s = rows, raw_s

    def claimed(self, engine) -> float | None:
        """The earliest received time of the held loose rows that a string now continues or nearly reaches (it
        started or grew after they came: in time order the stringer would have decided them), or None."""
        if self.loose is None or not len(self.loose):
            return None
        found = placements(engine.stringer, self.loose)
        if found is not None and not found[0].size:
            return None
        if found is not None:
            return float(np.min(self.loose_raw_s[found[0]]))
        return float(np.min(self.loose_raw_s))

    def replayed(self, chunk_s: float, first_chunk: float) -> None:
        """A re-run from chunk index ``first_chunk`` on: it refits everything, and re-runs the loose rows of those
        chunks (no longer loose)."""
        self.events.clear()
        if self.loose is not None:
            keep = np.floor(self.loose_raw_s / chunk_s) < first_chunk
            self.loose, self.loose_raw_s = self.loose.take(keep), self.loose_raw_s[keep]

    def _touched(self, engine, strings, sids, t: np.ndarray, now: float) -> None:
        """Note the events owning the strings that took placed rows (time ``t``, one per string of ``strings``)."""
        unique, first, counts = np.unique(sids, return_index=True, return_counts=True)
        for k, m in zip(first.tolist(), counts.tolist(), strict=True):
            event = engine.owner_of(strings[k].string_id)
            if event is None:
                continue
            tk = t[k : k + m]
            engine.forget_span_start(event.event_id)  # (a string's first time may have moved)
            if event.burnout is None:
                event.last_detection_s = max(event.last_detection_s, float(tk.max()))
            if event.mono:
                continue
            # a closed event's closing launch fit is redone for any placed row: in its window the data changed,
            # after it the start did (the seed instants come from its longest string)
            closed = event.launch_final or event.burnout is not None  # (no scheduled launch fit follows)
            if closed:
                p = self.events.get(event.event_id)
                if p is None or p.event is not event:
                    p = self.events[event.event_id] = _Pending(event, now, now, 0)
                p.last_s, p.rows = now, p.rows + m
                p.launch = True

    def refit(self, engine, now: float, everything: bool = False) -> bool:
        """Refit the events whose wait is over (``everything``: all); each becomes dirty (a new version at
        the engine's next estimate). True when any was refit."""
        done = False
        for eid, p in list(self.events.items()):
            event = p.event
            n = sum(len(s) for s in event.strings)
            due = (
                everything
                or now - p.last_s >= SETTLE_S
                or now - p.first_s >= MAX_WAIT_S
                or p.rows >= REFIT_FRACTION * n
            )
            if not due:
                continue
            del self.events[eid]
            if any(e is event for e in engine.events):
                refit_event(engine, event, p.launch)
                done = True
        return done


def refit_event(engine, event, launch: bool) -> None:
    """The estimates of a burned-out ``event`` on its current strings as :meth:`FusionEngine._estimate` makes them
    at burnout: the launch refit (``launch``: placed rows lie in the window its fit at burnout had not reached),
    then the burnout estimate (smoother, class, impact: order free); the event becomes dirty."""
    from vigil.fusion.events.event import estimate_burnout

    shared = engine.launch_fit(event, final=True) if launch else None
    if event.burnout is not None:  # (a live event: its burnout estimate comes at its burnout)
        estimate_burnout(event, engine.classifier, engine.impact_predictor, engine.config.containment, shared)
    event.dirty = True


def _mono_overlaps(engine, t0: float, t1: float) -> bool:
    """True when a mono event's string spans part of ``[t0, t1]``: it was left unpaired on data that lacked rows of
    that time (a lagging sensor's), and with them the in-order association might have paired it."""
    return any(s.first_time <= t1 and s.last_time >= t0 for e in engine.events if e.mono for s in e.strings)
