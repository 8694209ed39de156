"""The sharing bus: a small asynchronous interface over a durable message log.

Releasers publish signed envelopes to ``vigil.share.<from>.<to>.<type>``; a receiving node pulls them
through a *durable* consumer, stores them, and only then acknowledges them ("acknowledged means stored").
Two implementations share this interface and one test suite: :class:`~vigil.sharing.bus_memory.MemoryBus`
(in-process, the embedded default) and :class:`~vigil.sharing.bus_nats.NatsBus` (NATS JetStream).

Semantics every implementation provides (those of JetStream pull consumers with explicit ack):

- ``publish`` with a ``msg_id`` already seen within the duplicate window stores nothing (dedupe);
- a durable consumer remembers its position: a new ``subscribe`` with the same name resumes there;
- a fetched message that is neither acked within ``ack_wait_s`` nor naked is delivered again,
  and a naked one is delivered again at once; ``Message.delivery`` counts deliveries (1 = first);
- messages on one subject are delivered in publish order (first deliveries).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from vigil.errors import ConfigError

SUBJECT_ROOT = "vigil.share"
"""Root of every sharing subject (docs/design.md "Sharing")."""

MSG_ID_HEADER = "Nats-Msg-Id"
"""JetStream's de-duplication header; the memory bus keys its dedupe on the same id."""

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def share_subject(sender: str, recipient: str, record_type: str, root: str = SUBJECT_ROOT) -> str:
    """The subject ``<root>.<sender>.<recipient>.<record_type>``; each token is ``[A-Za-z0-9_-]+``."""
    for name, token in (("sender", sender), ("recipient", recipient), ("record_type", record_type)):
        if not _TOKEN.match(token):
            raise ConfigError(f"sharing subject: {name} {token!r} must match [A-Za-z0-9_-]+")
    return f"{root}.{sender}.{recipient}.{record_type}"


def subject_matches(subject_filter: str, subject: str) -> bool:
    """NATS subject matching: ``*`` matches one token, a final ``>`` one or more tokens."""
    pattern = subject_filter.split(".")
    tokens = subject.split(".")
    for i, want in enumerate(pattern):
        if want == ">":
            return i == len(pattern) - 1 and len(tokens) > i
        if i >= len(tokens) or (want != "*" and want != tokens[i]):
            return False
    return len(tokens) == len(pattern)


AckFn = Callable[[], Awaitable[None]]


@dataclass
class Message:
    """One delivery of one bus message.

    ``data`` is the payload bytes, ``msg_id`` the publisher's de-duplication id, ``delivery`` the
    delivery count (1 on first delivery), ``seq`` the stream sequence (1-based, unique per stream).
    """

    subject: str
    data: bytes
    msg_id: str
    seq: int
    delivery: int
    _ack: AckFn = field(repr=False)
    _nak: AckFn = field(repr=False)

    async def ack(self) -> None:
        """Acknowledge: the consumer will not deliver this message again."""
        await self._ack()

    async def nak(self) -> None:
        """Negative acknowledge: deliver this message again (at once)."""
        await self._nak()


class Subscription(ABC):
    """A pull subscription bound to one durable consumer."""

    @abstractmethod
    async def fetch(self, batch: int, timeout: float) -> list[Message]:
        """Up to ``batch`` messages, waiting at most ``timeout`` seconds; ``[]`` when none came."""

    @abstractmethod
    async def close(self) -> None:
        """Stop pulling; the durable consumer (its position, its pending acks) stays on the bus."""


class Bus(ABC):
    """A durable, de-duplicating message log with pull consumers and explicit acks."""

    @abstractmethod
    async def publish(self, subject: str, data: bytes, msg_id: str) -> None:
        """Append ``data`` on ``subject`` unless ``msg_id`` was published within the duplicate window."""

    @abstractmethod
    async def subscribe(self, durable: str, subject_filter: str) -> Subscription:
        """Bind to (create if absent) the durable consumer ``durable`` over ``subject_filter``."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; published messages and durable consumers persist as the bus allows."""
