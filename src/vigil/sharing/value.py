"""The value of sharing: per partner, what it knows alone and with its partners' releases, against truth.

:func:`launch_view` judges one set of warning versions launch by launch (seen, triangulated, latencies,
launch / azimuth / impact errors, launch error over the joint geometry's CRLB); :func:`sharing_summary`
turns a :class:`vigil.sharing.results.NetworkResult` into the ``sharing`` block of ``score.json``
(docs/sharing.md, "Network run and the value of sharing").
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..scoring import IMPACT_AFTER_BURNOUT_S, Gate, assign_events, final_versions
from ..scoring.assign import cost_matrix, launch_distance_km
from ..scoring.metrics import (
    angle_difference_deg,
    impact_error_km,
    impact_version,
    issued_s,
    versions_by_event,
)
from ..timescale import parse_utc
from ..warning.records import Warning

if TYPE_CHECKING:
    from .results import NetworkResult


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def launch_view(
    warnings: Sequence[Warning],
    truths: Sequence[dict],
    epoch: str,
    gate: Gate | None = None,
    bounds: dict[str, dict] | None = None,
) -> dict:
    """Per true launch: ``seen`` (an event inside the gate), ``triangulated`` (one of the node's own fusion,
    not mono; received warnings name no sensors), the first
    warning latency (earliest issue among its events − launch time, s), the first triangulated warning's (a
    version of those events from >= 2 sensors), and, of the event assigned to it (optimal assignment,
    :func:`vigil.scoring.assign_events`), the launch-point error (km), its ratio to ``bounds[id]
    ["launch_crlb_km"]`` (the joint geometry's bound), the azimuth error (deg, final version) and the impact
    error (km, the version in force at true burnout + :data:`vigil.scoring.IMPACT_AFTER_BURNOUT_S`, as scored)."""
    gate = gate or Gate()
    finals = final_versions(warnings)
    event_of = assign_events(finals, truths, gate).event_of
    cost = cost_matrix(finals, truths, gate) if finals and truths else np.zeros((len(finals), len(truths)))
    base = parse_utc(epoch, "epoch")
    first_issue: dict[str, float] = {}
    first_stereo: dict[
        str, float
    ] = {}  # event id -> earliest issue of a version triangulated by >= 2 sensors
    for w in warnings:
        first_issue[w.event_id] = min(first_issue.get(w.event_id, np.inf), issued_s(w, base))
        if not w.mono and len(w.sources.sensors) >= 2:
            first_stereo[w.event_id] = min(first_stereo.get(w.event_id, np.inf), issued_s(w, base))
    versions = versions_by_event(warnings)
    out = {}
    for j, truth in enumerate(truths):
        lid = str(truth["id"])
        near = [finals[i] for i in range(len(finals)) if cost[i, j] <= 1.0 and int(np.argmin(cost[i])) == j]
        assigned = next((w for w in finals if w.event_id == event_of.get(lid)), None)
        near = near + ([assigned] if assigned is not None and assigned not in near else [])
        out[lid] = {
            "seen": bool(near),
            "triangulated": any(not w.mono and w.sources.sensors for w in near),
            "latency_s": min(first_issue[w.event_id] for w in near) - float(truth["launch_time_s"])
            if near
            else None,
            "triangulated_latency_s": _first(first_stereo, near, float(truth["launch_time_s"])),
            **_errors(
                assigned,
                versions.get(assigned.event_id, []) if assigned else [],
                truth,
                base,
                (bounds or {}).get(lid, {}).get("launch_crlb_km"),
            ),
        }
    return out


def _errors(
    assigned: Warning | None, versions: list[Warning], truth: dict, base, crlb_km: float | None
) -> dict:
    """Launch error (km), its ratio to the CRLB, azimuth error (deg), impact error (km) of an assigned event."""
    out: dict[str, float | None] = dict.fromkeys(
        ("launch_error_km", "launch_error_crlb", "azimuth_error_deg", "impact_error_km")
    )
    if assigned is None:
        return out
    out["launch_error_km"] = err = launch_distance_km(assigned, truth)
    out["launch_error_crlb"] = err / crlb_km if crlb_km else None
    if assigned.azimuth_deg is not None and truth.get("azimuth_deg") is not None:
        out["azimuth_error_deg"] = angle_difference_deg(assigned.azimuth_deg, float(truth["azimuth_deg"]))
    if truth.get("impact"):
        w = impact_version(versions, float(truth["burnout"]["time_s"]) + IMPACT_AFTER_BURNOUT_S, base)
        out["impact_error_km"] = None if w is None else impact_error_km(w, truth["impact"])
    return out


def _first(first: dict[str, float], near: list[Warning], launch_s: float) -> float | None:
    """Earliest of ``first`` over the events of ``near`` − the launch time (s), or None."""
    times = [first[w.event_id] for w in near if w.event_id in first]
    return min(times) - launch_s if times else None


def _block(view: dict) -> dict:
    rows = list(view.values())
    return {
        "events_seen": sum(r["seen"] for r in rows),
        "triangulated": sum(r["triangulated"] for r in rows),
        "first_warning_latency_s": _median([r["latency_s"] for r in rows if r["latency_s"] is not None]),
        "first_triangulated_latency_s": _median(
            [r["triangulated_latency_s"] for r in rows if r["triangulated_latency_s"] is not None]
        ),
        **{
            key: _median([r[key] for r in rows if r[key] is not None])
            for key in ("launch_error_km", "launch_error_crlb", "azimuth_error_deg", "impact_error_km")
        },
        "seen_ids": sorted(k for k, r in view.items() if r["seen"]),
    }


def sharing_summary(
    result: NetworkResult,
    truth: Sequence[dict] | None = None,
    gate: Gate | None = None,
    bounds: dict[str, dict] | None = None,
) -> dict:
    """The ``sharing`` block of ``score.json``: per partner, ``alone`` vs ``shared`` (see docs/sharing.md).

    ``truth``: the simulation's launch truth dicts (default: ``result.simulation.truth``); ``bounds``: launch
    id → ``{"launch_crlb_km": …}`` of the joint geometry (default: :func:`vigil.scoring.bounds.simulation_bounds`
    of the simulation, every partner's detections of each launch).
    """
    truths = list(result.simulation.truth if truth is None else truth)
    if bounds is None:
        from ..scoring.bounds import simulation_bounds

        bounds = simulation_bounds(result.simulation)
    partners = {}
    for pid, part in result.partners.items():
        alone = launch_view(part.alone, truths, result.epoch, gate, bounds)
        shared = launch_view(part.shared, truths, result.epoch, gate, bounds)
        c = part.counts
        partners[pid] = {
            "alone": _block(alone),
            "shared": _block(shared),
            "gained": sorted(k for k in shared if shared[k]["seen"] and not alone[k]["seen"]),
            "gained_triangulation": sorted(
                k for k in shared if shared[k]["triangulated"] and not alone[k]["triangulated"]
            ),
            "messages": {
                "released": c.released,
                "denied": c.denied,
                "published": c.published,
                "received": c.received,
                "rejected": sum(c.rejected.values()),
                "received_detections": c.fused_received,
                "received_warnings": len(part.received),
                "received_tracks": len(part.received_tracks),
            },
        }
    return {"launches": len(truths), "bus": result.bus, "db": result.db, "partners": partners}
