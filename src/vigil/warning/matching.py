"""Matching warnings to pre-launch notifications: each event is ``notified`` (with the id) or ``UNANNOUNCED``.

A warning *fits* a notification when every criterion that both sides can state holds:

* **class**: equal, or the event's class is ``unknown`` (not yet classified);
* **time**: the launch-time interval ``t ± k·σ`` meets the window widened by ``time_tolerance_s``;
* **launch area**: the launch error ellipse (at the warning's ``containment``) meets the area widened by
  ``area_tolerance_km`` (a warning without an ellipse is a point); see :mod:`vigil.warning.areas`;
* **impact area** (when notified and the event has an impact estimate): the same with the impact ellipse;
* **azimuth sector** (when notified): ``azimuth ± k·σ`` meets the sector widened by ``azimuth_tolerance_deg``.
  Without ``azimuth_deg`` the azimuth from the launch to the impact point is used, its allowance being the
  angle the two ellipses subtend; without either the criterion is not evaluated.

``k`` is the two-sided normal quantile of the warning's containment (1.96 for 0.95), so the time and
azimuth intervals hold the same probability as the ellipses. A criterion the event cannot yet state
(no impact estimate in an early version) is *not evaluated* and listed as such: a later version is
matched again. Each fit has a **cost** in [0, ~1], the mean over evaluated criteria of the normalised
distance from the estimate to the centre of the window, area or sector; lower is a better fit.

**Groups.** Events whose launch times are less than ``group_gap_s`` (5 min) apart, chained, form a group.
A notification with ``group: true`` matches the fitting members of one event group (at most ``count``,
the best ones); an ordinary notification matches one event. Assignment is in two stages, both optimal
(Hungarian method, :func:`scipy.optimize.linear_sum_assignment`): group notifications to event groups
(most members covered, then lowest mean cost), then the remaining events to ordinary notifications
(lowest total cost). So when two events fit one notification, the better fit gets it and the other is
``UNANNOUNCED``. A notification that no event matched is ``not observed``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.special import ndtri

from ..frames import great_circle_distance_m, initial_azimuth_rad
from ..timescale import parse_utc
from .areas import (
    EARTH_RADIUS_KM,
    angular_difference_deg,
    circle_gap_km,
    polygon_centre_and_radius_deg,
    polygon_gap_km,
    sector_gap_deg,
)
from .notifications import GROUP_GAP_S, Area, Notification
from .records import UNANNOUNCED, Warning

OBSERVED = "observed"
NOT_OBSERVED = "not observed"
DEFAULT_TIME_TOLERANCE_S = 10.0  # launch-time model error beyond the stated σ (back-fit to the ground)
DEFAULT_AREA_TOLERANCE_KM = 2.0  # position model error beyond the stated ellipses
DEFAULT_AZIMUTH_TOLERANCE_DEG = 2.0  # azimuth model error beyond the stated σ
_INFEASIBLE = 1e9  # cost of a pair that does not fit, for the assignment solver


@dataclass(frozen=True)
class MatchPolicy:
    """Tolerances of :func:`match` beyond the uncertainties the warnings state."""

    time_tolerance_s: float = DEFAULT_TIME_TOLERANCE_S
    area_tolerance_km: float = DEFAULT_AREA_TOLERANCE_KM
    azimuth_tolerance_deg: float = DEFAULT_AZIMUTH_TOLERANCE_DEG
    group_gap_s: float = GROUP_GAP_S


@dataclass(frozen=True)
class Fit:
    """How one warning fits one notification: ``ok``, ``cost`` and the criteria evaluated / failed."""

    ok: bool
    cost: float
    checked: tuple[str, ...]
    failed: tuple[str, ...]


@dataclass(frozen=True)
class EventMatch:
    """Outcome for one event: the notification id or ``UNANNOUNCED``, its event group and fit."""

    event_id: str
    notification: str
    group: int
    cost: float | None = None
    checked: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotificationStatus:
    """Outcome for one notification: ``observed`` (with the events) or ``not observed``."""

    notification_id: str
    status: str
    event_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchResult:
    """Warnings with ``notification`` set (sorted by launch time), per-event and per-notification outcomes."""

    warnings: tuple[Warning, ...]
    events: tuple[EventMatch, ...]
    notifications: tuple[NotificationStatus, ...]
    groups: tuple[tuple[str, ...], ...]

    def notification_of(self, event_id: str) -> str:
        """The matched notification id of ``event_id``, or ``UNANNOUNCED``."""
        for e in self.events:
            if e.event_id == event_id:
                return e.notification
        raise KeyError(f"no event {event_id!r} in this match")

    def status_of(self, notification_id: str) -> NotificationStatus:
        for n in self.notifications:
            if n.notification_id == notification_id:
                return n
        raise KeyError(f"no notification {notification_id!r} in this match")

    @property
    def unannounced(self) -> tuple[str, ...]:
        return tuple(e.event_id for e in self.events if e.notification == UNANNOUNCED)

    @property
    def not_observed(self) -> tuple[str, ...]:
        return tuple(n.notification_id for n in self.notifications if n.status == NOT_OBSERVED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": [dataclasses.asdict(e) for e in self.events],
            "notifications": [dataclasses.asdict(n) for n in self.notifications],
            "groups": [list(g) for g in self.groups],
        }


# --- criteria --------------------------------------------------------------------------------
def containment_k(containment: float) -> float:
    """Two-sided normal quantile: ``P(|x| <= k·σ) = containment`` (1.96 for 0.95)."""
    return float(ndtri(0.5 * (1.0 + containment)))


def area_gap_km(area: Area, lat_deg: float, lon_deg: float, ellipse) -> float:
    """Gap (km) between an estimate (point + optional ellipse) and a notified area; 0 when they meet."""
    if area.circle is not None:
        c = area.circle
        return circle_gap_km(lat_deg, lon_deg, ellipse, c.lat_deg, c.lon_deg, c.radius_km)
    return polygon_gap_km(lat_deg, lon_deg, ellipse, area.polygon)


def _area_term(area: Area, lat_deg: float, lon_deg: float, ellipse, tol_km: float) -> float:
    if area.circle is not None:
        c_lat, c_lon, radius_km = area.circle.lat_deg, area.circle.lon_deg, area.circle.radius_km
    else:
        c_lat, c_lon, r_deg = polygon_centre_and_radius_deg(area.polygon)
        radius_km = math.radians(r_deg) * EARTH_RADIUS_KM
    d_km = _distance_km(lat_deg, lon_deg, c_lat, c_lon)
    extent = 0.0 if ellipse is None else ellipse[1]
    return d_km / (radius_km + extent + tol_km)


def _distance_km(lat1, lon1, lat2, lon2) -> float:
    r = np.radians
    return float(great_circle_distance_m(r(lat1), r(lon1), r(lat2), r(lon2))) / 1000.0


def _azimuth(w: Warning) -> tuple[float, float] | None:
    """(azimuth_deg, allowance_deg before tolerance, at containment) or None when unknown."""
    k = containment_k(w.containment)
    if w.azimuth_deg is not None:
        return w.azimuth_deg, k * (w.azimuth_sigma_deg or 0.0)
    if not w.has_impact:
        return None
    r = np.radians
    az = math.degrees(
        float(
            initial_azimuth_rad(
                r(w.launch_lat_deg), r(w.launch_lon_deg), r(w.impact_lat_deg), r(w.impact_lon_deg)
            )
        )
    )
    span_km = sum(e[1] for e in (w.launch_ellipse, w.impact_ellipse) if e is not None)
    dist_km = max(_distance_km(w.launch_lat_deg, w.launch_lon_deg, w.impact_lat_deg, w.impact_lon_deg), 1e-9)
    return az % 360.0, math.degrees(math.atan2(span_km, dist_km))


def fit(w: Warning, n: Notification, window_s: tuple[float, float], policy: MatchPolicy) -> Fit:
    """Evaluate every criterion of the module docstring for one (warning, notification) pair."""
    terms: dict[str, float] = {}
    failed: list[str] = []
    if w.class_ not in ("unknown", n.class_):
        failed.append("class")
    start, end = window_s
    allow_s = containment_k(w.containment) * w.launch_time_sigma_s + policy.time_tolerance_s
    if max(start - w.launch_time_s, w.launch_time_s - end, 0.0) > allow_s:
        failed.append("time")
    terms["time"] = abs(w.launch_time_s - 0.5 * (start + end)) / (0.5 * (end - start) + allow_s)
    spots = [("launch", n.launch_area, w.launch_lat_deg, w.launch_lon_deg, w.launch_ellipse)]
    if n.impact_area is not None and w.has_impact:
        spots.append(("impact", n.impact_area, w.impact_lat_deg, w.impact_lon_deg, w.impact_ellipse))
    for name, area, lat, lon, ellipse in spots:
        if area_gap_km(area, lat, lon, ellipse) > policy.area_tolerance_km:
            failed.append(name)
        terms[name] = _area_term(area, lat, lon, ellipse, policy.area_tolerance_km)
    azimuth = _azimuth(w) if n.azimuth_sector_deg is not None else None
    if azimuth is not None:
        lo, hi = n.azimuth_sector_deg
        allow_deg = azimuth[1] + policy.azimuth_tolerance_deg
        if sector_gap_deg(azimuth[0], lo, hi) > allow_deg:
            failed.append("azimuth")
        half = 0.5 * ((hi - lo) % 360.0)
        terms["azimuth"] = angular_difference_deg(azimuth[0], lo + half) / (half + allow_deg)
    checked = ("class", *terms)
    return Fit(not failed, float(np.mean(list(terms.values()))), checked, tuple(failed))


# --- grouping and assignment -----------------------------------------------------------------
def group_events(launch_times_s: Sequence[float], gap_s: float = GROUP_GAP_S) -> list[list[int]]:
    """Indices grouped by chained launch-time gaps ``< gap_s``, each group and the list in time order."""
    order = sorted(range(len(launch_times_s)), key=lambda i: launch_times_s[i])
    groups: list[list[int]] = []
    for i in order:
        if groups and launch_times_s[i] - launch_times_s[groups[-1][-1]] < gap_s:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _assign(cost: np.ndarray) -> list[tuple[int, int]]:
    if cost.size == 0:
        return []
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _INFEASIBLE]


def _group_members(fits, group: list[int], j: int, count: int | None) -> list[int]:
    members = sorted((i for i in group if fits[i][j].ok), key=lambda i: fits[i][j].cost)
    return members if count is None else members[:count]


def _assign_groups(fits, groups, notes: Sequence[Notification], grouped: list[int]) -> dict[int, int]:
    """Event index → notification index for group notifications (stage 1)."""
    cost = np.full((len(grouped), len(groups)), _INFEASIBLE)
    chosen: dict[tuple[int, int], list[int]] = {}
    for a, j in enumerate(grouped):
        for g, group in enumerate(groups):
            members = _group_members(fits, group, j, notes[j].count)
            if members:
                mean = float(np.mean([fits[i][j].cost for i in members]))
                cost[a, g] = -len(members) + mean / (1.0 + mean)
                chosen[a, g] = members
    return {i: grouped[a] for a, g in _assign(cost) for i in chosen[a, g]}


def _assign_singles(fits, free: list[int], singles: list[int]) -> dict[int, int]:
    """Event index → notification index for ordinary notifications (stage 2)."""
    cost = np.array([[fits[i][j].cost if fits[i][j].ok else _INFEASIBLE for j in singles] for i in free])
    return {free[r]: singles[c] for r, c in _assign(cost.reshape(len(free), len(singles)))}


def _latest(warnings: Iterable[Warning]) -> list[Warning]:
    latest: dict[str, Warning] = {}
    for w in warnings:
        if w.event_id not in latest or w.version > latest[w.event_id].version:
            latest[w.event_id] = w
    return sorted(latest.values(), key=lambda w: (w.launch_time_s, w.event_id))


def match(
    warnings: Iterable[Warning],
    notifications: Iterable[Notification],
    epoch: str | dt.datetime,
    policy: MatchPolicy | None = None,
) -> MatchResult:
    """Match events (the latest version of each) to notifications; see the module docstring.

    ``epoch`` (ISO 8601 UTC or aware datetime) is the scenario epoch that the warnings' times count from.
    """
    policy = policy or MatchPolicy()
    base = parse_utc(epoch, "epoch") if isinstance(epoch, str) else epoch.astimezone(dt.UTC)
    events = _latest(warnings)
    notes = sorted(notifications, key=lambda n: (n.window_start, n.notification_id))
    windows = [n.window_s(base) for n in notes]
    fits = [[fit(w, n, win, policy) for n, win in zip(notes, windows, strict=True)] for w in events]
    groups = group_events([w.launch_time_s for w in events], policy.group_gap_s)
    grouped = [j for j, n in enumerate(notes) if n.group]
    assigned = _assign_groups(fits, groups, notes, grouped)
    free = [i for i in range(len(events)) if i not in assigned]
    assigned |= _assign_singles(fits, free, [j for j, n in enumerate(notes) if not n.group])
    return _result(events, notes, fits, groups, assigned)


def _result(events, notes, fits, groups, assigned: dict[int, int]) -> MatchResult:
    group_of = {i: g for g, members in enumerate(groups) for i in members}
    outcomes, updated = [], []
    for i, w in enumerate(events):
        j = assigned.get(i)
        nid = UNANNOUNCED if j is None else notes[j].notification_id
        cost, checked = (None, ()) if j is None else (fits[i][j].cost, fits[i][j].checked)
        outcomes.append(EventMatch(w.event_id, nid, group_of[i], cost, checked))
        updated.append(w.with_notification(nid))
    statuses = []
    for j, n in enumerate(notes):
        ids = tuple(events[i].event_id for i in sorted(assigned) if assigned[i] == j)
        statuses.append(NotificationStatus(n.notification_id, OBSERVED if ids else NOT_OBSERVED, ids))
    names = tuple(tuple(events[i].event_id for i in g) for g in groups)
    return MatchResult(tuple(updated), tuple(outcomes), tuple(statuses), names)
