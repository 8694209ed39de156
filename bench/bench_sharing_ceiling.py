"""Ceiling of ONE-MESSAGE-PER-RECORD sharing on this machine: raw nats-py JetStream, several processes, no Vigil.

Why: issue 5 asks for >= 10,000 signed, policy-checked, stored messages/s end to end. This bench measures what the
bare transport alone can carry when sender and receivers run in separate processes (so both cores work): a
publisher process (``js.publish``, 256 in flight, ``Nats-Msg-Id`` per message, 600-byte payloads like a signed
observation envelope) and K consumer processes on ONE durable pull consumer (``fetch(256)``, explicit ``ack`` per
message), nothing else — no signing, no policy, no store. ``--verify`` adds one libsodium Ed25519 verification
per message in the consumers (the receiver's irreducible cost); ``--sign`` one signature per message in the
publisher. Whatever Vigil does per message comes on top of these figures, so they bound it from above.

    .venv/bin/python bench/bench_sharing_ceiling.py [--messages 20000] [--repeats 3]

Uses the machine's NATS on 127.0.0.1:4222 when it is up, else a private nats-server.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import nats
from nacl.signing import SigningKey

from vigil.sharing.local_services import LocalNats, port_open

PAYLOAD_BYTES = 600
IN_FLIGHT = 256
FETCH = 256
_KEY = SigningKey(bytes(range(32)))
_SIGNED = _KEY.sign(b"x" * (PAYLOAD_BYTES - 64))


async def _publisher(url: str, subject: str, n: int, sign: bool) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    body = b"x" * PAYLOAD_BYTES
    for start in range(0, n, IN_FLIGHT):
        batch = range(start, min(n, start + IN_FLIGHT))
        if sign:
            payloads = [_KEY.sign(str(i).encode().ljust(PAYLOAD_BYTES - 64, b" ")) for i in batch]
        else:
            payloads = [body] * len(batch)
        await asyncio.gather(
            *(
                js.publish(subject, p, headers={"Nats-Msg-Id": str(i)})
                for i, p in zip(batch, payloads, strict=True)
            )
        )
    await nc.close()


async def _consumer(url: str, stream: str, durable: str, done: mp.Value, n: int, verify: bool) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe_bind(durable=durable, stream=stream)
    verify_key = _KEY.verify_key
    while done.value < n:
        try:
            msgs = await sub.fetch(FETCH, timeout=0.5)
        except (TimeoutError, nats.errors.TimeoutError):
            continue
        for m in msgs:
            if verify:
                verify_key.verify(_SIGNED)
            await m.ack()
        with done.get_lock():
            done.value += len(msgs)
    await nc.close()


def _run_publisher(*args) -> None:
    asyncio.run(_publisher(*args))


def _run_consumer(*args) -> None:
    asyncio.run(_consumer(*args))


async def _setup(url: str) -> tuple[str, str, str]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    uid = uuid.uuid4().hex[:8]
    stream, subject, durable = f"CEIL_{uid}", f"ceil{uid}.x", f"d{uid}"
    await js.add_stream(name=stream, subjects=[subject])
    await js.add_consumer(
        stream,
        nats.js.api.ConsumerConfig(
            durable_name=durable, ack_policy=nats.js.api.AckPolicy.EXPLICIT, max_ack_pending=20_000
        ),
    )
    await nc.close()
    return stream, subject, durable


async def _teardown(url: str, stream: str) -> None:
    nc = await nats.connect(url)
    await nc.jetstream().delete_stream(stream)
    await nc.close()


def one_run(url: str, n: int, consumers: int, sign: bool, verify: bool) -> float:
    """Messages/s from the first publish to the last ack, publisher and consumers in separate processes."""
    stream, subject, durable = asyncio.run(_setup(url))
    done = mp.Value("q", 0)
    procs = [
        mp.Process(target=_run_consumer, args=(url, stream, durable, done, n, verify))
        for _ in range(consumers)
    ]
    for p in procs:
        p.start()
    time.sleep(0.5)  # consumers connected and bound before the clock starts
    t0 = time.perf_counter()
    pub = mp.Process(target=_run_publisher, args=(url, subject, n, sign))
    pub.start()
    while done.value < n:
        time.sleep(0.001)
    rate = n / (time.perf_counter() - t0)
    pub.join()
    for p in procs:
        p.join(timeout=5)
    asyncio.run(_teardown(url, stream))
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    server = None if port_open(4222) else LocalNats(Path(tempfile.mkdtemp()) / "nats").start()
    url = "nats://127.0.0.1:4222" if server is None else server.url
    print(
        f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; "
        f"{args.messages} messages of {PAYLOAD_BYTES} B, median of {args.repeats}"
    )
    cases = [
        ("publisher + 1 consumer process, transport only", 1, False, False),
        ("publisher + 2 consumer processes, transport only", 2, False, False),
        ("publisher (sign) + 2 consumers (verify)", 2, True, True),
    ]
    for label, k, sign, verify in cases:
        runs = [one_run(url, args.messages, k, sign, verify) for _ in range(args.repeats)]
        print(
            f"  {label:52s} {statistics.median(runs):9.0f} msg/s   runs: "
            f"{', '.join(f'{r:.0f}' for r in runs)}"
        )
    if server is not None:
        server.stop()


if __name__ == "__main__":
    main()
