"""Engine snapshots (vigil.fusion.oosm.buffer.History.keep): a copy of the engine's state, restored after the original
ran on, continues exactly as the original did from that point.

The copies are hand-written for the hot types (:class:`FusedEvent`, :class:`SensorString`, :class:`StringPool`:
only the pool rows in use are copied); the reference is the same detections fed to an engine that is never
copied. Scenario: the two-launch cut of the shipped two-partner scenario (as tests/fusion/test_oosm.py).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from testkit.cutscenario import cut_scenario

from vigil.fusion import FusionEngine
from vigil.fusion.events.event import FusedEvent
from vigil.fusion.oosm.buffer import immutable_parts
from vigil.fusion.strings.sensorstring import SensorString
from vigil.sim import load_scenario, simulate


@pytest.fixture(scope="module")
def obs(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("snap") / "cut.yaml"
    path.write_text(cut_scenario("two-partner-cut"))
    return simulate(load_scenario(path), np.random.default_rng(7)).observations


def ticks(obs):
    for k in range(int(np.ceil(obs.time_s.max())) + 1):
        rows = (obs.time_s >= k) & (obs.time_s < k + 1)
        if rows.any():
            yield k + 1.0, obs.take(rows)


def result(engine: FusionEngine) -> list:
    """Each event's launch point, class, burnout time and detections (obs ids per string), in event order."""
    out = []
    for e in engine.events:
        launch = None if e.launch is None else (e.launch.lat_rad, e.launch.lon_rad, e.launch.time_s)
        burnout = None if e.burnout is None else e.burnout.time_s
        out.append((launch, e.class_, burnout, [s.obs_index.tolist() for s in e.strings]))
    return out


def snapshot(engine: FusionEngine) -> dict:
    return copy.deepcopy(engine._state(), {id(o): o for o in immutable_parts(engine.events)})


@pytest.mark.parametrize("cut_s", [360.0, 520.0, 770.0])  # (one live event; one burned out; the second live)
def test_restored_snapshot_continues_as_the_original(obs, cut_s: float) -> None:
    reference = FusionEngine()
    for now, rows in ticks(obs):
        reference.ingest(rows, now)
    reference.finish(now)

    engine = FusionEngine()
    later = []
    snap = None
    for now, rows in ticks(obs):
        if now <= cut_s:
            engine.ingest(rows, now)
            continue
        if snap is None:
            snap = snapshot(engine)
            pool = snap["stringer"].pool
            assert pool.used > 0 and len(snap["events"]) > 0  # (the cut falls inside the launches' data)
            for name in "tpusi":  # rows past `used` are never read before written: poison them in the copy
                getattr(pool, name)[pool.used :] = -1 if name == "i" else np.nan
        later.append((now, rows))
        engine.ingest(rows, now)
    engine.finish(now)
    assert result(engine) == result(reference)  # (the copy changed nothing of the original)

    vars(engine).update(copy.deepcopy(snap, {id(o): o for o in immutable_parts(snap["events"])}))
    engine._filter_states = None  # (as FusionEngine._reprocess does after a restore)
    for _, rows in later:
        list(engine._process(rows.sorted_by_time(), keep=False))  # (a generator of the chunks)
    engine.finish(later[-1][0])
    assert result(engine) == result(reference)


def test_event_copy_is_deep_and_shares_only_frozen_parts(obs) -> None:
    engine = FusionEngine()
    for now, rows in ticks(obs):
        engine.ingest(rows, now)
        if now >= 780.0:
            break
    events = [e for e in engine.events if e.filter is not None and e.launch is not None]
    assert events
    memo = {id(o): o for o in immutable_parts(engine.events)}
    copied = copy.deepcopy(events, memo)
    for e, c in zip(events, copied, strict=True):
        assert type(c) is FusedEvent and c is not e
        assert c.launch is e.launch  # (frozen: shared through the memo)
        assert c.filter is not e.filter and c.filter.x is not e.filter.x and c.filter.P is not e.filter.P
        np.testing.assert_array_equal(c.filter.x, e.filter.x)
        np.testing.assert_array_equal(c.filter.P, e.filter.P)
        assert c.filter.t == e.filter.t and c.filter.q == e.filter.q
        assert c.strings is not e.strings and len(c.strings) == len(e.strings)
        for s, t in zip(e.strings, c.strings, strict=True):
            assert type(t) is SensorString and t is not s
            for a, b in zip(s.arrays(), t.arrays(), strict=True):
                np.testing.assert_array_equal(a, b)
                assert not np.shares_memory(a, b)
        c.filter.x[:] = 0.0
        assert np.any(e.filter.x != 0.0)
        others = ("strings", "filter", "burnout")
        assert {k: v for k, v in vars(c).items() if k not in others} == {
            k: v for k, v in vars(e).items() if k not in others
        }
        assert (c.burnout is None) == (e.burnout is None)
        if e.burnout is not None:
            assert c.burnout is not e.burnout and c.burnout.time_s == e.burnout.time_s
            for a, b in (
                (c.burnout.r, e.burnout.r),
                (c.burnout.v, e.burnout.v),
                (c.burnout.cov6, e.burnout.cov6),
            ):
                np.testing.assert_array_equal(a, b)
                assert not np.shares_memory(a, b)
