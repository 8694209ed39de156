"""``kill -9`` of a live ``vigil node`` during ingest, then restart: nothing lost, nothing twice, the audit
chain verifies, and the node warns exactly as one that was never killed.

Two real ``vigil node`` processes (east) run side by side on NATS JetStream, each on its own stream and
subject root, with its own store (SQLite or PostgreSQL) and audit log: one is left alone (the
uninterrupted run), the other is SIGKILLed at random instants and restarted at once. The test is the
partner north: it replays the last minute of the two-launch cut scenario in wall-clock time (the SRBM SR1,
seen by north-1, north-2, east-2 and east-4), releasing its detections under the agreement and, to keep
the ingest busy, signed track records at 40 Hz, to both nodes. Each node fuses its own east detections
(replayed from its file) with north's. Truth for "nothing lost": the message ids the partner published.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from testkit.cutscenario import cut_scenario

from vigil.cli import main
from vigil.frames import geodetic_to_ecef
from vigil.fusion import FusionEngine
from vigil.sharing.agreement import load_agreement
from vigil.sharing.audit import read_jsonl
from vigil.sharing.bus import share_subject
from vigil.sharing.bus_nats import NatsBus
from vigil.sharing.keys import Signer, write_key_files
from vigil.sharing.node import observation_records
from vigil.sharing.releaser import Releaser
from vigil.sharing.store import Store
from vigil.sharing.store_postgres import PostgresStore
from vigil.sharing.store_sqlite import SqliteStore
from vigil.sim import load_scenario, simulate, write_observations

FROM_S, TO_S = 745.0, 800.0  # the recording's window replayed: SR1 is seen from 755.8 s
LEAD_S = 12.0  # wall seconds from the nodes' start to the window's first instant (their start-up)
TRACK_HZ = 40.0  # signed track records per second besides the detections: the ingest is never idle
KILLS = 3
ACK_WAIT_S = 2.0  # what a killed node held unacknowledged comes back after this
DRAIN_TIMEOUT_S = 90.0
READY_TIMEOUT_S = 120.0  # a node's start-up (imports, store, stream) on a loaded 2-core machine
IGNORED = ("version", "issued_at")  # a restarted node numbers the versions it issues anew


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("kill") / "cut.yaml"
    path.write_text(cut_scenario("two-partner-cut"))
    result = simulate(load_scenario(path), np.random.default_rng(7))
    FusionEngine().run(result.observations)  # compile (and cache) the kernels before any node starts
    return result


class NodeProcess:
    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log, self.proc = config, log, None
        self.starts = 0

    def start(self) -> None:
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        out = open(self.log, "ab")  # noqa: SIM115 - the child owns it
        code = "import sys; from vigil.cli import main; sys.exit(main())"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "node", "--config", str(self.config)],
            stdout=out,
            stderr=out,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        out.close()
        self.starts += 1

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until the process started last prints 'ready' (it restored its store and subscribed): a kill
        before that would test the start-up, not the ingest, and on a loaded machine start-up takes long."""
        end = time.monotonic() + timeout_s
        while b"ready: node" not in self.log.read_bytes()[self._log_start :]:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < end, f"not ready after {timeout_s:g} s: {self.log.read_text()[-3000:]}"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
        self.proc.terminate()
        assert self.proc.wait(timeout=60) == 0, self.log.read_text()[-3000:]
        return json.loads(self.log.read_text().strip().splitlines()[-1])


def _write_world(tmp: Path, sim: Any) -> tuple[Signer, Path, Path]:
    """Keys, the agreement (north->east: observations and tracks) and east's own recording."""
    north, east = Signer.generate("north"), Signer.generate("east")
    keys = tmp / "keys"
    write_key_files(north, keys)
    write_key_files(east, keys)
    agreement = tmp / "north-east.yaml"
    agreement.write_text(
        yaml.safe_dump(
            {
                "name": "kill-test",
                "parties": ["north", "east"],
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_until": "2036-01-01T00:00:00Z",
                "directions": {
                    "north->east": {
                        "types": ["observation", "track"],
                        "region": "global",
                        "precision_m": 100.0,
                        "delay_s": 0.0,
                    }
                },
            }
        )
    )
    obs = sim.observations
    window = (obs.time_s >= FROM_S) & (obs.time_s < TO_S)
    own = tmp / "east-observations.parquet"
    write_observations(obs.take(window & (obs.partner_id.astype(str) == "east")), own)
    return north, agreement, own


def _node_config(
    tmp: Path,
    name: str,
    nats_url: str,
    root: str,
    stream: str,
    db: str,
    schema: str,
    agreement: Path,
    own: Path,
    epoch: str,
) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "node": "east",
                "key": str(tmp / "keys" / "east.key"),
                "partner_keys": str(tmp / "keys"),
                "agreements": [str(agreement)],
                "db": db,
                "db_schema": schema,
                "bus": {"url": nats_url, "stream": stream, "subject_root": root, "ack_wait_s": ACK_WAIT_S},
                "audit_log": str(tmp / f"{name}-audit.jsonl"),
                "warnings_out": str(tmp / f"{name}-warnings.jsonl"),
                "observations": {"path": str(own), "replay_epoch": epoch},
            }
        )
    )
    return path


def _tracks(n0: int, n: int, now: float) -> list[dict[str, Any]]:
    pos = geodetic_to_ecef(np.radians(34.0), np.radians(36.0), 80e3)
    return [
        {
            "track_id": f"T{(n0 + i) % 7}",
            "time": now - 0.5,
            "pos_ecef_m": (pos + 10.0 * (n0 + i)).tolist(),
            "vel_ecef_m_s": [100.0, 200.0, 300.0],
            "cov": np.diag([1e4] * 3 + [25.0] * 3).tolist(),
            "phase": "boost",
            "sensor_ids": ["north-1"],
            "partner_ids": ["north"],
        }
        for i in range(n)
    ]


async def _partner(
    sim: Any, north: Signer, agreement: Path, buses: list[NatsBus], roots: list[str], epoch_s: float
) -> set[str]:
    """North, live: each detection released when its time comes, tracks in between; returns the ids."""
    releaser = Releaser(load_agreement(agreement), "north", north)
    obs = sim.observations
    mine = obs.take((obs.time_s >= FROM_S) & (obs.time_s < TO_S) & (obs.partner_id.astype(str) == "north"))
    mine = mine.sorted_by_time()
    records = observation_records(mine, epoch_s)
    ids: set[str] = set()
    sent, tracks, tick = 0, 0, 0.1
    while sent < len(records):
        await asyncio.sleep(tick)
        now = time.time()
        due = [r for r in records[sent:] if r["time"] <= now]
        n_tracks = int((now - epoch_s - FROM_S) * TRACK_HZ) - tracks
        batch = [("observation", due, releaser.release_many("observation", due, now)[0] if due else [])]
        if n_tracks > 0:
            batch.append(
                ("track", [], releaser.release_many("track", _tracks(tracks, n_tracks, now), now)[0])
            )
            tracks += n_tracks
        sent += len(due)
        for kind, _, envelopes in batch:
            for env in envelopes:
                ids.add(env.msg_id)
                for bus, root in zip(buses, roots, strict=True):
                    await bus.publish(share_subject("north", "east", kind, root), env.to_bytes(), env.msg_id)
    return ids


def _final(warnings_file: Path) -> dict[str, dict[str, Any]]:
    """The last version each event reached, without version number and issue time (nor what depends on it)."""
    last: dict[str, dict[str, Any]] = {}
    for line in warnings_file.read_text(encoding="utf-8").splitlines():
        w = json.loads(line)
        last[w["event_id"]] = {k: v for k, v in w.items() if k not in IGNORED}
        # the class reason says how long the event had been dark when the version was issued: issue time too
        last[w["event_id"]]["class_reason"] = re.sub(r"dark \d+ s", "dark … s", w["class_reason"])
    return last


def _audit_receipts(log: Path) -> list[str]:
    entries = [e for _, e in read_jsonl(log)]
    assert all(isinstance(e, dict) for e in entries), [e for e in entries if not isinstance(e, dict)][:3]
    bad = [e["detail"] for e in entries if isinstance(e, dict) and e["kind"] == "rejection"]
    assert bad == [], bad[:5]  # every message was valid: no replay or other rejection after the restarts
    return [e["detail"]["msg_id"] for e in entries if isinstance(e, dict) and e["kind"] == "receipt"]


async def _ingesting(node: NodeProcess, store: Store, partner: asyncio.Task) -> None:
    """Until ``node`` is ready and has committed records since (or holds every record the partner sent): on
    a loaded machine a node's start-up can outlast the gap between two kills, or even the partner's whole
    window, and a node killed as it becomes ready, every time, never ingests (seen: 3 kills, 0 records
    restored, 0 redelivered)."""
    await asyncio.to_thread(node.wait_ready)
    before = await asyncio.to_thread(store.count)
    end = time.monotonic() + READY_TIMEOUT_S
    while True:
        count = await asyncio.to_thread(store.count)
        if count > before or (partner.done() and count >= len(partner.result())):
            return
        assert time.monotonic() < end, (
            f"no record committed in {READY_TIMEOUT_S:g} s: {node.log.read_text()[-3000:]}"
        )
        await asyncio.sleep(0.2)


async def _drain(stores: list[Store], ids: set[str]) -> None:
    end = time.monotonic() + DRAIN_TIMEOUT_S
    while True:
        counts = [await asyncio.to_thread(s.count) for s in stores]
        if min(counts) >= len(ids):
            return
        assert time.monotonic() < end, (counts, len(ids))
        await asyncio.sleep(0.5)


async def _scenario(
    tmp: Path, sim: Any, nats_url: str, db: str, uid: str, seed: int, open_store: Any
) -> None:
    north, agreement, own = _write_world(tmp, sim)
    epoch_s = time.time() + LEAD_S - FROM_S  # the recording's FROM_S is LEAD_S from now
    epoch = dt.datetime.fromtimestamp(epoch_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    runs = {
        name: (f"t{uid}{name}.vigil.share", f"T_{uid}_{name}", f"t_{uid}_{name}")
        for name in ("clean", "killed")
    }
    buses = [
        await NatsBus.connect(nats_url, stream=stream, subject_root=root) for root, stream, _ in runs.values()
    ]
    stores = [open_store(tmp, name, schema) for name, (_, _, schema) in runs.items()]  # tables before nodes
    nodes = {
        name: NodeProcess(
            _node_config(
                tmp, name, nats_url, root, stream, db or f"sqlite:///{name}.db", schema, agreement, own, epoch
            ),
            tmp / f"{name}.log",
        )
        for name, (root, stream, schema) in runs.items()
    }
    for node in nodes.values():
        node.start()
    rng = np.random.default_rng(seed)
    kill_at = sorted(
        rng.uniform(LEAD_S - 6.0, LEAD_S + (TO_S - FROM_S) - 5.0, KILLS)
    )  # during ingest (_ingesting)
    t0 = time.time()
    partner = asyncio.create_task(
        _partner(sim, north, agreement, buses, [r for r, _, _ in runs.values()], epoch_s)
    )
    for at in kill_at:
        await asyncio.sleep(max(0.0, t0 + at - time.time()))
        await _ingesting(nodes["killed"], stores[1], partner)  # each kill hits a node that is ingesting
        nodes["killed"].kill()
        nodes["killed"].start()
    ids = await partner
    await _drain(stores, ids)
    await asyncio.sleep(ACK_WAIT_S + 3.0)  # redeliveries come back; the nodes fuse their last chunks
    counts = {name: node.stop() for name, node in nodes.items()}
    for (_, stream, _), bus, store, name in zip(runs.values(), buses, stores, runs, strict=True):
        stored = [r.message_id for r in store.iter_records()]
        assert len(stored) == len(set(stored)) == len(ids) and set(stored) == ids, (
            name
        )  # nothing lost or twice
        info = await bus._js.consumer_info(stream, "node-east")
        assert (info.num_pending, info.num_ack_pending) == (0, 0), name  # everything delivered was acked
        print(f"kill test {name}: {info.num_redelivered} messages delivered again")
        log = tmp / f"{name}-audit.jsonl"
        receipts = _audit_receipts(log)
        assert sorted(receipts) == sorted(ids), name  # one receipt per message, none twice
        assert main(["audit", "verify", str(log), "--key", str(tmp / "keys" / "east.pub")]) == 0, name
        await bus.delete_stream()
        await bus.close()
    clean, killed = _final(tmp / "clean-warnings.jsonl"), _final(tmp / "killed-warnings.jsonl")
    sr1 = [
        w
        for w in clean.values()
        if abs(w["launch_lat_deg"] - 34.0) < 1.0 and abs(w["launch_lon_deg"] - 36.0) < 1.0
    ]
    assert sr1, clean  # the uninterrupted node warns of SR1 (truth: launched at 34.0 N 36.0 E)
    print(
        f"kill test: {len(ids)} messages, kills at {[round(a - LEAD_S, 1) for a in kill_at]} s into the "
        f"window, restored {counts['killed']['restored']}, redelivered {counts['killed']['rejected']}, "
        f"events {sorted(clean)}"
    )
    assert killed == clean
    assert nodes["killed"].starts == KILLS + 1 and counts["killed"]["restored"] > 0, counts["killed"]
    for store in stores:
        if isinstance(store, PostgresStore):
            store.drop_schema()
        store.close()


def _sqlite(tmp: Path, name: str, schema: str) -> Store:
    return SqliteStore(tmp / f"{name}.db")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kill_9_during_ingest_then_restart_loses_nothing_duplicates_nothing_and_warns_the_same_sqlite(
    sim: Any, tmp_path: Path, nats_url: str, uid: str
) -> None:
    asyncio.run(_scenario(tmp_path, sim, nats_url, "", uid, 16, _sqlite))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kill_9_during_ingest_then_restart_loses_nothing_duplicates_nothing_and_warns_the_same_postgres(
    sim: Any, tmp_path: Path, nats_url: str, pg_dsn: str, uid: str
) -> None:
    asyncio.run(
        _scenario(
            tmp_path,
            sim,
            nats_url,
            pg_dsn,
            uid,
            17,
            lambda tmp, name, schema: PostgresStore(pg_dsn, schema=schema),
        )
    )


# --- the same windows, deterministic: a node that dies before its commit, or between commit and ack ---------
class _DiesAtCommit(SqliteStore):
    """``when`` = "before": the process dies before the transaction commits; "after": once it committed."""

    def __init__(self, path: Path, when: str) -> None:
        super().__init__(path)
        self.when = when

    def put_many(self, records: Any) -> int:
        if self.when == "before":
            raise RuntimeError("killed before the commit")
        super().put_many(records)
        raise RuntimeError("killed after the commit, before the ack")


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_node_killed_around_its_commit_stores_and_audits_each_message_once(
    tmp_path: Path, when: str
) -> None:
    from vigil.sharing.audit import AuditLog, MemoryAuditSink, verify_entries
    from vigil.sharing.bus_memory import MemoryBus
    from vigil.sharing.node import Node

    from .policykit import EAST, registry
    from .test_hostile_records import AGREEMENT, EPOCH, NOW, _good, _good_envelopes, signed

    good = _good_envelopes()
    bad = signed("observation", _good("observation") | {"los_sigma_rad": 0.0})
    sink, db = MemoryAuditSink(), tmp_path / "east.db"

    def node(store: Store) -> Node:  # a (re)started process: the audit chain and the store persist
        n = Node(
            "east", EAST, registry(), [AGREEMENT], bus, store, EPOCH, AuditLog(sink, EAST, clock=lambda: NOW)
        )
        n.advance(NOW)
        return n

    async def run() -> Node:
        for env in [*good, bad]:
            await bus.publish(share_subject("north", "east", env.record_type), env.to_bytes(), env.msg_id)
        first = node(_DiesAtCommit(db, when))
        await first.start()
        with pytest.raises(RuntimeError, match="killed"):
            await first.receive_batch()
        restarted = node(SqliteStore(db))
        restarted.restore(restarted.store.iter_records())
        await restarted.start()
        await asyncio.sleep(0.3)  # past ack_wait: the bus delivers the unacknowledged batch again
        await restarted.receive(expected=len(good) + 1)
        replay = good[0]  # the same signed bytes published again (a new bus message): a real replay
        await bus.publish(share_subject("north", "east", replay.record_type), replay.to_bytes(), "again")
        await restarted.receive(expected=len(good) + 2)
        return restarted

    bus = MemoryBus(ack_wait_s=0.2)
    restarted = asyncio.run(run())
    receipts = [e["detail"]["msg_id"] for e in sink.entries if e["kind"] == "receipt"]
    rejections = [
        (e["detail"]["kind"], e["detail"]["msg_id"]) for e in sink.entries if e["kind"] == "rejection"
    ]
    assert sorted(receipts) == sorted(env.msg_id for env in good)  # each once, though judged twice
    assert rejections == [("payload", bad.msg_id), ("replay", good[0].msg_id)]  # the bad one once; the replay
    assert restarted.store.count() == len(good) and verify_entries(sink.entries, EAST.public_key).ok
    assert restarted.counts.rejected.get("redelivered", 0) == (len(good) if when == "after" else 0)
    assert restarted.counts.restored == (len(good) if when == "after" else 0)
    assert restarted.counts.received == (0 if when == "after" else len(good))


def test_a_torn_last_line_is_moved_aside_and_the_node_starts_on_the_whole_chain(tmp_path: Path) -> None:
    from vigil.sharing.audit import AuditLog, JsonlAuditSink, verify
    from vigil.sharing.node_config import NodeConfig, open_audit

    east = Signer.generate("east")
    log = tmp_path / "audit.jsonl"
    audit = AuditLog(JsonlAuditSink(log), east)
    for i in range(3):
        audit.append("receipt", {"msg_id": f"m{i}", "raw_sha256": f"{i:064x}"})
    whole = log.read_bytes()
    torn = b'{"detail":{"msg_id":"m3"'  # the kill came in the middle of the fourth line's write
    log.write_bytes(whole + torn)
    assert not verify(log, east.public_key).ok  # as found after the kill: the chain does not read
    cfg = NodeConfig.model_construct(audit_log=str(log))
    reopened = open_audit(cfg, east)
    assert log.read_bytes() == whole and (tmp_path / "audit.jsonl.torn").read_bytes() == torn + b"\n"
    reopened.append("receipt", {"msg_id": "m3", "raw_sha256": "3" * 64})
    result = verify(log, east.public_key)
    assert result.ok and result.count == 4
