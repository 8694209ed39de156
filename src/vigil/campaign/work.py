"""What a worker does with one task: the scored chain of ``vigil run`` on one seed, plus, when the campaign
asks for sharing, every partner's node alone and with what its partners released.

The chain is :func:`vigil.scoring.score_result` on :func:`vigil.sim.simulate`, as ``vigil run`` and the
reference bench run it. Flights are deterministic and seed-free, so each worker process flies a scenario's
launches once and reuses them for every seed (:func:`prepared`), as the bench did in its pool initializer.
Likewise the partners' alone views of one simulation are fused once per worker process: the runner sends a
seed's sharing variants to one worker together, and the variants after the first run the network without
fusing alone (:func:`alone_key`, :data:`ALONE_CACHE`).
A task that raises becomes a ``failed`` record whose ``error`` is one line; the campaign goes on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..flight.trajectory import Trajectory
from ..fusion.oosm.buffer import late_arrivals
from ..scoring import score_result
from ..sim import simulate
from ..sim.engine import fly_launch
from ..sim.scenario import Launch, Scenario, parse_scenario, resolve
from .generator import draw_launches
from .tasks import Task

ALONE_CACHE = 8  # simulations whose alone views a worker process keeps (a seed's variants run in one batch)
_ALONE: OrderedDict[bytes, dict[str, tuple]] = OrderedDict()
LATE_STREAM = 11  # a late variant's arrival draw: numpy.random.default_rng([seed, LATE_STREAM])
SHARING_ROW_KEYS = ("partner", "view", "id", "seen", "triangulated", "latency_s", "launch_error_km")


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


@lru_cache(maxsize=16)
def _scenario(scenario_path: str, doc_json: str) -> Scenario:
    return resolve(parse_scenario(json.loads(doc_json), Path(scenario_path).name), Path(scenario_path))


@lru_cache(maxsize=16)
def _trajectories(scenario_path: str, doc_json: str, launches_json: str) -> tuple[Trajectory, ...]:
    return tuple(fly_launch(la) for la in _scenario(scenario_path, doc_json).launches)


@lru_cache(maxsize=256)
def _fly(launch: Launch) -> Trajectory:
    return fly_launch(launch)


def prepared(task: Task) -> tuple[Scenario, tuple[Trajectory, ...]]:
    """The task's resolved scenario and its flown launches, cached per worker process (flights are keyed by
    the launches alone, so variants that change only sensors or agreements share them). A generated
    campaign's launches are the seed's draws (:func:`vigil.campaign.generator.draw_launches`), flown per
    launch (a seed's launches are the same in every variant)."""
    doc_json = _canonical(task.scenario_doc)
    scenario = _scenario(task.scenario_path, doc_json)
    if task.generator is not None:
        launches, _ = draw_launches(task.generator, task.seed)
        return dataclasses.replace(scenario, launches=launches), tuple(_fly(la) for la in launches)
    launches_json = _canonical([task.scenario_doc.get("launches"), task.scenario_doc.get("epoch")])
    return scenario, _trajectories(task.scenario_path, doc_json, launches_json)


def alone_key(scenario: Scenario, result) -> bytes:
    """What every partner's alone view depends on: the observations (every field), the epoch, the
    duration and the partners. Variants that change only agreements share it (common random numbers)."""
    obs = result.observations
    digest = hashlib.sha256(
        _canonical([result.epoch, scenario.duration_s, [p.id for p in scenario.partners]]).encode()
    )
    for f in dataclasses.fields(obs):
        value = getattr(obs, f.name)
        if isinstance(value, np.ndarray):
            arr = np.ascontiguousarray(value)
            digest.update(f"{f.name}:{arr.dtype.str}:{arr.shape}".encode())
            digest.update(
                _canonical(arr.ravel().tolist()).encode() if arr.dtype.kind == "O" else arr.tobytes()
            )
        else:
            digest.update(f"{f.name}={value!r}".encode())
    return digest.digest()


def _sharing_rows(scenario: Scenario, result, agreements) -> list[dict]:
    """Each partner's launch rows alone and shared. The alone view is the first network run's of this
    simulation in this worker process (:data:`_ALONE`); later variants of the seed run the network without
    fusing alone (the same warnings: the alone engines see the same detections at the same instants)."""
    from ..sharing.network import MEMORY_DB, launch_view, run_network

    key = alone_key(scenario, result)
    cached = _ALONE.get(key)
    network = run_network(
        scenario, simulation=result, agreements=agreements, db=MEMORY_DB, audit=False, alone=cached is None
    )
    if cached is None:
        cached = {pid: tuple(part.alone) for pid, part in network.partners.items()}
        _ALONE[key] = cached
        while len(_ALONE) > ALONE_CACHE:
            _ALONE.popitem(last=False)
    else:
        _ALONE.move_to_end(key)
    truths = list(result.truth)
    rows = []
    for pid, part in network.partners.items():
        for view, warnings in (("alone", cached[pid]), ("shared", part.shared)):
            for lid, r in launch_view(warnings, truths, network.epoch).items():
                rows.append(
                    {
                        "partner": pid,
                        "view": view,
                        "id": lid,
                        "seen": r["seen"],
                        "triangulated": r["triangulated"],
                        "latency_s": r["latency_s"],
                        "launch_error_km": r["launch_error_km"],
                    }
                )
    return rows


def _agreements(task: Task) -> list | None:
    if task.agreement_docs is None:
        return None
    from ..sharing.agreement import parse_agreement

    return [parse_agreement(doc, f"variant {task.variant} agreement") for doc in task.agreement_docs]


def one_line(err: BaseException) -> str:
    """``Type: message`` on one line (a VigilError's message is already one line)."""
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def failed_record(task: Task, error: str, wall_s: float | None = None) -> dict:
    """The stored record of a task that raised (or whose worker could not finish it)."""
    return {
        "key": task.key,
        "variant": task.variant,
        "seed": task.seed,
        "status": "failed",
        "error": error,
        "score": None,
        "sharing": None,
        "wall_s": wall_s,
    }


def run_task(task: Task) -> dict:
    """Run one task; its record: ``status`` ``ok`` with ``score`` (``score.json`` of the seed) and
    ``sharing`` rows (:data:`SHARING_ROW_KEYS`, or None), or ``failed`` with a one-line ``error``."""
    start = time.perf_counter()
    try:
        scenario, trajectories = prepared(task)
        result = simulate(scenario, np.random.default_rng(task.seed), trajectories=trajectories)
        arrival = None
        if task.late is not None:  # (its own draw: the simulation's is the in-order arm's)
            fraction, low, high = task.late
            arrival = late_arrivals(
                result.observations.time_s,
                fraction,
                (low, high),
                np.random.default_rng([task.seed, LATE_STREAM]),
            )
        scored = score_result(scenario, result, arrival_s=arrival).score
        sharing = _sharing_rows(scenario, result, _agreements(task)) if task.sharing else None
    except Exception as err:  # one failing seed is a finding to report, not a reason to stop the campaign
        return failed_record(task, one_line(err), time.perf_counter() - start)
    scored["seed"] = task.seed
    record = {
        "key": task.key,
        "variant": task.variant,
        "seed": task.seed,
        "status": "ok",
        "error": None,
        "score": scored,
        "sharing": sharing,
        "wall_s": time.perf_counter() - start,
    }
    if task.generator is not None:  # what the generator drew, for the launch table and for the reader
        record["launches"] = draw_launches(task.generator, task.seed)[1]
    return record
