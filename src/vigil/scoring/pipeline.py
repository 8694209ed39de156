"""The scored chain on one scenario: simulate → fuse (timed) → match notifications → score.

:func:`timed_fusion` runs :class:`vigil.fusion.FusionEngine` and measures the processing split: wall-clock
time spent fusing against the simulated time it covered, and the longest single step (a chunk of
:attr:`~vigil.fusion.FusionConfig.chunk_s` of data) — the delay processing adds to a warning when the same
engine runs live. :func:`score_scenario` is what ``vigil run``, ``vigil demo`` and the Monte Carlo
bench share.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..flight.trajectory import Trajectory
from ..fusion import FusionConfig, FusionEngine
from ..fusion.launch.backfit import LaunchEstimate
from ..fusion.oosm.buffer import arrival_ticks
from ..records import ObservationBatch
from ..sim import SimulationResult, simulate
from ..sim.scenario import Scenario
from ..warning import load_notifications, match
from ..warning.records import Warning
from .bounds import simulation_bounds
from .metrics import final_versions, score

Progress = Callable[[int, int], None]


@dataclass
class ScoredRun:
    """Everything a scored run produced: the simulation, every issued version, the final (matched)
    versions, the notification match (``MatchResult`` or None) and the score dict (``score.json``)."""

    result: SimulationResult
    versions: list[Warning]
    finals: list[Warning]
    matched: object
    score: dict


def timed_fusion(
    batch: ObservationBatch,
    duration_s: float,
    config: FusionConfig | None = None,
    progress: Progress | None = None,
    launches: dict[str, LaunchEstimate | None] | None = None,
    arrival_s: np.ndarray | None = None,
) -> tuple[list[Warning], dict]:
    """Fuse ``batch``; return every issued version and the processing split (wall s vs simulated s).

    ``launches``: if given, filled with event id → the engine's final :class:`LaunchEstimate` of that
    event (what the bound must be computed from: :func:`vigil.scoring.bounds.simulation_bounds`).
    ``arrival_s``: if given (one per row), the rows reach the engine in arrival order, in 1 s ticks through
    :meth:`FusionEngine.ingest` (out-of-sequence delivery; :func:`vigil.fusion.oosm.buffer.arrival_ticks`)."""
    versions: list[Warning] = []
    longest, start = 0.0, time.perf_counter()
    last = start
    engine = FusionEngine(config)
    for now, issued in engine.run(batch) if arrival_s is None else _arrivals(engine, batch, arrival_s):
        versions += issued
        tick = time.perf_counter()
        longest, last = max(longest, tick - last), tick
        if progress is not None:
            progress(int(min(now, duration_s)), int(duration_s))
    wall = time.perf_counter() - start
    if launches is not None:
        launches.update({e.event_id: e.launch for e in engine.events})
    split = {
        "fusion_wall_s": wall,
        "simulated_s": float(duration_s),
        "realtime_factor": float(duration_s) / wall if wall > 0 else None,
        "max_step_wall_s": longest,
        "observations": len(batch),
        "observations_per_s": len(batch) / wall if wall > 0 else None,
    }
    return versions, split


def _arrivals(engine: FusionEngine, batch: ObservationBatch, arrival_s: np.ndarray):
    """``engine.run``'s ``(now, warnings)`` for rows delivered at ``arrival_s``."""
    now = 0.0
    for now, rows in arrival_ticks(batch, arrival_s):
        yield now, engine.ingest(rows, now)
    yield now, engine.finish(now)


def _stereo_times(summary: dict) -> dict[str, float | None]:
    return {la["id"]: la["first_stereo_visible_s"] for la in summary.get("launches", [])}


def score_scenario(
    scenario: Scenario,
    rng: np.random.Generator,
    trajectories: Sequence[Trajectory] | None = None,
    config: FusionConfig | None = None,
    notifications: Sequence | None = None,
    progress: Progress | None = None,
) -> ScoredRun:
    """Simulate ``scenario`` with ``rng`` (reusing ``trajectories`` if given), then :func:`score_result`."""
    result = simulate(scenario, rng, trajectories=trajectories)
    return score_result(scenario, result, config, notifications, progress)


def score_result(
    scenario: Scenario,
    result: SimulationResult,
    config: FusionConfig | None = None,
    notifications: Sequence | None = None,
    progress: Progress | None = None,
    arrival_s: np.ndarray | None = None,
) -> ScoredRun:
    """Fuse a simulation, match the scenario's notifications (or ``notifications``) and score it; the
    score carries the processing split, the notification statuses and the stereo-visible launches.
    ``arrival_s``: the observations' arrival times (out-of-sequence delivery: :func:`timed_fusion`)."""
    estimates: dict[str, LaunchEstimate | None] = {}
    versions, split = timed_fusion(
        result.observations, scenario.duration_s, config, progress, estimates, arrival_s
    )
    if notifications is None:
        notifications = [n for path in scenario.notifications for n in load_notifications(path)]
    matched = match(final_versions(versions), notifications, result.epoch)
    versions = _with_final_notifications(versions, {w.event_id: w.notification for w in matched.warnings})
    stereo = _stereo_times(result.summary)
    matches = score(versions, result.truth, stereo, result.epoch)["matches"]  # launch id → event id
    light_time = (config or FusionConfig()).light_time
    bounds = simulation_bounds(result, {lid: estimates.get(eid) for lid, eid in matches.items()}, light_time)
    scored = score(versions, result.truth, stereo, result.epoch, bounds)
    scored["processing"] = split
    scored["notifications"] = [
        {"notification_id": n.notification_id, "status": n.status, "event_ids": list(n.event_ids)}
        for n in matched.notifications
    ]
    scored["stereo_visible"] = [k for k, v in stereo.items() if v is not None]
    return ScoredRun(result, versions, final_versions(versions), matched, scored)


def _with_final_notifications(versions: list[Warning], by_event: dict[str, str]) -> list[Warning]:
    """Set the matching outcome on the latest version of each event (earlier versions keep theirs)."""
    last = {}
    for k, w in enumerate(versions):
        if w.event_id not in last or w.version > versions[last[w.event_id]].version:
            last[w.event_id] = k
    out = list(versions)
    for eid, k in last.items():
        out[k] = versions[k].with_notification(by_event.get(eid))
    return out
