"""The simulator: fly the launches, let every satellite watch them frame by frame, add clutter, keep truth.

``simulate(scenario, rng)`` is deterministic for a given generator state (bit for bit): the generator is
split with ``Generator.spawn`` into one child per partner, and each satellite's child into two streams,
plumes and clutter, so adding a launch does not change the clutter nor the frame phases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..flight.trajectory import Trajectory
from ..records import OBSERVATION_FIELDS, ObservationBatch
from .clutter import false_alarms
from .observe import SensorFrames, detect_plumes, satellite_frames
from .plumes import PlumeStack
from .scenario import Launch, Partner, Scenario
from .truth import launch_truth
from .visibility import first_visible_times

CLUTTER = "clutter"  # truth association of a false alarm

Progress = Callable[[int, int], None]  # (satellites done, satellites in all)


@dataclass
class SimulationResult:
    """Observations (sorted by time, ``obs_id`` 0…M-1), their truth and the flights.

    ``truth_launch`` (M,) object: launch id or :data:`CLUTTER` per observation; ``t_emit_s`` (M,) the
    light-emission instant (= frame time for clutter). ``truth`` one dict per launch
    (:func:`vigil.sim.truth.launch_truth`); ``summary`` counts and first-detection times.
    """

    epoch: str
    observations: ObservationBatch
    truth_launch: np.ndarray
    t_emit_s: np.ndarray
    trajectories: dict[str, Trajectory]
    truth: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


def fly_launch(launch: Launch) -> Trajectory:
    """The trajectory of one scenario launch (integrated vehicle, aimed vehicle or telemetry replay)."""
    from ..flight.launch import fly
    from ..flight.replay import replay
    from ..flight.targeting import fly_to_target

    if launch.telemetry is not None:
        return replay(
            launch.telemetry,
            launch.site_lat_deg,
            launch.site_lon_deg,
            launch.time_s,
            launch.azimuth_deg,
            launch_id=launch.id,
        )
    if launch.target is not None:
        return fly_to_target(
            launch.vehicle,
            (launch.site_lat_deg, launch.site_lon_deg),
            launch.time_s,
            launch.target[0],
            launch.target[1],
            launch_id=launch.id,
        )
    return fly(
        launch.vehicle,
        launch.site_lat_deg,
        launch.site_lon_deg,
        launch.time_s,
        launch.azimuth_deg,
        launch.loft_deg,
        launch_id=launch.id,
    )


def simulate(
    scenario: Scenario,
    rng: np.random.Generator,
    progress: Progress | None = None,
    trajectories: Sequence[Trajectory] | None = None,
) -> SimulationResult:
    """Simulate ``scenario``; ``trajectories`` (one per launch, same order) skips flying them."""
    trajs = list(trajectories) if trajectories is not None else [fly_launch(la) for la in scenario.launches]
    ids = [la.id for la in scenario.launches] if trajectories is None else [t.launch_id for t in trajs]
    result = observe_all(scenario.epoch, scenario.duration_s, scenario.partners, trajs, ids, rng, progress)
    result.truth = [
        launch_truth(t, scenario.epoch, i, _source(la), la.azimuth_deg if la else None)
        for t, i, la in zip(trajs, ids, _launch_specs(scenario, ids), strict=True)
    ]
    return result


def _launch_specs(scenario: Scenario, ids: list[str]) -> list[Launch | None]:
    by_id = {la.id: la for la in scenario.launches}
    return [by_id.get(i) for i in ids]


def _source(launch: Launch | None) -> str:
    if launch is None:
        return "given"
    return (
        f"telemetry:{launch.telemetry.name}" if launch.telemetry is not None else f"vehicle:{launch.vehicle}"
    )


def observe_all(
    epoch: dt.datetime,
    duration_s: float,
    partners: Sequence[Partner],
    trajectories: list[Trajectory],
    launch_ids: list[str],
    rng: np.random.Generator,
    progress: Progress | None = None,
) -> SimulationResult:
    """Observations of ``trajectories`` by every satellite of ``partners`` over ``[0, duration_s)``."""
    stack = PlumeStack.build(trajectories)
    total = sum(len(p.constellation) for p in partners)
    parts, sensors, done = [], [], 0
    for partner, child in zip(partners, rng.spawn(len(partners)), strict=True):
        frames = satellite_frames(
            partner.constellation, partner.id, partner.sensor.frame_s, epoch, duration_s, child
        )
        for sat, streams in zip(frames, child.spawn(len(frames)), strict=True):
            plume_rng, clutter_rng = streams.spawn(2)
            hits = detect_plumes(sat, stack, partner.sensor, partner.signal, plume_rng)
            alarms = false_alarms(sat, partner.sensor, partner.signal, clutter_rng)
            parts += [hits, alarms]
            sensors.append((sat, len(hits["time_s"]), len(alarms["time_s"])))
            done += 1
            if progress is not None:
                progress(done, total)
    epoch_iso = epoch.isoformat().replace("+00:00", "Z")
    batch, launch_index, t_emit = _assemble(epoch_iso, parts)
    names = np.array(list(launch_ids) + [CLUTTER], dtype=object)
    truth_launch = names[launch_index]  # -1 picks CLUTTER
    result = SimulationResult(
        epoch_iso, batch, truth_launch, t_emit, dict(zip(launch_ids, trajectories, strict=True))
    )
    result.summary = _summary(result, launch_index, sensors, stack, launch_ids, partners, epoch, duration_s)
    return result


def _assemble(epoch_iso: str, parts: list[dict]) -> tuple[ObservationBatch, np.ndarray, np.ndarray]:
    """Concatenate per-satellite columns, sort by (time, sensor order) stably, number ``obs_id`` 0…M-1."""
    fields = [f for f in OBSERVATION_FIELDS if f != "obs_id"]
    if not parts or not sum(len(p["time_s"]) for p in parts):
        return ObservationBatch.empty(epoch_iso), np.zeros(0, np.int64), np.zeros(0)
    cols = {f: np.concatenate([p[f] for p in parts]) for f in fields + ["launch", "t_emit_s"]}
    order = np.argsort(cols["time_s"], kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    batch = ObservationBatch(epoch_iso, np.arange(len(order), dtype=np.int64), *(cols[f] for f in fields))
    return batch, cols["launch"].astype(np.int64), cols["t_emit_s"]


def _summary(
    result: SimulationResult,
    launch_index: np.ndarray,
    sensors: list[tuple[SensorFrames, int, int]],
    stack: PlumeStack,
    launch_ids: list[str],
    partners: Sequence[Partner],
    epoch: dt.datetime,
    duration_s: float,
) -> dict:
    obs = result.observations
    first_seen = first_visible_times(stack, partners, epoch, duration_s)
    names, sensor_index = np.unique(obs.sensor_id.astype(str), return_inverse=True)
    launches = []
    for i, lid in enumerate(launch_ids):
        mine = launch_index == i
        counts = np.bincount(sensor_index[mine], minlength=len(names))
        per_sensor = {str(k): int(v) for k, v in zip(names, counts, strict=True) if v}
        launches.append(
            {
                "id": lid,
                "detections": int(mine.sum()),
                "detections_per_sensor": per_sensor,
                "first_detection_s": float(obs.time_s[mine].min()) if mine.any() else None,
                "first_visible_s": first_seen["first_visible_s"][i],
                "first_stereo_visible_s": first_seen["first_stereo_visible_s"][i],
            }
        )
    return {
        "epoch": result.epoch,
        "duration_s": duration_s,
        "observations": len(obs),
        "false_alarms": int((result.truth_launch == CLUTTER).sum()),
        "sensors": [
            {
                "sensor_id": s.sensor_id,
                "partner_id": s.partner_id,
                "satellite": s.satellite,
                "frames": len(s.t_s),
                "detections": n_hit,
                "false_alarms": n_fa,
            }
            for s, n_hit, n_fa in sensors
        ],
        "launches": launches,
    }
