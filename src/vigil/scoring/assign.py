"""Which event is which launch: optimal assignment of final warnings to true launches, with a gate.

An event is judged by what it *says*, not by the detections it was built from (the truth associations
of observations are not used). The distance between event ``e`` and launch ``l`` is normalised::

    c(e, l) = (d(e, l) / GATE_DISTANCE_KM)² + ((t̂_e - t_l) / GATE_TIME_S)²

with ``d`` the great-circle distance (km, WGS84 equatorial sphere) between the stated and the true launch
point and ``t̂_e - t_l`` the launch-time difference (s). A pair is admissible when ``c ≤ 1`` (inside the
gate ellipse); the assignment minimises the total cost over admissible pairs (Hungarian method,
:func:`scipy.optimize.linear_sum_assignment`), so two nearby salvo launches each get their best event.
An event assigned to no launch is a *false event*; an unassigned event that lies inside some launch's gate
is also counted as a *duplicate* of the nearest such launch (a split track).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..frames import great_circle_distance_m
from ..warning.records import Warning

GATE_DISTANCE_KM = 100.0  # a launch-point estimate further off than this is not that launch (mono: ~10 km)
GATE_TIME_S = 60.0  # nor one whose launch time is off by more than this (salvo launches ≥ 90 s apart)
_INADMISSIBLE = 1e9


@dataclass(frozen=True)
class Gate:
    """Normalising scales of the assignment cost (also its gate, at cost 1)."""

    distance_km: float = GATE_DISTANCE_KM
    time_s: float = GATE_TIME_S


@dataclass(frozen=True)
class Assignment:
    """``event_of``: launch id → event id (detected launches); ``false_events``: unassigned event ids;
    ``duplicates``: launch id → unassigned event ids inside its gate (nearest launch only)."""

    event_of: dict[str, str]
    false_events: tuple[str, ...]
    duplicates: dict[str, tuple[str, ...]]


def launch_distance_km(w: Warning, truth: Mapping) -> float:
    """Great-circle distance (km) from the warning's launch point to the true site."""
    r = math.radians
    site = truth["site"]
    return (
        float(
            great_circle_distance_m(
                r(w.launch_lat_deg), r(w.launch_lon_deg), r(site["lat_deg"]), r(site["lon_deg"])
            )
        )
        / 1000.0
    )


def cost_matrix(events: Sequence[Warning], truths: Sequence[Mapping], gate: Gate) -> np.ndarray:
    """``(E, L)`` normalised squared distances of the module docstring (inf where not finite)."""
    cost = np.empty((len(events), len(truths)))
    for i, w in enumerate(events):
        for j, t in enumerate(truths):
            dd = launch_distance_km(w, t) / gate.distance_km
            dt = (w.launch_time_s - float(t["launch_time_s"])) / gate.time_s
            cost[i, j] = dd * dd + dt * dt
    return cost


def assign_events(
    events: Sequence[Warning], truths: Sequence[Mapping], gate: Gate | None = None
) -> Assignment:
    """Assign final warnings (one per event) to truth launches (``{"id", "site", "launch_time_s"}``)."""
    gate = gate or Gate()
    cost = cost_matrix(events, truths, gate)
    admissible = cost <= 1.0
    event_of: dict[str, str] = {}
    taken: set[int] = set()
    if cost.size:
        rows, cols = linear_sum_assignment(np.where(admissible, cost, _INADMISSIBLE))
        for i, j in zip(rows, cols, strict=True):
            if admissible[i, j]:
                event_of[str(truths[j]["id"])] = events[i].event_id
                taken.add(int(i))
    free = [i for i in range(len(events)) if i not in taken]
    duplicates: dict[str, list[str]] = {}
    for i in free:
        if admissible[i].any():
            j = int(np.argmin(np.where(admissible[i], cost[i], np.inf)))
            duplicates.setdefault(str(truths[j]["id"]), []).append(events[i].event_id)
    return Assignment(
        event_of, tuple(events[i].event_id for i in free), {k: tuple(v) for k, v in duplicates.items()}
    )
