"""Sharing pipeline throughput and latency: publish → fetch → [process] → store commit → ack.

Runs on NATS JetStream + PostgreSQL (the machine's services on 4222/5432 if up, else private ones) and on
MemoryBus + SQLite, next to raw nats-py JetStream publish throughput measured in the same run. Prints the
median of REPEATS runs. Two pipelines: *transport* (``process`` = identity: bus + store only) and *signed*
(the real one: the sender's Releaser filters, coarsens and signs each observation record; the receiving
:class:`vigil.sharing.node.Node` verifies it with its Receiver — signature, agreement, region, precision,
freshness, replay against the store — commits the batch and acks), both in ONE process and event loop.
The signed pipeline runs with one record per envelope and with batch envelopes of ``--batch`` records
(signed once, every record checked); both messages/s and records/s are printed. ``--crypto`` adds the
Ed25519 figures: cryptography (OpenSSL) vs PyNaCl (libsodium), sign and verify, and verify spread over
2 threads and 2 processes.

    .venv/bin/python bench/bench_sharing.py [--messages 5000] [--repeats 3] [--batch 64] [--crypto]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import nats
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.signing import SigningKey, VerifyKey

from vigil.sharing.agreement import parse_agreement
from vigil.sharing.bus import Bus, Message, Subscription, share_subject
from vigil.sharing.bus_memory import MemoryBus
from vigil.sharing.bus_nats import NatsBus
from vigil.sharing.ingest import FETCH_BATCH, Handler, IngestStats, ingest_batch, subject_record
from vigil.sharing.keys import KeyRegistry, Signer
from vigil.sharing.local_services import LocalNats, LocalPostgres, port_open
from vigil.sharing.node import Node
from vigil.sharing.releaser import Releaser
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


GEO_POS_M = [42_164_000.0 * 0.7071067811865476, 42_164_000.0 * 0.7071067811865476, 0.0]  # GEO radius, 45° E
SIGNED_ROUND = 256  # records released (one vectorised pass) and published per round of the sender


def _observation(i: int) -> dict:
    """A detection from GEO straight down (the line of sight meets the Earth: region and precision apply)."""
    down = [-GEO_POS_M[0] / 42_164_000.0, -GEO_POS_M[1] / 42_164_000.0, 0.0]
    return {
        "obs_id": i,
        "time": time.time(),
        "sensor_id": "north-1",
        "partner_id": "north",
        "sensor_pos_ecef_m": GEO_POS_M,
        "los_ecef": down,
        "los_sigma_rad": 2e-5,
        "snr": 9.0,
        "frame_id": i,
    }


def _signed_pair(bus: Bus, store: Store, root: str) -> tuple[Releaser, Node]:
    tag = f"b{uuid.uuid4().hex[:8]}"
    sender, recipient = Signer.generate("north"), Signer.generate(tag)
    agreement = parse_agreement(
        {
            "parties": ["north", tag],
            "valid_from": "2000-01-01",
            "valid_until": "2100-01-01",
            "directions": {
                f"north->{tag}": {"types": ["observation"], "region": "global", "precision_m": 100.0}
            },
        },
        "bench",
    )
    node = Node(
        tag,
        recipient,
        KeyRegistry.from_signers(sender, recipient),
        [agreement],
        bus,
        store,
        "2026-01-01T00:00:00Z",
        subject_root=root,
        clock=time.time,
    )
    return Releaser(agreement, "north", sender), node


async def _release_and_publish(
    releaser: Releaser, bus: Bus, root: str, first: int, count: int, per_envelope: int = 1
) -> int:
    """Release ``count`` records in one pass, ``per_envelope`` per envelope; publish them all in flight."""
    envs, denials = releaser.release_many(
        "observation", [_observation(i) for i in range(first, first + count)], time.time(), per_envelope
    )
    assert not denials, denials
    await asyncio.gather(
        *(
            bus.publish(share_subject(e.sender, e.recipient, e.record_type, root), e.to_bytes(), e.msg_id)
            for e in envs
        )
    )
    return len(envs)


def _envelopes(n: int, per_envelope: int) -> int:
    full, rest = divmod(n, SIGNED_ROUND)
    return full * -(-SIGNED_ROUND // per_envelope) + -(-rest // per_envelope)


async def signed_end_to_end(
    bus: Bus, store: Store, root: str, n: int, per_envelope: int = 1
) -> tuple[float, float]:
    """Signed, policy-checked, verified, stored (messages/s, records/s) for ``n`` records sent
    ``per_envelope`` per envelope (sender and node in one process)."""
    releaser, node = _signed_pair(bus, store, root)
    await node.start()

    async def send() -> None:
        for start in range(0, n, SIGNED_ROUND):
            await _release_and_publish(releaser, bus, root, start, min(SIGNED_ROUND, n - start), per_envelope)

    messages = _envelopes(n, per_envelope)
    t0 = time.perf_counter()
    await asyncio.gather(send(), node.receive(expected=messages))
    elapsed = time.perf_counter() - t0
    assert node.counts.received == n and node.counts.received_messages == messages, node.counts
    await node.close()
    return messages / elapsed, n / elapsed


async def signed_paced_p99_ms(bus: Bus, store: Store, root: str) -> float:
    """p99 release → stored-and-acked latency (ms) of the signed pipeline at PACED_RATE_HZ offered load
    (one record per envelope)."""
    releaser, node = _signed_pair(bus, store, root)
    await node.start()
    n = int(PACED_RATE_HZ * PACED_SECONDS)
    latencies: list[float] = []

    async def paced() -> None:
        t0 = time.perf_counter()
        for i in range(n):
            await asyncio.sleep(max(0.0, t0 + i / PACED_RATE_HZ - time.perf_counter()))
            await _release_and_publish(releaser, bus, root, i, 1)

    async def receive() -> None:
        while node.counts.received < n:
            await node.receive_batch(0.05)
            now = time.time()
            latencies.extend(now - a.envelope.created_at for a in node._accepted)  # this round's records

    await asyncio.gather(paced(), receive())
    await node.close()
    return 1e3 * statistics.quantiles(latencies, n=100)[98]


CRYPTO_N = 2000  # signatures per crypto timing
CRYPTO_MESSAGE = bytes(600)  # about one signed observation envelope


def _per_op_us(fn: Callable[[], object], n: int = CRYPTO_N) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return 1e6 * (time.perf_counter() - t0) / n


def _nacl_verify_chunk(args: tuple[bytes, bytes, bytes, int]) -> int:
    key, sig, data, count = args
    vk = VerifyKey(key)
    for _ in range(count):
        vk.verify(data, sig)
    return count


def crypto_figures() -> dict[str, float]:
    """Ed25519 per-operation µs (cryptography vs PyNaCl) and PyNaCl verify rates on 1 core, 2 threads, 2 processes."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    ck = Ed25519PrivateKey.generate()
    cpub: Ed25519PublicKey = ck.public_key()
    csig = ck.sign(CRYPTO_MESSAGE)
    nk = SigningKey.generate()
    nvk, nsig = nk.verify_key, nk.sign(CRYPTO_MESSAGE).signature
    out = {
        "cryptography sign µs": _per_op_us(lambda: ck.sign(CRYPTO_MESSAGE)),
        "cryptography verify µs": _per_op_us(lambda: cpub.verify(csig, CRYPTO_MESSAGE)),
        "PyNaCl sign µs": _per_op_us(lambda: nk.sign(CRYPTO_MESSAGE)),
        "PyNaCl verify µs": _per_op_us(lambda: nvk.verify(CRYPTO_MESSAGE, nsig)),
    }
    job = (bytes(nvk), nsig, CRYPTO_MESSAGE, CRYPTO_N // 2)
    out["PyNaCl verify/s, 1 thread"] = 1e6 / out["PyNaCl verify µs"]
    with ThreadPoolExecutor(2) as threads:
        t0 = time.perf_counter()
        sum(threads.map(_nacl_verify_chunk, [job, job]))
        out["PyNaCl verify/s, 2 threads"] = CRYPTO_N / (time.perf_counter() - t0)
    with ProcessPoolExecutor(2) as procs:
        list(procs.map(_nacl_verify_chunk, [job[:3] + (1,)] * 2))  # start the workers outside the timing
        t0 = time.perf_counter()
        sum(procs.map(_nacl_verify_chunk, [job, job]))
        out["PyNaCl verify/s, 2 processes"] = CRYPTO_N / (time.perf_counter() - t0)
    return out


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


async def main(n: int, repeats: int, per_envelope: int, crypto: bool) -> None:
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
            results.setdefault(f"{name} transport end-to-end msg/s", []).append(
                await end_to_end(bus, store, root, n, identity)
            )
            results.setdefault(f"{name} transport p99 ms @1000 msg/s", []).append(
                await paced_p99_ms(bus, store, root, identity)
            )
            for per in (1, per_envelope):
                msgs, recs = await signed_end_to_end(bus, store, root, n, per)
                results.setdefault(f"{name} SIGNED x{per} msg/s", []).append(msgs)
                results.setdefault(f"{name} SIGNED x{per} records/s", []).append(recs)
            results.setdefault(f"{name} SIGNED p99 ms @1000 msg/s", []).append(
                await signed_paced_p99_ms(bus, store, root)
            )
        await nbus.delete_stream()
        await nbus.close()
        pstore.drop_schema()
        pstore.close()
        sstore.close()
        if crypto:
            for key, value in crypto_figures().items():
                results.setdefault(key, []).append(value)
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
    parser.add_argument("--batch", type=int, default=64, help="records per batch envelope")
    parser.add_argument("--crypto", action="store_true", help="also time Ed25519 implementations")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    asyncio.run(main(args.messages, args.repeats, args.batch, args.crypto))
