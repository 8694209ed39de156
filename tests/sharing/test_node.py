"""The partner node: bad messages never stop it, acknowledged means stored, clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from vigil.errors import ConfigError, ServiceError
from vigil.records import ObservationBatch
from vigil.sharing.audit import AuditLog, JsonlAuditSink, MemoryAuditSink, verify
from vigil.sharing.bus import share_subject
from vigil.sharing.bus_memory import MemoryBus
from vigil.sharing.conversions import observations_from_records
from vigil.sharing.envelope import canonical_bytes
from vigil.sharing.keys import write_key_files
from vigil.sharing.node import Node
from vigil.sharing.node_config import load_node_config
from vigil.sharing.releaser import Releaser
from vigil.sharing.store import Store
from vigil.sharing.store_sqlite import SqliteStore
from vigil.sim import write_observations

from .conftest import BusFactory
from .policykit import EAST, NORTH, T0, agreement, observation, registry, track

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = agreement(types=["observation", "track", "warning"])  # north->east, global, 1 km, no delay
EPOCH = dt.datetime.fromtimestamp(T0 - 100.0, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
WAIT_S = 30.0


def release(kind: str, record: dict[str, Any]) -> Any:
    out = Releaser(AGREEMENT, "north", NORTH).release(kind, record, T0)
    assert isinstance(out, list), out
    return out[0]


def east_node(bus: Any, store: Store, audit: AuditLog | None, root: str = "vigil.share") -> Node:
    node = Node("east", EAST, registry(), [AGREEMENT], bus, store, EPOCH, audit, subject_root=root)
    node.advance(T0 + 1.0)
    return node


def bad_messages(valid: Any) -> dict[str, bytes]:
    """Several kinds of bad bytes, each failing a different check of the receiver."""
    env = valid.model_dump()
    forged = dict(env, payload=dict(env["payload"], track_id="T2"))  # payload changed, signature kept
    return {
        "json": b'{"v": 1, "msg_id": ',
        "encoding": b"\xff\xfe\x00garbage",
        "not_object": b"[1, 2, 3]",
        "missing_signature": canonical_bytes({k: v for k, v in env.items() if k != "sig"}),
        "bad_signature": canonical_bytes(forged),
        "duplicate_key": b'{"v": 1, "v": 1}',
        "non_finite": b'{"v": NaN}',
        "schema": canonical_bytes(dict(env, v=2)),
    }


def test_node_keeps_running_through_bad_messages_and_stores_the_valid_ones(
    bus_factory: BusFactory, store: Store, subject_root: str
) -> None:
    async def run() -> tuple[Node, list[dict]]:
        bus = await bus_factory.open()
        sink = MemoryAuditSink()
        node = east_node(bus, store, AuditLog(sink, EAST), subject_root)
        await node.start()
        subject = share_subject("north", "east", "track", subject_root)
        first, last, obs = (
            release("track", track()),
            release("track", track(lat=46.0)),
            release("observation", observation()),
        )
        await bus.publish(subject, first.to_bytes(), first.msg_id)
        for i, raw in enumerate(bad_messages(first).values()):
            await bus.publish(subject, raw, f"bad-{i}")
        await bus.publish(subject, first.to_bytes(), "replayed-copy")  # same envelope again: a replay
        misrouted = share_subject("third", "east", "track", subject_root)
        await bus.publish(
            misrouted, last.to_bytes(), "misrouted"
        )  # valid envelope on another sender's subject
        await bus.publish(subject, last.to_bytes(), last.msg_id)
        await bus.publish(
            share_subject("north", "east", "observation", subject_root), obs.to_bytes(), obs.msg_id
        )
        await node.receive(expected=13)
        node.step()  # the received detection reaches the shared fusion engine
        await node.close()
        if bus_factory.kind == "nats":
            await bus.close()
        return node, sink.entries, [first.msg_id, last.msg_id, obs.msg_id]

    node, entries, valid_ids = asyncio.run(run())
    assert sorted(r.message_id for r in store.iter_records()) == sorted(valid_ids)
    rejected = [e["detail"]["kind"] for e in entries if e["kind"] == "rejection"]
    assert sorted(rejected) == sorted([*bad_messages(release("track", track())), "replay", "subject"])
    assert (
        sum(e["kind"] == "receipt" for e in entries) == 4
    )  # 3 valid + the misrouted one before its subject check
    assert node.counts.received == 3 and node.counts.fused_received == 1
    assert node.counts.ingest.fetched == 13 and node.counts.ingest.stored == 3


class FailingOnce(SqliteStore):
    """A store whose first commit fails, as when the database goes away mid-batch."""

    failed = False

    def put_many(self, records: Any) -> int:
        if not self.failed:
            self.failed = True
            raise ServiceError("store: database unavailable")
        return super().put_many(records)


def test_a_failed_store_commit_leaves_the_message_unacked_and_accepted_on_redelivery(tmp_path: Path) -> None:
    now = [0.0]
    bus = MemoryBus(ack_wait_s=5.0, clock=lambda: now[0])
    store = FailingOnce(tmp_path / "east.db")

    async def run() -> Node:
        node = east_node(bus, store, None)
        await node.start()
        env = release("track", track())
        await bus.publish(share_subject("north", "east", "track"), env.to_bytes(), env.msg_id)
        with pytest.raises(ServiceError):
            await node.receive_batch(0.1)
        now[0] = 6.0  # past ack_wait: the bus delivers the unacknowledged message again
        assert await node.receive_batch(0.1) == 1
        return node

    node = asyncio.run(run())
    assert store.count() == 1 and node.counts.received == 1 and node.counts.rejected == {}
    store.close()


def test_received_detections_get_local_ids_and_clashing_sensor_names_are_prefixed() -> None:
    recs = [("north", observation(obs_id=5, time=T0)), ("north", observation(obs_id=5, time=T0 + 1.0))]
    batch = observations_from_records(recs, EPOCH, 1000, frozenset({"north-1"}))
    assert batch.obs_id.tolist() == [1000, 1001]
    assert batch.sensor_id.tolist() == ["north/north-1"] * 2
    assert batch.time_s.tolist() == pytest.approx([100.0, 101.0], abs=1e-6)  # epoch is T0 - 100 s


def test_example_node_configs_validate_and_resolve_paths_next_to_the_file() -> None:
    for name in ("north", "east"):
        path = ROOT / "examples" / "nodes" / f"{name}.yaml"
        cfg = load_node_config(path)
        assert cfg.node == name
        assert cfg.key == str(path.parent / "keys" / f"{name}.key")
        assert cfg.db == f"sqlite://{path.parent / 'out' / f'{name}.db'}"
        assert all(Path(a).exists() for a in cfg.agreements)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "red"}, "colour: unknown key"),
        ({"node": "North!"}, "node: String should match pattern"),
        ({"bus": {"url": "http://x"}}, "bus.url"),
        ({"agreements": []}, "agreements"),
    ],
)
def test_bad_node_config_is_one_line_naming_the_key(tmp_path: Path, change: dict, message: str) -> None:
    data = {"node": "east", "key": "k", "partner_keys": ".", "agreements": ["a.yaml"], "audit_log": "a.jsonl"}
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(data | change))
    with pytest.raises(ConfigError) as err:
        load_node_config(path)
    assert message in str(err.value) and str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def _own_observations(path: Path) -> Path:
    """Three detections by north at 0, 1, 2 s from the (replayed) epoch, as vigil simulate writes them."""
    recs = [observation(obs_id=i, time=float(i), frame_id=i) for i in range(3)]
    batch = observations_from_records([("north", r) for r in recs], "2026-03-01T12:00:00Z", 0)
    batch.time_s = np.array([0.0, 1.0, 2.0])
    return write_observations(ObservationBatch.concatenate(batch.epoch, [batch]), path)


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        proc.kill()
        raise AssertionError(f"no output within {timeout} s; stderr: {proc.stderr.read()}")
    return proc.stdout.readline()


def _wait_for(condition: Any, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.05)  # polling interval of the condition, not a wait for an event


def test_vigil_node_runs_until_sigterm_and_stops_cleanly(tmp_path: Path) -> None:
    write_key_files(NORTH, tmp_path / "keys")
    write_key_files(EAST, tmp_path / "keys")
    (tmp_path / "agreement.yaml").write_text(agreement(types=["observation", "warning"]).to_yaml())
    cfg = {
        "node": "north",
        "key": "keys/north.key",
        "partner_keys": "keys",
        "agreements": ["agreement.yaml"],
        "bus": {"url": "memory://"},
        "db": "sqlite:///north.db",
        "audit_log": "north-audit.jsonl",
        "observations": {"path": str(_own_observations(tmp_path / "obs.parquet")), "replay_epoch": "start"},
    }
    (tmp_path / "north.yaml").write_text(yaml.safe_dump(cfg))
    audit = tmp_path / "north-audit.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli", "node", "--config", str(tmp_path / "north.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT / "src")},
    )
    try:
        assert _read_line(proc, WAIT_S).startswith("ready: node north")
        _wait_for(lambda: audit.exists() and audit.read_text().count('"kind":"release"') >= 3, WAIT_S)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    counts = json.loads(out.strip().splitlines()[-1])
    assert counts["node"] == "north" and counts["released"] >= 3 and counts["published"] >= 3
    result = verify(audit, NORTH.public_key)
    assert result.ok and result.head == counts["audit_head"]
    with SqliteStore(tmp_path / "north.db") as store:  # created, migrated and closed cleanly
        assert store.schema_version() >= 1


def test_vigil_node_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("node: east\nkey: k\npartner_keys: .\nagreements: [a.yaml]\naudit_log: a.jsonl\nfoo: 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "node", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT / "src")},
        timeout=WAIT_S,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "foo: unknown key" in proc.stderr


def test_audit_is_jsonl_signed_by_the_node(tmp_path: Path) -> None:
    sink = JsonlAuditSink(tmp_path / "a.jsonl")

    async def run() -> None:
        node = east_node(MemoryBus(), SqliteStore(":memory:"), AuditLog(sink, EAST))
        await node.start()
        await node.bus.publish(share_subject("north", "east", "track"), b"junk", "x")
        await node.receive(expected=1)

    asyncio.run(run())
    assert verify(tmp_path / "a.jsonl", EAST.public_key).count == 1


def test_replay_skip_s_starts_the_recording_that_far_in(tmp_path: Path) -> None:
    from vigil.sharing.node_config import _replay

    n = 10
    batch = ObservationBatch(
        "2026-03-01T12:00:00Z",
        np.arange(n),
        np.array(["north-1"] * n, dtype=object),
        np.array(["north"] * n, dtype=object),
        np.arange(n) * 100.0,
        np.tile([4.2e7, 0.0, 0.0], (n, 1)),
        np.tile([-1.0, 0.0, 0.0], (n, 1)),
        np.full(n, 2e-5),
        np.full(n, 10.0),
        np.full(n, 1e6),
        np.arange(n),
    )
    obs = write_observations(batch, tmp_path / "obs.parquet")
    data = {
        "node": "north",
        "key": "k",
        "partner_keys": ".",
        "agreements": ["a.yaml"],
        "audit_log": "a.jsonl",
        "observations": {"path": str(obs), "skip_s": 450.0},
    }
    (tmp_path / "node.yaml").write_text(yaml.safe_dump(data))
    cfg = load_node_config(tmp_path / "node.yaml")
    start_s = 1_800_000_000.0
    epoch, own = _replay(cfg, start_s)
    assert own is not None and own.time_s.tolist() == [500.0, 600.0, 700.0, 800.0, 900.0]  # 0…400 s skipped
    assert dt.datetime.fromisoformat(epoch.replace("Z", "+00:00")).timestamp() == pytest.approx(
        start_s - 450.0
    )
