"""In-process :class:`~vigil.sharing.bus.Bus` with JetStream semantics (the embedded default).

Everything lives in one Python process: the log is a list, each durable consumer keeps its next
sequence and its pending (delivered, unacknowledged) messages with their ack deadlines. Nothing survives
the process; use :class:`~vigil.sharing.bus_nats.NatsBus` where it must.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vigil.errors import ConfigError
from vigil.sharing.bus import Bus, Message, Subscription, subject_matches

DEFAULT_ACK_WAIT_S = 30.0
"""Seconds a delivered message may stay unacknowledged before redelivery (JetStream's default)."""

DEFAULT_DUPLICATE_WINDOW_S = 120.0
"""Seconds a ``msg_id`` is remembered for de-duplication (JetStream's default: 2 min)."""


@dataclass
class _Entry:
    seq: int
    subject: str
    data: bytes
    msg_id: str


@dataclass
class _Consumer:
    subject_filter: str
    next_seq: int = 1  # next sequence never delivered
    pending: dict[int, float] = field(default_factory=dict)  # seq -> redelivery deadline (clock s)
    deliveries: dict[int, int] = field(default_factory=dict)  # seq -> deliveries so far


class MemoryBus(Bus):
    """In-process bus. ``clock`` (seconds, monotonic) is injectable for tests."""

    def __init__(
        self,
        ack_wait_s: float = DEFAULT_ACK_WAIT_S,
        duplicate_window_s: float = DEFAULT_DUPLICATE_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ack_wait_s <= 0 or duplicate_window_s < 0:
            raise ConfigError("MemoryBus: ack_wait_s must be > 0 and duplicate_window_s >= 0")
        self.ack_wait_s = ack_wait_s
        self.duplicate_window_s = duplicate_window_s
        self._clock = clock
        self._log: list[_Entry] = []
        self._seen: dict[str, float] = {}  # msg_id -> publish time; insertion-ordered
        self._consumers: dict[str, _Consumer] = {}
        self._changed = asyncio.Event()

    async def publish(self, subject: str, data: bytes, msg_id: str) -> None:
        now = self._clock()
        self._forget_old_ids(now)
        if msg_id in self._seen:
            return
        self._seen[msg_id] = now
        self._log.append(_Entry(len(self._log) + 1, subject, bytes(data), msg_id))
        self._wake()

    def _forget_old_ids(self, now: float) -> None:
        # Insertion order is publish order: drop from the front while too old. (Copying the whole dict
        # each time made every publish O(ids in the window) — the bench's memory-path p99 of ~0.3–2 s.)
        seen = self._seen
        while seen:
            msg_id = next(iter(seen))
            if now - seen[msg_id] < self.duplicate_window_s:
                break
            del seen[msg_id]

    async def subscribe(self, durable: str, subject_filter: str) -> Subscription:
        consumer = self._consumers.get(durable)
        if consumer is None:
            consumer = self._consumers[durable] = _Consumer(subject_filter)
        elif consumer.subject_filter != subject_filter:
            raise ConfigError(
                f"MemoryBus: durable {durable!r} filters {consumer.subject_filter!r}, not {subject_filter!r}"
            )
        return _MemorySubscription(self, consumer)

    async def close(self) -> None:
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _take(self, consumer: _Consumer, batch: int) -> list[Message]:
        """Due redeliveries first (in sequence order), then new messages matching the filter."""
        now = self._clock()
        seqs = sorted(s for s, deadline in consumer.pending.items() if deadline <= now)[:batch]
        while len(seqs) < batch and consumer.next_seq <= len(self._log):
            entry = self._log[consumer.next_seq - 1]
            consumer.next_seq += 1
            if subject_matches(consumer.subject_filter, entry.subject):
                seqs.append(entry.seq)
        return [self._deliver(consumer, seq, now) for seq in seqs]

    def _deliver(self, consumer: _Consumer, seq: int, now: float) -> Message:
        entry = self._log[seq - 1]
        consumer.pending[seq] = now + self.ack_wait_s
        consumer.deliveries[seq] = delivery = consumer.deliveries.get(seq, 0) + 1

        async def ack() -> None:
            if consumer.pending.pop(seq, None) is not None:
                consumer.deliveries.pop(seq, None)

        async def nak() -> None:
            if seq in consumer.pending:
                consumer.pending[seq] = self._clock()
                self._wake()

        return Message(entry.subject, entry.data, entry.msg_id, seq, delivery, ack, nak)

    def _next_deadline(self, consumer: _Consumer) -> float | None:
        return min(consumer.pending.values(), default=None)


class _MemorySubscription(Subscription):
    def __init__(self, bus: MemoryBus, consumer: _Consumer) -> None:
        self._bus = bus
        self._consumer = consumer
        self._closed = False

    async def fetch(self, batch: int, timeout: float) -> list[Message]:
        if batch < 1 or timeout <= 0:
            raise ConfigError("fetch: batch must be >= 1 and timeout > 0")
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not self._closed:
            messages = self._bus._take(self._consumer, batch)
            remaining = end - loop.time()
            if messages or remaining <= 0:
                return messages
            deadline = self._bus._next_deadline(self._consumer)
            if deadline is not None:
                remaining = min(remaining, max(deadline - self._bus._clock(), 0.0) + 1e-3)
            changed = self._bus._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                pass
        return []

    async def close(self) -> None:
        self._closed = True
