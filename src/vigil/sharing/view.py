"""A node's shared view of events: its own estimates, fused track-to-track with its partners' warnings and tracks.

The node's fusion (own + received detections) issues versions of its own events; partners release their
warnings and tracks (both received as estimates of event ``<partner>:<id>``, a track by its launch estimate:
:func:`vigil.sharing.conversions.warning_from_track`). :class:`SharedView` keeps the latest version of each,
associates every partner event with at most one own event by the **scoring gate**
(:class:`vigil.scoring.Gate`: ``(d / 100 km)² + (Δt / 60 s)² ≤ 1`` between the two stated launch points and
times, optimal one-to-one assignment per partner, as :func:`vigil.scoring.assign_events`), and issues:

* for an own event whose estimate or associated partner estimates changed: the own estimate fused with
  each associated partner's by covariance intersection (:func:`vigil.fusion.partners.trackfusion.fuse_warnings`),
  its ``sources.partners`` naming the contributors — unless the own estimate already holds that partner's
  detections (its ``sources.partners`` name it): then both are fits of largely the same pooled data, the
  partner's warning adds no information, and moving the point towards it would only add its share of the
  fit noise (measured on the demo: with observations both ways, CI of the two made north's IR1 and east's
  S2 launch points worse, 1.29 → 2.41 km and 2.18 → 2.76 km, while both pairs agreed within their ellipses);
  the own estimate is issued as it is;
* for a partner event associated with no own event: the partner's warning as received — unless it was
  associated with an own event before and is still inside that event's gate (a partner's second event for
  the same launch, which lost the one-to-one assignment to its sibling): it stays a member of that own event,
  whose version is issued again (not fused with it), so one launch never shows as two view events.

A partner event that leaves its own event's gate stands alone under an id of its own: no two view events
ever share an id (measured before: a partner's event that lost its association was issued under the own
event's id, so the view's final version of a triangulated own event was a partner's coarse warning, 17 km
from the launch instead of 0.15 km, in 1 of 5 launches of the value-of-sharing campaign's coarse variant).

Each view event has one id for good: the first of its members to be issued (so a launch first known from a
partner's warning keeps that id when the node's own estimate joins it), and versions numbered by the view.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..frames import great_circle_distance_m
from ..fusion.partners.trackfusion import fuse_warnings
from ..scoring import Gate
from ..warning.records import Warning

_INADMISSIBLE = 1e9


def gate_cost(a: Warning, b: Warning, gate: Gate) -> float:
    """The scoring gate's normalised squared distance between two warnings' launch points and times."""
    r = math.radians
    d_km = (
        float(
            great_circle_distance_m(
                r(a.launch_lat_deg), r(a.launch_lon_deg), r(b.launch_lat_deg), r(b.launch_lon_deg)
            )
        )
        / 1000.0
    )
    return (d_km / gate.distance_km) ** 2 + ((a.launch_time_s - b.launch_time_s) / gate.time_s) ** 2


def partner_of(event_id: str) -> str:
    """The partner of a received event id ``<partner>:<id>``."""
    return event_id.split(":", 1)[0]


class SharedView:
    """See the module docstring. :meth:`own` / :meth:`received` take new versions and return the view's
    new versions; :attr:`warnings` is every version the view issued."""

    def __init__(self, gate: Gate | None = None) -> None:
        self.gate = gate or Gate()
        self._own: dict[str, Warning] = {}
        self._partner: dict[str, Warning] = {}
        self._from_track: dict[str, bool] = {}  # partner event → its estimate held came from a track
        self._view_id: dict[str, str] = {}
        self._version: dict[str, int] = {}
        self._attached: dict[str, str] = {}  # partner event → the own event it was last associated with
        self.warnings: list[Warning] = []
        self.fused = 0  # view versions that fused at least one partner's estimate

    def own(self, warnings: list[Warning]) -> list[Warning]:
        """New versions from the node's own fusion."""
        if not warnings:
            return []
        for w in warnings:
            self._own[w.event_id] = w
        assoc = self._associate()
        return [
            self._emit_own(e, assoc.get(e, []), self._own[e].issued_at)
            for e in dict.fromkeys(w.event_id for w in warnings)
        ]

    def received(self, warnings: list[Warning], from_tracks: bool = False) -> list[Warning]:
        """New versions of partners' events (event ids ``<partner>:<id>``, issued when received): from their
        warnings, or from their tracks (``from_tracks``). A partner's track and warning of one event carry one
        id and its version: the view holds one estimate per partner event, the newest (a version older than
        the one held is ignored; the same version replaces one held from a track, since the warning carries
        class, azimuth and impact besides the same launch estimate), so no estimate is used twice."""
        warnings = [w for w in warnings if self._newer(w, from_tracks)]
        if not warnings:
            return []
        for w in warnings:
            self._partner[w.event_id] = w
            self._from_track[w.event_id] = from_tracks
        assoc = self._associate()
        owner = {q: e for e, qs in assoc.items() for q in qs}
        out = []
        changed_own: dict[str, str] = {}
        for w in warnings:
            q = w.event_id
            e = owner.get(q) or self._still_attached(q)
            if e is not None:
                changed_own[e] = w.issued_at
            else:
                out.append(self._emit_alone(q, w.issued_at))
        out += [self._emit_own(e, assoc[e], at) for e, at in changed_own.items()]
        return out

    def _newer(self, w: Warning, from_track: bool) -> bool:
        held = self._partner.get(w.event_id)
        if held is None or w.version > held.version:
            return True
        return w.version == held.version and (self._from_track[w.event_id] or not from_track)

    def _associate(self) -> dict[str, list[str]]:
        """Own event id → associated partner event ids (one per partner at most)."""
        own_ids = list(self._own)
        by_partner: dict[str, list[str]] = {}
        for q in self._partner:
            by_partner.setdefault(partner_of(q), []).append(q)
        out: dict[str, list[str]] = {}
        if not own_ids:
            return out
        for qs in by_partner.values():
            cost = np.array(
                [[gate_cost(self._own[e], self._partner[q], self.gate) for q in qs] for e in own_ids]
            )
            rows, cols = linear_sum_assignment(np.where(cost <= 1.0, cost, _INADMISSIBLE))
            for i, j in zip(rows, cols, strict=True):
                if cost[i, j] <= 1.0:
                    out.setdefault(own_ids[i], []).append(qs[j])
                    self._attached[qs[j]] = own_ids[i]
        return out

    def _still_attached(self, q: str) -> str | None:
        """The own event partner event ``q`` was last associated with, if ``q`` is still inside its gate."""
        e = self._attached.get(q)
        if e is None or gate_cost(self._own[e], self._partner[q], self.gate) > 1.0:
            return None
        return e

    def _emit_alone(self, q: str, issued_at: str) -> Warning:
        """Partner event ``q`` as received, under a view id no other member is issued under."""
        vid = self._view_id.get(q)
        if vid is not None and any(m != q and v == vid for m, v in self._view_id.items()):
            taken = {v for m, v in self._view_id.items() if m != q}
            candidates = (q if n == 1 else f"{q}/{n}" for n in range(1, len(taken) + 2))
            self._view_id[q] = next(c for c in candidates if c not in taken)
        self._attached.pop(q, None)
        return self._emit(q, [], self._partner[q], issued_at)

    def _emit_own(self, event_id: str, partners: list[str], issued_at: str) -> Warning:
        own = fused = self._own[event_id]
        for q in sorted(partners):
            if (
                partner_of(q) not in own.sources.partners
            ):  # its detections are not in own's fit: new information
                fused = fuse_warnings(fused, self._partner[q], partner_of(q))
        self.fused += fused is not own
        return self._emit(event_id, partners, fused, issued_at)

    def _emit(self, member: str, partners: list[str], w: Warning, issued_at: str) -> Warning:
        if member not in self._view_id:  # a launch first known from a partner keeps the partner's id
            owned = {self._view_id[e] for e in self._own if e != member and e in self._view_id}
            known = [
                self._view_id[q]
                for q in sorted(partners)
                if q in self._view_id and self._view_id[q] not in owned
            ]
            self._view_id[member] = known[0] if known else member
        vid = self._view_id[member]
        for q in partners:
            self._view_id.setdefault(q, vid)
        self._version[vid] = self._version.get(vid, 0) + 1
        out = dataclasses.replace(w, event_id=vid, version=self._version[vid], issued_at=issued_at)
        self.warnings.append(out)
        return out
