"""A run that stops while an event is in flight (``FusionEngine.close``, what ``vigil node`` does on SIGTERM):
the event's last version is a function of the detections held, bit for bit, whatever the arrival order and
however the run was restarted — as a node killed mid-stream and restarted re-fuses what it stored in one batch.

Scenario: the last minute of the two-launch cut (745–800 s of the recording: the SRBM SR1, seen from 755.8 s
by north-1, north-2, east-2 and east-4, still burning when the data stops; the kill test's window,
tests/sharing/test_node_kill.py). Yardsticks: the same engine's fits from the other feeds (exact equality) and
the launch's Cramér–Rao bound from the simulator's truth (:func:`vigil.scoring.bounds.simulation_bounds`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from testkit.cutscenario import cut_scenario

from vigil.frames import WGS84_A_M
from vigil.fusion import FusionEngine
from vigil.scoring.bounds import simulation_bounds
from vigil.sim import load_scenario, simulate

FROM_S, TO_S = 745.0, 800.0
SR1 = (math.radians(34.0), math.radians(36.0))  # the scenario's SR1 site (truth)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("close") / "cut.yaml"
    path.write_text(cut_scenario("two-partner-cut"))
    return simulate(load_scenario(path), np.random.default_rng(7))


@pytest.fixture(scope="module")
def window(sim):
    obs = sim.observations
    return obs.take((obs.time_s >= FROM_S) & (obs.time_s < TO_S))


def ticks(engine: FusionEngine, obs, arrive: np.ndarray, first_s: float = -math.inf) -> float:
    """Ingest the rows of ``obs`` arriving at or after ``first_s`` in 1 s ticks of ``arrive``; the last tick's end."""
    now = 0.0
    for k in range(int(np.floor(max(arrive.min(), first_s))), int(np.ceil(arrive.max())) + 1):
        rows = (arrive >= max(k, first_s)) & (arrive < k + 1)
        if rows.any():
            now = k + 1.0
            engine.ingest(obs.take(rows), now)
    return now


def in_flight(engine: FusionEngine) -> list:
    """The stereo events not burnt out: (launch time, lat, lon, covariance bytes, sensors)."""
    return sorted(
        (
            e.launch.time_s,
            e.launch.lat_rad,
            e.launch.lon_rad,
            e.launch.cov_en_m2.tobytes(),
            tuple(sorted({s.sensor_id for s in e.strings})),
        )
        for e in engine.events
        if e.launch is not None and not e.mono and e.burnout is None
    )


def stopped(obs, arrive: np.ndarray, restart_s: float | None = None) -> tuple[list, list]:
    """Feed ``obs`` by ``arrive`` and close the run 5 s after the last tick; with ``restart_s``: the engine is
    replaced there by a new one that takes every row arrived before it in one batch (a restarted node's
    store), then the ticks after it. Returns (the in-flight fits before close, after close)."""
    engine = FusionEngine()
    if restart_s is not None:
        engine.ingest(obs.take(arrive < restart_s), restart_s)
        first = restart_s
    else:
        first = -math.inf
    now = ticks(engine, obs, arrive, first)
    before = in_flight(engine)
    engine.close(now + 5.0)
    return before, in_flight(engine)


def partner_lags(obs, seed: int) -> np.ndarray:
    """Arrival times: own (east) rows on time, the partner's (north) 0.05–1.5 s late each (release ticks and
    transit), a few 3–8 s late (a batch redelivered after an acknowledgement wait)."""
    rng = np.random.default_rng(seed)
    north = obs.partner_id.astype(str) == "north"
    lag = rng.uniform(0.05, 1.5, len(obs)) + np.where(
        rng.random(len(obs)) < 0.05, rng.uniform(3.0, 8.0, len(obs)), 0
    )
    return obs.time_s + np.where(north, lag, 0.0)


def test_close_refits_the_live_event_without_declaring_burnout(sim, window) -> None:
    engine = FusionEngine()
    now = ticks(engine, window, window.time_s.copy())
    live = [e for e in engine.events if e.launch is not None and not e.mono]
    assert len(live) == 1 and live[0].burnout is None  # SR1, still burning at the cut
    warnings = engine.close(now + 5.0)
    event = live[0]
    assert [w.event_id for w in warnings] == [event.event_id]  # its new version (the closing fit moved it)
    assert event.burnout is None and event.class_ == "unknown" and warnings[0].burnout_time_s is None
    bound = simulation_bounds(sim, {"SR1": event.launch})["SR1"]["launch_crlb_km"]
    dlat, dlon = event.launch.lat_rad - SR1[0], (event.launch.lon_rad - SR1[1]) * math.cos(SR1[0])
    assert WGS84_A_M * math.hypot(dlat, dlon) / 1000.0 <= 3.0 * bound  # a launch fit, near the truth


@pytest.mark.parametrize("seed", range(4))
def test_a_stopped_run_ends_on_the_same_fit_whatever_the_order_and_restarts(window, seed: int) -> None:
    """In time order, with the partner's rows late, and restarted (one batch of what came, then ticks) at
    several instants of SR1's flight: after close() the in-flight fit is bit-identical in every feed."""
    in_order = stopped(window, window.time_s.copy())[1]
    arrive = partner_lags(window, seed)
    feeds = [stopped(window, arrive)] + [stopped(window, arrive, r) for r in (765.0, 777.0, 789.0, 798.0)]
    assert len(in_order) == 1
    assert (
        len({before[0][0] for before, _ in feeds}) > 1
    )  # before close, the fits follow the feed (seeds 0-3)
    assert all(after == in_order for _, after in feeds), [after for _, after in feeds]
