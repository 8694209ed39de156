"""One suite, two buses: MemoryBus and NatsBus (JetStream) must behave the same."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from vigil.errors import ConfigError
from vigil.sharing.bus import Message, share_subject, subject_matches

SHORT_S = 0.3  # fetch timeout when nothing is expected
LONG_S = 5.0  # fetch timeout when something is expected (returns as soon as it comes)


async def _drain(sub, want: int, timeout: float = LONG_S) -> list[Message]:
    """Fetch until ``want`` messages came or ``timeout`` passed."""
    got: list[Message] = []
    end = time.monotonic() + timeout
    while len(got) < want and (left := end - time.monotonic()) > 0:
        got += await sub.fetch(want - len(got), min(LONG_S, left))
    return got


def test_publish_fetch_ack_delivers_once_in_order(bus_factory: Any, subject_root: str) -> None:
    async def run() -> None:
        bus = await bus_factory.open()
        subject = share_subject("A", "B", "track", subject_root)
        for i in range(3):
            await bus.publish(subject, f"m{i}".encode(), f"id-{i}")
        sub = await bus.subscribe("node-b", f"{subject_root}.*.B.>")
        got = await _drain(sub, 3)
        assert [(m.data, m.msg_id, m.delivery, m.subject) for m in got] == [
            (f"m{i}".encode(), f"id-{i}", 1, subject) for i in range(3)
        ]
        assert [m.seq for m in got] == sorted(m.seq for m in got)
        for m in got:
            await m.ack()
        assert await sub.fetch(10, SHORT_S) == []
        await bus.close()

    asyncio.run(run())


def test_nak_redelivers_same_message(bus_factory: Any, subject_root: str) -> None:
    async def run() -> None:
        bus = await bus_factory.open()
        await bus.publish(share_subject("A", "B", "track", subject_root), b"x", "only")
        sub = await bus.subscribe("node-b", f"{subject_root}.>")
        (first,) = await _drain(sub, 1)
        await first.nak()
        (again,) = await _drain(sub, 1)
        assert (again.msg_id, again.seq, again.data, again.delivery) == ("only", first.seq, b"x", 2)
        await again.ack()
        assert await sub.fetch(1, SHORT_S) == []
        await bus.close()

    asyncio.run(run())


def test_unacked_message_returns_after_ack_wait(bus_factory: Any, subject_root: str) -> None:
    ack_wait_s = 1.0

    async def run() -> None:
        bus = await bus_factory.open(ack_wait_s=ack_wait_s)
        await bus.publish(share_subject("A", "B", "warning", subject_root), b"w", "w1")
        sub = await bus.subscribe("node-b", f"{subject_root}.>")
        (first,) = await _drain(sub, 1)
        t0 = time.monotonic()
        (again,) = await _drain(sub, 1, timeout=ack_wait_s + LONG_S)
        elapsed = time.monotonic() - t0
        assert (again.msg_id, again.delivery) == ("w1", 2)
        assert elapsed >= 0.9 * ack_wait_s  # not before the ack wait (10 % for clock granularity)
        await again.ack()
        await bus.close()

    asyncio.run(run())


def test_duplicate_msg_id_is_stored_once(bus_factory: Any, subject_root: str) -> None:
    async def run() -> None:
        bus = await bus_factory.open()
        subject = share_subject("A", "B", "observation", subject_root)
        await bus.publish(subject, b"first", "dup")
        await bus.publish(subject, b"second", "dup")
        await bus.publish(subject, b"other", "other")
        sub = await bus.subscribe("node-b", f"{subject_root}.>")
        got = await _drain(sub, 3, timeout=2 * SHORT_S + 1.0)
        assert [(m.msg_id, m.data) for m in got] == [("dup", b"first"), ("other", b"other")]
        await bus.close()

    asyncio.run(run())


def test_durable_consumer_resumes_after_resubscribe(bus_factory: Any, subject_root: str) -> None:
    async def run() -> None:
        bus = await bus_factory.open()
        subject = share_subject("A", "B", "track", subject_root)
        for i in range(5):
            await bus.publish(subject, str(i).encode(), f"id-{i}")
        sub = await bus.subscribe("node-b", f"{subject_root}.>")
        for m in await _drain(sub, 2):
            await m.ack()
        await sub.close()
        await bus.close()

        bus2 = await bus_factory.open()  # NATS: a new connection; memory: the same process bus
        resumed = await _drain(await bus2.subscribe("node-b", f"{subject_root}.>"), 3)
        assert [m.data for m in resumed] == [b"2", b"3", b"4"]
        other = await _drain(await bus2.subscribe("auditor", f"{subject_root}.>"), 5)
        assert [m.data for m in other] == [str(i).encode() for i in range(5)]
        await bus2.close()

    asyncio.run(run())


def test_order_is_kept_per_subject_and_filter_selects_recipient(bus_factory: Any, subject_root: str) -> None:
    async def run() -> None:
        bus = await bus_factory.open()
        to_b = share_subject("A", "B", "observation", subject_root)
        to_c = share_subject("A", "C", "observation", subject_root)
        tracks = share_subject("C", "B", "track", subject_root)
        for i in range(30):
            subject = (to_b, to_c, tracks)[i % 3]
            await bus.publish(subject, str(i).encode(), f"m{i}")
        got = await _drain(await bus.subscribe("node-b", f"{subject_root}.*.B.>"), 20)
        assert {m.subject for m in got} == {to_b, tracks}
        for subject in (to_b, tracks):
            values = [int(m.data) for m in got if m.subject == subject]
            assert values == sorted(values) and len(values) == 10
        await bus.close()

    asyncio.run(run())


def test_subject_matching_follows_nats_wildcards() -> None:
    assert subject_matches("vigil.share.*.B.>", "vigil.share.A.B.track")
    assert subject_matches("vigil.share.>", "vigil.share.A.B.track")
    assert not subject_matches("vigil.share.*.B.>", "vigil.share.A.C.track")
    assert not subject_matches("vigil.share.*.B.>", "vigil.share.A.B")  # '>' needs at least one token
    assert not subject_matches("vigil.share.*", "vigil.share.A.B")
    assert subject_matches("a.b", "a.b") and not subject_matches("a.b", "a.b.c")


@pytest.mark.parametrize("bad", ["", "a.b", "a b", "a>", "*"])
def test_share_subject_rejects_bad_tokens(bad: str) -> None:
    with pytest.raises(ConfigError, match="must match"):
        share_subject("A", bad, "track")
