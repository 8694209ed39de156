"""Sharing pipeline throughput and latency: publish → fetch → [process] → store commit → ack.

Runs on NATS JetStream + PostgreSQL (the machine's services on 4222/5432 if up, else private ones) and on
MemoryBus + SQLite, next to raw nats-py JetStream publish throughput measured in the same run. Prints the
median of REPEATS runs. ``process`` is the hook where signing/verification and policy go (identity here).

    .venv/bin/python bench/bench_sharing.py [--messages 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import nats
import psycopg

from vigil.sharing.bus import Bus, Message, Subscription, share_subject
from vigil.sharing.bus_memory import MemoryBus
from vigil.sharing.bus_nats import NatsBus
from vigil.sharing.ingest import FETCH_BATCH, Handler, IngestStats, ingest_batch, subject_record
from vigil.sharing.local_services import LocalNats, LocalPostgres, port_open
from vigil.sharing.store import Store, StoredRecord
from vigil.sharing.store_postgres import PostgresStore
from vigil.sharing.store_sqlite import SqliteStore

Process = Callable[[bytes], bytes | None]
PUBLISH_CONCURRENCY = 256  # publishes in flight at once (each awaits its JetStream ack)
PACED_RATE_HZ = 1_000.0  # offered load of the latency test
PACED_SECONDS = 3.0


def identity(data: bytes) -> bytes | None:
    return data


def _handler(process: Process) -> Handler:
    def handle(message: Message) -> StoredRecord | None:
        out = process(message.data)
        if out is None:
            return None
        rec = subject_record(message)
        return StoredRecord(
            rec.message_id, rec.sender, rec.recipient, rec.record_type, rec.created_at, out.decode()
        )

    return handle


async def _publish(bus: Bus, subject: str, n: int, tag: str) -> None:
    for start in range(0, n, PUBLISH_CONCURRENCY):
        await asyncio.gather(
            *(
                bus.publish(subject, json.dumps({"i": i, "t": time.perf_counter()}).encode(), f"{tag}-{i}")
                for i in range(start, min(n, start + PUBLISH_CONCURRENCY))
            )
        )


async def _ingest_until(sub: Subscription, store: Store, handle: Handler, n: int) -> None:
    stats = IngestStats()
    while stats.fetched < n:  # the node's own loop body: fetch → handle → commit → ack
        await ingest_batch(sub, store, handle, stats, FETCH_BATCH, 1.0)


async def end_to_end(bus: Bus, store: Store, root: str, n: int, process: Process) -> float:
    """Messages per second from first publish to last ack, publisher and node running concurrently."""
    tag = uuid.uuid4().hex[:8]
    sub = await bus.subscribe(f"bench-{tag}", f"{root}.*.B.>")
    t0 = time.perf_counter()
    await asyncio.gather(
        _publish(bus, share_subject("A", "B", "observation", root), n, tag),
        _ingest_until(sub, store, _handler(process), n),
    )
    return n / (time.perf_counter() - t0)


async def paced_p99_ms(bus: Bus, store: Store, root: str, process: Process) -> float:
    """p99 publish→ack latency (ms) at PACED_RATE_HZ offered load."""
    tag = uuid.uuid4().hex[:8]
    n = int(PACED_RATE_HZ * PACED_SECONDS)
    recipient = f"P{tag}"  # a subject of its own, so the end-to-end run's backlog is not in the way
    sub = await bus.subscribe(f"paced-{tag}", f"{root}.*.{recipient}.>")
    subject = share_subject("A", recipient, "observation", root)
    latencies: list[float] = []

    async def paced() -> None:
        t0 = time.perf_counter()
        for i in range(n):
            await asyncio.sleep(max(0.0, t0 + i / PACED_RATE_HZ - time.perf_counter()))
            await bus.publish(subject, json.dumps({"i": i, "t": time.perf_counter()}).encode(), f"{tag}-{i}")

    async def node() -> None:
        stats = IngestStats()
        while stats.fetched < n:  # small batches and short waits: latency, not throughput
            got = await sub.fetch(64, 0.05)
            recs = [r for r in map(_handler(process), got) if r is not None]
            await asyncio.to_thread(store.put_many, recs)
            now = time.perf_counter()
            for m in got:
                await m.ack()
                latencies.append(now - json.loads(m.data)["t"])
            stats.fetched += len(got)

    await asyncio.gather(paced(), node())
    return 1e3 * statistics.quantiles(latencies, n=100)[98]


async def raw_publish_rate(url: str, n: int, use_async: bool) -> float:
    """Raw nats-py JetStream publish throughput (msg/s) into a fresh stream."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    name, root = f"RAW_{uuid.uuid4().hex[:8]}", f"raw{uuid.uuid4().hex[:8]}"
    await js.add_stream(name=name, subjects=[f"{root}.>"])
    payload = json.dumps({"i": 0, "t": 0.0}).encode()
    t0 = time.perf_counter()
    if use_async:
        for i in range(n):
            await js.publish_async(f"{root}.x", payload, headers={"Nats-Msg-Id": str(i)})
        await js.publish_async_completed()
    else:
        for start in range(0, n, PUBLISH_CONCURRENCY):
            await asyncio.gather(
                *(
                    js.publish(f"{root}.x", payload, headers={"Nats-Msg-Id": str(i)})
                    for i in range(start, min(n, start + PUBLISH_CONCURRENCY))
                )
            )
    rate = n / (time.perf_counter() - t0)
    await js.delete_stream(name)
    await nc.close()
    return rate


def _pg_dsn() -> tuple[str, LocalPostgres | None]:
    for dsn in (
        "host=127.0.0.1 port=5432 user=postgres dbname=test",
        "host=127.0.0.1 port=5432 user=root dbname=test",
    ):
        try:
            with psycopg.connect(dsn, connect_timeout=3):
                return dsn, None
        except psycopg.Error:
            continue
    server = LocalPostgres().start()
    return server.dsn, server


async def main(n: int, repeats: int) -> None:
    local_nats = None if port_open(4222) else LocalNats(Path(tempfile.mkdtemp()) / "nats").start()
    url = "nats://127.0.0.1:4222" if local_nats is None else local_nats.url
    dsn, local_pg = _pg_dsn()
    results: dict[str, list[float]] = {}
    for _ in range(repeats):
        for label, use_async in (
            ("raw nats-py js.publish (256 in flight)", False),
            ("raw nats-py js.publish_async", True),
        ):
            results.setdefault(f"{label} msg/s", []).append(await raw_publish_rate(url, n, use_async))
        uid = uuid.uuid4().hex[:8]
        root = f"b{uid}.vigil.share"
        nbus = await NatsBus.connect(url, stream=f"B_{uid}", subject_root=root)
        pstore = PostgresStore(dsn, schema=f"b_{uid}")
        mbus, sstore = MemoryBus(), SqliteStore(Path(tempfile.mkdtemp()) / "bench.db")
        for name, bus, store in (("NATS+PostgreSQL", nbus, pstore), ("Memory+SQLite", mbus, sstore)):
            results.setdefault(f"{name} end-to-end msg/s", []).append(
                await end_to_end(bus, store, root, n, identity)
            )
            results.setdefault(f"{name} p99 ms @1000 msg/s", []).append(
                await paced_p99_ms(bus, store, root, identity)
            )
        await nbus.delete_stream()
        await nbus.close()
        pstore.drop_schema()
        pstore.close()
        sstore.close()
    print(
        f"sharing bench: {n} messages, median of {repeats} (NATS {url}, PostgreSQL {dsn.split(' user')[0]})"
    )
    for key, values in results.items():
        print(
            f"  {key:48s} {statistics.median(values):10.1f}   runs: {', '.join(f'{v:.1f}' for v in values)}"
        )
    if local_nats:
        local_nats.stop()
    if local_pg:
        local_pg.destroy()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.repeats))
