"""The receiving node's ingest loop: fetch → handle (verify) → commit → ack.

"Acknowledged means stored": a batch is acked only after the store transaction holding it committed.
A crash between commit and ack makes the bus deliver the batch again; the idempotent insert turns the
second delivery into a no-op and the loop acks it. Nothing acked is lost, nothing is stored twice.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from vigil.errors import MessageError
from vigil.sharing.bus import SUBJECT_ROOT, Message, Subscription
from vigil.sharing.store import Store, StoredRecord

Handler = Callable[[Message], StoredRecord | None]
"""Turns a bus message into the record to store, or ``None`` to drop it (it is acked, not stored);
it may raise :class:`~vigil.errors.MessageError`, which drops the message the same way."""

BatchHandler = Callable[[list[Message]], list[StoredRecord | None]]
"""Handles a whole fetched batch at once (e.g. one replay query for all of it): one record or ``None``
per message, in order. A :class:`~vigil.errors.MessageError` drops the whole batch's records (acked)."""

FETCH_BATCH = 256
"""Messages pulled, stored in one transaction, and acked per round."""
FETCH_TIMEOUT_S = 0.5
"""Seconds one fetch waits for messages; bounds how long ``stop_event`` takes to be noticed."""


@dataclass
class IngestStats:
    """Counts since the loop started: ``fetched`` deliveries, ``stored`` new records, ``duplicates``
    (redeliveries of records already stored), ``dropped`` (handler said no)."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0


def subject_record(message: Message) -> StoredRecord:
    """Default handler: sender, recipient and type from the last three tokens of the subject
    ``<root>.<from>.<to>.<type>``;
    ``created_at`` from the payload's ``created_at`` (UTC s since epoch) if present, else now."""
    tokens = message.subject.split(".")
    if len(tokens) < len(SUBJECT_ROOT.split(".")) + 3 or not message.msg_id:
        raise MessageError(f"bus message seq {message.seq}: subject {message.subject!r} or msg id unusable")
    try:
        payload = json.loads(message.data)
    except (UnicodeDecodeError, ValueError) as err:
        raise MessageError(f"bus message {message.msg_id}: payload is not JSON ({err})") from err
    created = payload.get("created_at") if isinstance(payload, dict) else None
    created_at = float(created) if isinstance(created, int | float) else time.time()
    sender, recipient, record_type = tokens[-3:]
    return StoredRecord(message.msg_id, sender, recipient, record_type, created_at, message.data.decode())


def handle_each(handler: Handler) -> BatchHandler:
    """A batch handler that calls ``handler`` per message (a MessageError drops that message only)."""

    def handle(messages: list[Message]) -> list[StoredRecord | None]:
        out: list[StoredRecord | None] = []
        for message in messages:
            try:
                out.append(handler(message))
            except MessageError:
                out.append(None)
        return out

    return handle


async def ingest_batch(
    sub: Subscription,
    store: Store,
    handler: Handler | None,
    stats: IngestStats,
    batch: int = FETCH_BATCH,
    timeout: float = FETCH_TIMEOUT_S,
    *,
    handle_many: BatchHandler | None = None,
) -> int:
    """One round: fetch up to ``batch``, handle (``handle_many`` if given, else ``handler`` per message),
    commit, then ack. Returns the number fetched."""
    messages = await sub.fetch(batch, timeout)
    if not messages:
        return 0
    many = handle_many or handle_each(handler or subject_record)
    try:
        outcomes = many(messages)
    except MessageError:
        outcomes = [None] * len(messages)
    records = [r for r in outcomes if r is not None]
    stats.dropped += len(messages) - len(records)
    new = await asyncio.to_thread(store.put_many, records) if records else 0
    for message in messages:  # only after the commit above
        await message.ack()
    stats.fetched += len(messages)
    stats.stored += new
    stats.duplicates += len(records) - new
    return len(messages)


async def ingest(
    sub: Subscription,
    store: Store,
    handler: Handler = subject_record,
    stop_event: asyncio.Event | None = None,
    batch: int = FETCH_BATCH,
) -> IngestStats:
    """Run :func:`ingest_batch` until ``stop_event`` is set; return the counts."""
    stop = stop_event or asyncio.Event()
    stats = IngestStats()
    while not stop.is_set():
        await ingest_batch(sub, store, handler, stats, batch)
    return stats
