"""Per-launch scores of a run: detection, latency, launch / azimuth / impact errors, class, notification.

Inputs are the warnings *as issued* (every version of every event), the truth of each launch
(:func:`vigil.sim.truth.launch_truth` dicts) and the first instant each launch could be seen by two
satellites (the simulator's summary). Events are tied to launches by :mod:`vigil.scoring.assign`.
Definitions (all times in seconds from the scenario epoch; ``issued`` is a version's ``issued_at``):

* ``latency_s``: first version issued − true launch time;
* ``latency_from_stereo_s``: first version issued − ``first_stereo_visible_s`` (null when never stereo);
* ``launch_error_km`` / ``azimuth_error_deg`` / ``class_est``: of the final version;
* ``impact_error_km``: of the version *in force* at true burnout + :data:`IMPACT_AFTER_BURNOUT_S` (the latest
  issued at or before then that states an impact; if none did by then, the first later one that does),
  against the true impact point; null for an orbital truth or an event that never stated an impact;
* ``launch_crlb_km`` / ``impact_crlb_km``: from :mod:`vigil.scoring.bounds` (null where not computed);
* ``notification``: the final version's matching outcome (id, ``UNANNOUNCED``) or null.

Unknown or not applicable values are ``None`` (JSON ``null``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence

from ..frames import great_circle_distance_m
from ..timescale import parse_utc
from ..warning.records import Warning
from .assign import Assignment, Gate, assign_events, launch_distance_km

IMPACT_AFTER_BURNOUT_S = 60.0  # the impact estimate is judged as it stands this long after true burnout
LAUNCH_KEYS = (
    "id",
    "detected",
    "class_true",
    "class_est",
    "latency_s",
    "latency_from_stereo_s",
    "launch_error_km",
    "launch_crlb_km",
    "azimuth_error_deg",
    "impact_error_km",
    "impact_crlb_km",
    "notification",
)


def issued_s(w: Warning, epoch: dt.datetime) -> float:
    """Issue instant of a version in seconds from ``epoch``."""
    return (parse_utc(w.issued_at, "issued_at") - epoch).total_seconds()


def versions_by_event(warnings: Iterable[Warning]) -> dict[str, list[Warning]]:
    """Every version of every event, each list in version order."""
    out: dict[str, list[Warning]] = {}
    for w in warnings:
        out.setdefault(w.event_id, []).append(w)
    return {k: sorted(v, key=lambda w: w.version) for k, v in out.items()}


def final_versions(warnings: Iterable[Warning]) -> list[Warning]:
    """The latest version of each event, sorted by launch time then event id."""
    latest = [v[-1] for v in versions_by_event(warnings).values()]
    return sorted(latest, key=lambda w: (w.launch_time_s, w.event_id))


def angle_difference_deg(a_deg: float, b_deg: float) -> float:
    """Smallest absolute difference of two headings, in [0, 180] degrees."""
    d = (a_deg - b_deg) % 360.0
    return min(d, 360.0 - d)


def impact_version(versions: Sequence[Warning], at_s: float, epoch: dt.datetime) -> Warning | None:
    """The version with an impact in force at ``at_s`` (s from epoch), else the first later one with one."""
    with_impact = [w for w in versions if w.has_impact]
    before = [w for w in with_impact if issued_s(w, epoch) <= at_s]
    if before:
        return before[-1]
    return with_impact[0] if with_impact else None


def impact_error_km(w: Warning, impact: Mapping) -> float:
    """Great-circle distance (km) between the stated and the true impact point."""
    r = math.radians
    return (
        float(
            great_circle_distance_m(
                r(w.impact_lat_deg), r(w.impact_lon_deg), r(impact["lat_deg"]), r(impact["lon_deg"])
            )
        )
        / 1000.0
    )


def _undetected(truth: Mapping, bound: Mapping) -> dict:
    rec = dict.fromkeys(LAUNCH_KEYS)
    rec.update(id=str(truth["id"]), detected=False, class_true=truth["class"])
    rec.update(launch_crlb_km=bound.get("launch_crlb_km"), impact_crlb_km=bound.get("impact_crlb_km"))
    return rec


def launch_record(
    truth: Mapping,
    stereo_s: float | None,
    versions: Sequence[Warning] | None,
    epoch: dt.datetime,
    bound: Mapping | None = None,
) -> dict:
    """The scores of one launch (keys :data:`LAUNCH_KEYS`); ``versions`` of its event, or None if undetected."""
    bound = bound or {}
    rec = _undetected(truth, bound)
    if not versions:
        return rec
    first, final = versions[0], versions[-1]
    t_first = issued_s(first, epoch)
    rec.update(
        detected=True,
        class_est=final.class_,
        latency_s=t_first - float(truth["launch_time_s"]),
        latency_from_stereo_s=None if stereo_s is None else t_first - float(stereo_s),
        launch_error_km=launch_distance_km(final, truth),
        notification=final.notification,
    )
    if final.azimuth_deg is not None and truth.get("azimuth_deg") is not None:
        rec["azimuth_error_deg"] = angle_difference_deg(final.azimuth_deg, float(truth["azimuth_deg"]))
    if truth.get("impact"):
        judged_at = float(truth["burnout"]["time_s"]) + IMPACT_AFTER_BURNOUT_S
        w = impact_version(versions, judged_at, epoch)
        rec["impact_error_km"] = None if w is None else impact_error_km(w, truth["impact"])
    return rec


def score(
    warnings: Iterable[Warning],
    truths: Sequence[Mapping],
    stereo_s: Mapping[str, float | None],
    epoch: str | dt.datetime,
    bounds: Mapping[str, Mapping] | None = None,
    gate: Gate | None = None,
) -> dict:
    """Score a run: ``{"launches": [...], "false_events": N, "duplicate_events": N, "events": N, "matches": …}``.

    ``warnings``: every issued version (the latest of each event is what is matched); ``truths`` the launch
    truth dicts; ``stereo_s`` launch id → first stereo-visible instant (s) or None; ``bounds`` launch id →
    ``{"launch_crlb_km", "impact_crlb_km"}``.
    """
    base = parse_utc(epoch, "epoch") if isinstance(epoch, str) else epoch.astimezone(dt.UTC)
    gate = gate or Gate()
    versions = versions_by_event(warnings)
    finals = final_versions(warnings)
    assignment: Assignment = assign_events(finals, truths, gate)
    bounds = bounds or {}
    launches = [
        launch_record(
            t,
            stereo_s.get(str(t["id"])),
            versions.get(assignment.event_of.get(str(t["id"]), "")),
            base,
            bounds.get(str(t["id"])),
        )
        for t in truths
    ]
    return {
        "launches": launches,
        "false_events": len(assignment.false_events),
        "duplicate_events": sum(len(v) for v in assignment.duplicates.values()),
        "events": len(finals),
        "matches": dict(assignment.event_of),
        "false_event_ids": list(assignment.false_events),
        "duplicates": {k: list(v) for k, v in assignment.duplicates.items()},
        "gate": {"distance_km": gate.distance_km, "time_s": gate.time_s},
    }
