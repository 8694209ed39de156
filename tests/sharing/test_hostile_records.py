"""Validly signed but malformed or misleading records from a partner: each is rejected and audited
with its reason, the node keeps running, and what it fuses and warns on equals a run without them."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testkit.cutscenario import cut_scenario

from vigil.records import ObservationBatch
from vigil.sharing.audit import AuditLog, MemoryAuditSink, verify_entries
from vigil.sharing.bus import share_subject
from vigil.sharing.bus_memory import MemoryBus
from vigil.sharing.conversions import observation_records
from vigil.sharing.envelope import Envelope, sign_envelope
from vigil.sharing.node import Node
from vigil.sharing.receiver import MemorySeenIds, Receiver, Rejected
from vigil.sharing.releaser import Releaser
from vigil.sharing.store_sqlite import SqliteStore
from vigil.sim import load_scenario, simulate

from .policykit import (
    EAST,
    NORTH,
    OBS_TIME_S,
    T0,
    TRACK_TIME_S,
    agreement,
    notification,
    observation,
    registry,
    track,
)
from .policykit import warning as warning_record

AGREEMENT = agreement(precision_m=1000.0)  # north->east: every type, global, no delay
EPOCH = dt.datetime.fromtimestamp(T0 - 100.0, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
NOW = T0 + 1.0
DAY_S = 86400.0
_ids = itertools.count()


def signed(
    kind: str, payload: dict[str, Any], created_at: float = T0, release_at: float | None = None
) -> Envelope:
    """An envelope north really signs, whatever its payload: what a compromised or buggy partner sends."""
    env = Envelope(
        msg_id=f"{next(_ids):032x}",
        sender="north",
        recipient="east",
        key_id=NORTH.key_id,
        record_type=kind,
        created_at=created_at,
        release_at=created_at if release_at is None else release_at,
        payload=payload,
    )
    return sign_envelope(env, NORTH)


def released(kind: str, record: dict[str, Any]) -> Envelope:
    out = Releaser(AGREEMENT, "north", NORTH).release(kind, record, T0)
    assert isinstance(out, list), out
    return out[0]


def launch_track() -> dict[str, Any]:
    """A node's track of an event: its state and the event's launch estimate (sharing.conversions.track_record)."""
    return track() | {
        "version": 2,
        "launch_lat_deg": 45.3,
        "launch_lon_deg": 63.3,
        "launch_time": TRACK_TIME_S - 90.0,
        "launch_time_sigma_s": 1.5,
        "launch_ellipse": [30.0, 4.0, 1.5],
    }


def _good(kind: str) -> dict[str, Any]:
    record = {
        "observation": observation,
        "track": launch_track,
        "warning": warning_record,
        "notification": notification,
    }[kind]()
    return released(kind, record).payload  # coarsened as the agreement requires


def malformed(rng: np.random.Generator) -> list[tuple[str, str, Envelope]]:
    """(what, expected rejection kind, envelope): one per way of lying, each with random bad values."""
    obs, trk, wrn, ntf = (_good(k) for k in ("observation", "track", "warning", "notification"))
    bad = float(rng.uniform(1.0, 1e3))
    cov = [row[:] for row in trk["cov"]]
    cov[0][1] = cov[0][1] + bad
    neg_cov = [row[:] for row in trk["cov"]]
    neg_cov[2][2] = -bad
    bow_tie = [[60.0, 40.0], [62.0, 42.0], [62.0, 40.0], [60.0, 42.0]]
    return [
        ("time garbage", "payload", signed("observation", obs | {"time": "garbage"})),
        ("los_sigma 0", "payload", signed("observation", obs | {"los_sigma_rad": 0.0})),
        ("los_sigma < 0", "payload", signed("observation", obs | {"los_sigma_rad": -bad})),
        ("snr < 0", "payload", signed("observation", obs | {"snr": -bad})),
        ("intensity < 0", "payload", signed("observation", obs | {"intensity_w_sr": -bad})),
        (
            "sensor beyond the Moon",
            "payload",
            signed("observation", obs | {"sensor_pos_ecef_m": [1e12, 0.0, 0.0]}),
        ),
        ("another partner's data", "partner", signed("observation", obs | {"partner_id": "third"})),
        ("stale data time", "stale", signed("observation", obs | {"time": T0 - bad * 3600.0})),
        ("data after creation", "future", signed("observation", obs | {"time": T0 + 60.0 + bad})),
        (
            "data before the agreement",
            "not_yet_valid",
            signed("observation", obs | {"time": "2025-06-01T00:00:00Z"}),
        ),
        (
            "stale created_at",
            "stale",
            signed("observation", obs, created_at=T0 - 400.0 - bad * DAY_S / 1e3, release_at=T0),
        ),
        ("asymmetric cov", "payload", signed("track", trk | {"cov": cov})),
        ("negative variance", "payload", signed("track", trk | {"cov": neg_cov})),
        ("velocity beyond escape", "payload", signed("track", trk | {"vel_ecef_m_s": [1e9, 0.0, 0.0]})),
        ("track time garbage", "payload", signed("track", trk | {"time": "soon"})),
        ("track launch lat 95", "payload", signed("track", trk | {"launch_lat_deg": 90.0 + bad})),
        (
            "track launch lat alone",
            "payload",
            signed("track", {k: v for k, v in trk.items() if k != "launch_lon_deg"}),
        ),
        (
            "track launch time alone",
            "payload",
            signed(
                "track", {k: v for k, v in trk.items() if not k.startswith("launch_") or k == "launch_time"}
            ),
        ),
        (
            "track launch ellipse axis < 0",
            "payload",
            signed("track", trk | {"launch_ellipse": [10.0, 1.0, -bad]}),
        ),
        ("track launch sigma < 0", "payload", signed("track", trk | {"launch_time_sigma_s": -bad})),
        ("track launch time garbage", "payload", signed("track", trk | {"launch_time": "at dawn"})),
        ("track version 0", "payload", signed("track", trk | {"version": 0})),
        (
            "track launch point off grid",
            "precision",
            signed("track", trk | {"launch_lat_deg": trk["launch_lat_deg"] + 1e-4}),
        ),  # a tenth of a 1 km cell north
        ("ellipse bearing", "payload", signed("warning", wrn | {"launch_ellipse": [360.0 + bad, 1.0, 1.0]})),
        ("ellipse axis < 0", "payload", signed("warning", wrn | {"launch_ellipse": [10.0, -bad, 1.0]})),
        ("azimuth 720", "payload", signed("warning", wrn | {"azimuth_deg": 720.0})),
        ("version 0", "payload", signed("warning", wrn | {"version": 0})),
        ("confidence > 1", "payload", signed("warning", wrn | {"confidence": 1.0 + bad})),
        ("issued_at garbage", "payload", signed("warning", wrn | {"issued_at": "yesterday"})),
        (
            "self-intersecting area",
            "payload",
            signed("notification", ntf | {"impact_area": {"polygon": bow_tie}}),
        ),
        ("sector 400", "payload", signed("notification", ntf | {"azimuth_sector_deg": [0.0, 400.0]})),
    ]


# The node fuses real detections: the last minute of the two-launch cut scenario (the SRBM SR1, launched at
# 34.0 N 36.0 E, seen by north-1, north-2, east-2 and east-4), east's own and north's released ones, replayed
# so that the window's end falls just before NOW: the bad records' times (around T0) are as fresh as they.
FROM_S, TO_S = 745.0, 800.0
FUSE_EPOCH_S = NOW - 0.5 - TO_S


@pytest.fixture(scope="module")
def detections(tmp_path_factory: pytest.TempPathFactory) -> tuple[ObservationBatch, list[Envelope]]:
    """(east's own detections, north's detections released to east under AGREEMENT) of the window."""
    path = tmp_path_factory.mktemp("hostile") / "cut.yaml"
    path.write_text(cut_scenario("two-partner-cut"))
    obs = simulate(load_scenario(path), np.random.default_rng(7)).observations
    obs = dataclasses.replace(obs, epoch=_iso(FUSE_EPOCH_S))
    window = (obs.time_s >= FROM_S) & (obs.time_s < TO_S)
    partner = obs.partner_id.astype(str)
    north = observation_records(obs.take(window & (partner == "north")).sorted_by_time(), FUSE_EPOCH_S)
    envelopes, denied = Releaser(AGREEMENT, "north", NORTH).release_many("observation", north, NOW)
    assert not denied and len(envelopes) == len(north) > 50
    return obs.take(window & (partner == "east")), envelopes


def _iso(t_s: float) -> str:
    return dt.datetime.fromtimestamp(t_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _run(own: ObservationBatch, envelopes: list[Envelope]) -> tuple[Node, list[dict[str, Any]]]:
    bus, sink = MemoryBus(), MemoryAuditSink()
    node = Node(
        "east",
        EAST,
        registry(),
        [AGREEMENT],
        bus,
        SqliteStore(":memory:"),
        own.epoch,
        AuditLog(sink, EAST, clock=lambda: NOW),
    )
    node.advance(NOW)
    await node.start()
    node.observe(own)
    for env in envelopes:
        await bus.publish(share_subject("north", "east", env.record_type), env.to_bytes(), env.msg_id)
    await node.receive(expected=len(envelopes))
    node.step()
    node.finish()
    await node.close()
    return node, sink.entries


def _good_envelopes() -> list[Envelope]:
    out = [
        released("observation", observation(obs_id=i, time=OBS_TIME_S + i, target=(45.0 + 0.01 * i, 63.3)))
        for i in range(5)
    ]
    out += [released("warning", warning_record() | {"event_id": f"E{i}"}) for i in range(3)]
    return out + [
        released("track", track()),
        released("track", launch_track() | {"track_id": "E7"}),
        released("notification", notification()),
    ]


def _near_sr1(w: Any) -> bool:
    return abs(w.launch_lat_deg - 34.0) < 0.5 and abs(w.launch_lon_deg - 36.0) < 0.5


def test_a_thousand_signed_lies_are_each_rejected_and_audited_and_change_no_fused_warning(detections):
    own, north = detections
    rng = np.random.default_rng(16)
    bad: list[tuple[str, str, Envelope]] = []
    while len(bad) < 1000:
        bad += malformed(rng)
    good = north + _good_envelopes()[5:]  # north's real detections, its warnings, a track, a notification
    mixed = list(good)
    for i, item in enumerate(bad):  # interleave, so that good records follow bad ones in the same fetches
        mixed.insert((i * 7) % (len(mixed) + 1), item[2])
    clean_node, _ = asyncio.run(_run(own, good))
    node, entries = asyncio.run(_run(own, mixed))
    rejected = [e["detail"] for e in entries if e["kind"] == "rejection"]
    assert len(rejected) == len(bad)
    by_id = {r["msg_id"]: r for r in rejected}
    for what, kind, env in bad:
        assert by_id[env.msg_id]["kind"] == kind, (what, by_id[env.msg_id])
    assert node.counts.received == clean_node.counts.received == len(good)
    assert node.counts.fused_received == clean_node.counts.fused_received == len(north)
    # the node's own fused output: its fusion of its own and north's detections, every version
    assert any(_near_sr1(w) and len(w.sources.partners) == 2 for w in clean_node.fused_warnings), [
        (w.launch_lat_deg, w.launch_lon_deg, w.sources) for w in clean_node.fused_warnings
    ]
    assert [w.to_dict() for w in node.fused_warnings] == [w.to_dict() for w in clean_node.fused_warnings]
    assert [w.to_dict() for w in node.alone_warnings] == [w.to_dict() for w in clean_node.alone_warnings]
    assert [w.to_dict() for w in node.received_warnings] == [
        w.to_dict() for w in clean_node.received_warnings
    ]
    assert len(node.received_warnings) == 3
    assert (
        [w.event_id for w in node.received_tracks]
        == [w.event_id for w in clean_node.received_tracks]
        == ["north:E7"]
    )
    assert verify_entries(entries, EAST.public_key).ok
    print(
        f"{len(bad)} lies of {len({k for k, _, _ in bad})} kinds rejected; {len(north)} of north's detections "
        f"and {len(own)} own fused: {len(node.fused_warnings)} warning versions equal to the clean run's"
    )


def test_each_rejection_reason_names_the_field_it_judged():
    receiver = Receiver("east", registry(), [AGREEMENT], MemorySeenIds(), clock=lambda: NOW)
    fields = {
        "time garbage": "time",
        "los_sigma 0": "los_sigma_rad",
        "snr < 0": "snr",
        "another partner's data": "partner_id",
        "asymmetric cov": "cov",
        "ellipse bearing": "launch_ellipse",
        "azimuth 720": "azimuth_deg",
        "self-intersecting area": "impact_area",
        "sector 400": "azimuth_sector_deg",
        "stale created_at": "created_at",
        "data after creation": "data time",
        "track launch lat 95": "launch_lat_deg",
        "track launch lat alone": "launch_lon_deg",
        "track launch time alone": "launch_lat_deg",
        "track launch ellipse axis < 0": "launch_ellipse",
        "track launch sigma < 0": "launch_time_sigma_s",
        "track launch time garbage": "launch_time",
        "track version 0": "version",
        "track launch point off grid": "launch_lat_deg",
    }
    for what, kind, env in malformed(np.random.default_rng(1)):
        result = receiver.accept(env.to_bytes())
        assert isinstance(result, Rejected) and result.kind == kind, (what, result)
        if what in fields:
            assert fields[what] in result.reason, (what, result.reason)


def _outside(lo: float, hi: float, lo_open: bool = False) -> st.SearchStrategy[Any]:
    """Floats beyond either bound (an open lower bound itself included), NaN-free: JSON has no NaN."""
    return st.one_of(
        st.floats(max_value=lo, exclude_max=not lo_open, min_value=lo - 1e9),
        st.floats(min_value=hi, exclude_min=True, max_value=hi + 1e9) if hi < math.inf else st.nothing(),
        st.booleans(),
        st.text(max_size=4),
    )


RECORD_FIELDS = [
    ("observation", "los_sigma_rad", _outside(0.0, 1.0, lo_open=True)),
    ("observation", "snr", _outside(0.0, math.inf)),
    ("observation", "time", st.one_of(st.text(alphabet="abc:-", min_size=1, max_size=6), st.booleans())),
    ("observation", "sensor_pos_ecef_m", st.lists(st.floats(2e9, 1e12), min_size=3, max_size=3)),
    ("track", "vel_ecef_m_s", st.lists(st.floats(2e5, 1e9), min_size=3, max_size=3)),
    ("track", "time", st.one_of(st.text(alphabet="xyz", min_size=1, max_size=4), st.booleans())),
    ("track", "launch_lat_deg", _outside(-90.0, 90.0)),
    ("track", "launch_lon_deg", _outside(-180.0, 180.0)),
    ("track", "launch_time_sigma_s", _outside(0.0, math.inf)),
    ("track", "launch_ellipse", st.lists(st.floats(-1e3, -1e-3), min_size=3, max_size=3)),
    ("track", "version", st.integers(min_value=-(2**53 - 1), max_value=0)),
    ("warning", "launch_lat_deg", _outside(-90.0, 90.0)),
    ("warning", "azimuth_deg", _outside(0.0, 360.0)),
    ("warning", "confidence", _outside(0.0, 1.0)),
    ("warning", "version", st.integers(min_value=-(2**53 - 1), max_value=0)),
    ("warning", "launch_ellipse", st.lists(st.floats(-1e3, -1e-3), min_size=3, max_size=3)),
    ("notification", "azimuth_sector_deg", st.lists(st.floats(360.001, 1e4), min_size=2, max_size=2)),
]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_a_signed_record_with_one_bad_field_is_rejected_naming_it(data):
    kind, key, values = RECORD_FIELDS[data.draw(st.integers(0, len(RECORD_FIELDS) - 1))]
    env = signed(kind, _good(kind) | {key: data.draw(values)})
    result = Receiver("east", registry(), [AGREEMENT], MemorySeenIds(), clock=lambda: NOW).accept(
        env.to_bytes()
    )
    assert isinstance(result, Rejected) and result.kind == "payload", result
    assert f"payload.{key}" in result.reason and "\n" not in result.reason, result.reason
