"""Acknowledged means stored, nothing is stored twice: under kills and server restarts.

The slow tests stream 10,000 messages through NATS JetStream into PostgreSQL while the receiving node
process (``python -m vigil.sharing.ingest_worker``) is SIGKILLed and restarted, and nats-server or
PostgreSQL is restarted once; the node reconnects by itself. At the end every message id is stored exactly
once and the consumer holds nothing unacknowledged.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vigil.sharing.bus import share_subject
from vigil.sharing.bus_memory import MemoryBus
from vigil.sharing.bus_nats import NatsBus
from vigil.sharing.ingest import IngestStats, ingest_batch, subject_record
from vigil.sharing.local_services import LocalNats, LocalPostgres
from vigil.sharing.store import Store, StoredRecord
from vigil.sharing.store_postgres import PostgresStore
from vigil.sharing.store_sqlite import SqliteStore

N_MESSAGES = 10_000
WORKER_ACK_WAIT_S = 2.0  # short, so what a killed worker held comes back quickly
FINISH_TIMEOUT_S = 60.0
PUBLISH_RATE_HZ = 2_000.0  # messages per second offered by the publisher (about 5 s for all)
PACE_CHUNK = 100


async def _wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not await asyncio.to_thread(cond):
        assert time.monotonic() < end, f"timed out after {timeout:g} s waiting for {what}"
        await asyncio.sleep(0.05)  # poll interval of the condition


class _CrashAfterCommit(SqliteStore):
    """Commits, then dies before the caller can ack: the window "acked means stored" must survive."""

    crashes_left = 1

    def put_many(self, records: list[StoredRecord]) -> int:  # type: ignore[override]
        new = super().put_many(records)
        if self.crashes_left:
            self.crashes_left -= 1
            raise RuntimeError("simulated crash between commit and ack")
        return new


def test_crash_between_commit_and_ack_redelivers_and_stores_once(tmp_path: Path) -> None:
    async def run() -> tuple[Store, IngestStats]:
        bus = MemoryBus(ack_wait_s=0.2)
        for i in range(50):
            await bus.publish(share_subject("A", "B", "track"), json.dumps({"i": i}).encode(), f"m{i}")
        store = _CrashAfterCommit(tmp_path / "node.db")
        sub = await bus.subscribe("node-b", "vigil.share.*.B.>")
        stats = IngestStats()
        with pytest.raises(RuntimeError, match="simulated crash"):
            await ingest_batch(sub, store, subject_record, stats, batch=20)
        resumed = await bus.subscribe("node-b", "vigil.share.*.B.>")  # the restarted node
        end = time.monotonic() + 10.0
        while (
            stats.fetched < 50 and time.monotonic() < end
        ):  # 20 redelivered + 30 new (crashed round uncounted)
            await ingest_batch(resumed, store, subject_record, stats, batch=20, timeout=2.0)
        return store, stats

    store, stats = asyncio.run(run())
    assert store.count() == 50
    assert stats.stored == 30 and stats.duplicates == 20  # the 20 committed before the crash came back once
    assert {r.message_id for r in store.iter_records()} == {f"m{i}" for i in range(50)}


class _Node:
    """The receiving node process; ``kill()`` is SIGKILL, ``stop()`` SIGTERM."""

    def __init__(self, log: Path, args: list[str]) -> None:
        self.log = log
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - the child owns it
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vigil.sharing.ingest_worker", *self.args], stdout=out, stderr=out, env=env
        )
        out.close()

    def kill(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-2000:]
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        assert self.proc.wait(timeout=20) == 0, self.log.read_text()[-2000:]


async def _stream_through_crashes(
    nats_url: str, dsn: str, uid: str, tmp_path: Path, kills: int, restart_service: Callable[[], None]
) -> None:
    """Publish N_MESSAGES while killing the node ``kills`` times, then restart a service once."""
    root, stream, schema = f"t{uid}.vigil.share", f"T_{uid}", f"t_{uid}"
    bus = await NatsBus.connect(nats_url, stream=stream, subject_root=root)
    watcher = await asyncio.to_thread(PostgresStore, dsn, schema)  # creates the schema before the node
    node = _Node(
        tmp_path / "node.log",
        [
            "--nats",
            nats_url,
            "--db",
            dsn,
            "--schema",
            schema,
            "--stream",
            stream,
            "--durable",
            "node-b",
            "--filter",
            f"{root}.*.B.>",
            "--ack-wait-s",
            str(WORKER_ACK_WAIT_S),
            "--batch",
            "100",
        ],
    )
    subject = share_subject("A", "B", "observation", root)

    async def publish_all() -> None:  # paced, so kills and the restart fall while messages still arrive
        t0 = time.monotonic()
        for i in range(N_MESSAGES):
            if i % PACE_CHUNK == 0:
                await asyncio.sleep(max(0.0, t0 + i / PUBLISH_RATE_HZ - time.monotonic()))
            await bus.publish(subject, json.dumps({"i": i, "created_at": 1.7e9 + i}).encode(), f"m{i:05d}")

    publisher = asyncio.create_task(publish_all())
    step = N_MESSAGES // (kills + 3)
    for k in range(kills):
        node.start()
        await _wait_for(lambda k=k: watcher.count() >= (k + 1) * step, FINISH_TIMEOUT_S, f"progress {k}")
        node.kill()
    node.start()
    await _wait_for(
        lambda: watcher.count() >= (kills + 1) * step, FINISH_TIMEOUT_S, "progress before restart"
    )
    await asyncio.to_thread(restart_service)
    await publisher
    await _wait_for(lambda: watcher.count() >= N_MESSAGES, FINISH_TIMEOUT_S, "all messages stored")
    node.stop()

    ids = [r.message_id for r in await asyncio.to_thread(lambda: list(watcher.iter_records()))]
    assert len(ids) == len(set(ids)) == N_MESSAGES
    assert set(ids) == {f"m{i:05d}" for i in range(N_MESSAGES)}
    info = await bus._js.consumer_info(stream, "node-b")
    assert (info.num_pending, info.num_ack_pending) == (0, 0)  # everything delivered was acked
    await bus.delete_stream()
    await bus.close()
    watcher.drop_schema()
    watcher.close()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_node_kills_and_nats_restart_store_each_message_once(tmp_path: Path, pg_dsn: str, uid: str) -> None:
    nats = LocalNats(tmp_path / "nats").start()  # private: the shared server is never restarted
    try:
        asyncio.run(
            _stream_through_crashes(nats.url, pg_dsn, uid, tmp_path, kills=5, restart_service=nats.restart)
        )
    finally:
        nats.stop()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_node_kills_and_postgres_restart_store_each_message_once(
    tmp_path: Path, nats_url: str, uid: str
) -> None:
    pg = LocalPostgres().start()  # private: the shared server is never restarted
    try:
        asyncio.run(
            _stream_through_crashes(nats_url, pg.dsn, uid, tmp_path, kills=2, restart_service=pg.restart)
        )
    finally:
        pg.destroy()
