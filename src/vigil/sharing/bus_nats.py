"""NATS JetStream :class:`~vigil.sharing.bus.Bus` for deployments.

One file-backed stream (default ``VIGIL_SHARE``) holds every subject under ``<root>.>``; de-duplication
uses the ``Nats-Msg-Id`` header within the stream's duplicate window; receivers pull through durable
consumers with explicit ack. The client reconnects by itself (forever, every
:data:`RECONNECT_WAIT_S`) after a server restart; ``publish`` and ``subscribe`` retry transient failures
for up to ``retry_s`` seconds, which is safe because a retried publish carries the same msg id, and
``fetch`` answers ``[]`` while the server is away. Permission violations reported by the server
(see docs/deployment.md) surface as :class:`~vigil.errors.ServiceError` naming the subject.
"""

from __future__ import annotations

import asyncio
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import api

from vigil.errors import ConfigError, ServiceError
from vigil.sharing.bus import MSG_ID_HEADER, SUBJECT_ROOT, Bus, Message, Subscription
from vigil.sharing.bus_memory import DEFAULT_ACK_WAIT_S, DEFAULT_DUPLICATE_WINDOW_S

DEFAULT_STREAM = "VIGIL_SHARE"
RECONNECT_WAIT_S = 0.25
"""Seconds between reconnection attempts (nats-py default is 2 s; a node wants to resume quickly)."""
CONNECT_ATTEMPTS = 3
"""Attempts per server for the first connection (then reconnection is unbounded)."""
DEFAULT_RETRY_S = 30.0
"""Seconds ``publish``/``subscribe`` keep retrying transient failures before raising ServiceError."""
REQUEST_TIMEOUT_S = 2.0
"""Seconds one JetStream API request (publish ack, consumer create) may take before it is retried."""
DENIAL_GRACE_S = 0.25
"""Seconds to wait, after the server's PONG, for a late permission ``-ERR`` on a core subscription."""
MAX_ACK_PENDING = 20_000
"""Unacknowledged messages a consumer may hold out at once (JetStream default is 1,000)."""

_TRANSIENT = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    asyncio.TimeoutError,
)


class NatsBus(Bus):
    """JetStream bus; build it with :meth:`connect`."""

    def __init__(self, nc: Any, stream: str, ack_wait_s: float, retry_s: float) -> None:
        self._nc = nc
        self._js = nc.jetstream(timeout=REQUEST_TIMEOUT_S)
        self.stream = stream
        self.ack_wait_s = ack_wait_s
        self.retry_s = retry_s
        self.permission_errors: list[str] = []
        self._denied = asyncio.Event()

    @classmethod
    async def connect(
        cls,
        servers: str | list[str] = "nats://127.0.0.1:4222",
        *,
        stream: str = DEFAULT_STREAM,
        subject_root: str = SUBJECT_ROOT,
        user: str | None = None,
        password: str | None = None,
        inbox_prefix: str = "_INBOX",
        ack_wait_s: float = DEFAULT_ACK_WAIT_S,
        duplicate_window_s: float = DEFAULT_DUPLICATE_WINDOW_S,
        create_stream: bool = True,
        retry_s: float = DEFAULT_RETRY_S,
    ) -> NatsBus:
        """Connect, and (``create_stream``) create the stream over ``<subject_root>.>`` if absent.

        ``inbox_prefix`` must be the partner's own prefix where the server scopes inboxes per user.
        """
        holder: list[NatsBus] = []

        async def on_error(err: Exception) -> None:
            if holder and "permissions violation" in str(err).lower():
                holder[0].permission_errors.append(str(err))
                holder[0]._denied.set()

        try:
            nc = await asyncio.wait_for(
                nats.connect(
                    servers,
                    user=user,
                    password=password,
                    inbox_prefix=inbox_prefix,
                    error_cb=on_error,
                    max_reconnect_attempts=CONNECT_ATTEMPTS,
                    reconnect_time_wait=RECONNECT_WAIT_S,
                    connect_timeout=REQUEST_TIMEOUT_S,
                    allow_reconnect=True,
                ),
                retry_s,
            )
        except Exception as err:  # noqa: BLE001 - nats-py raises several unrelated types here
            raise ServiceError(f"nats {servers}: cannot connect ({type(err).__name__}: {err})") from err
        # Once connected, never give up: a node outlives server restarts. (nats-py reads this option
        # at each reconnect; an unbounded count at connect time would retry a wrong password forever.)
        nc.options["max_reconnect_attempts"] = -1
        bus = cls(nc, stream, ack_wait_s, retry_s)
        holder.append(bus)
        if create_stream:
            await bus._retry(f"stream {stream}", lambda: bus._ensure_stream(subject_root, duplicate_window_s))
        return bus

    async def _ensure_stream(self, subject_root: str, duplicate_window_s: float) -> None:
        try:
            await self._js.stream_info(self.stream)
            return
        except nats.js.errors.NotFoundError:
            pass
        config = api.StreamConfig(
            name=self.stream,
            subjects=[f"{subject_root}.>"],
            storage=api.StorageType.FILE,
            duplicate_window=duplicate_window_s,
        )
        await self._js.add_stream(config)

    async def _retry(self, what: str, call: Any) -> Any:
        loop = asyncio.get_running_loop()
        end = loop.time() + self.retry_s
        while True:
            try:
                return await call()
            except _TRANSIENT as err:
                self._raise_if_denied(what)
                if loop.time() > end:
                    raise ServiceError(f"nats {what}: no answer for {self.retry_s:g} s ({err!r})") from err
                await asyncio.sleep(RECONNECT_WAIT_S)  # back-off between retries, not a wait for a condition
            except nats.js.errors.APIError as err:
                hint = ""
                if "stream not found" in str(err.description or err):
                    hint = (
                        f" (stream {self.stream} does not exist: the broker's operator creates it, see"
                        " docs/deployment.md, or connect once with create_stream)"
                    )
                raise ServiceError(f"nats {what}: {err.description or err}{hint}") from err

    def _raise_if_denied(self, what: str) -> None:
        if self.permission_errors:
            raise ServiceError(f"nats {what}: {self.permission_errors[-1]}")

    async def publish(self, subject: str, data: bytes, msg_id: str) -> None:
        headers = {MSG_ID_HEADER: msg_id}
        await self._retry(f"publish to {subject}", lambda: self._js.publish(subject, data, headers=headers))

    async def subscribe(self, durable: str, subject_filter: str) -> Subscription:
        config = api.ConsumerConfig(
            durable_name=durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            filter_subject=subject_filter,
            max_ack_pending=MAX_ACK_PENDING,
        )

        async def bind() -> Any:
            self.permission_errors.clear()
            sub = await self._js.pull_subscribe(
                subject_filter, durable=durable, stream=self.stream, config=config
            )
            await self._nc.flush(timeout=REQUEST_TIMEOUT_S)  # surfaces a denied inbox subscription now
            self._raise_if_denied(f"subscribe {durable} to {subject_filter}")
            bound = (await sub.consumer_info()).config.filter_subject
            if bound != subject_filter:  # nats-py binds an existing durable whatever filter is asked for
                raise ConfigError(f"nats: durable {durable!r} filters {bound!r}, not {subject_filter!r}")
            return sub

        return _NatsSubscription(await self._retry(f"subscribe {durable} to {subject_filter}", bind))

    async def subscribe_core(self, subject: str) -> Any:
        """A plain (non-JetStream) NATS subscription; raises ServiceError if the server denies it.

        nats-server may send the permission ``-ERR`` just after the PONG that answers our flush, so a
        subscription counts as accepted only after :data:`DENIAL_GRACE_S` more without a denial.
        """
        self.permission_errors.clear()
        self._denied.clear()
        sub = await self._nc.subscribe(subject)
        await self._nc.flush(timeout=REQUEST_TIMEOUT_S)
        try:
            await asyncio.wait_for(self._denied.wait(), DENIAL_GRACE_S)
        except TimeoutError:
            pass
        self._raise_if_denied(f"subscribe to {subject}")
        return sub

    @property
    def connected(self) -> bool:
        return bool(self._nc.is_connected)

    async def delete_stream(self) -> None:
        """Remove the stream and its consumers (tests and tear-down)."""
        await self._retry(f"delete stream {self.stream}", lambda: self._js.delete_stream(self.stream))

    async def close(self) -> None:
        if not self._nc.is_closed:
            await self._nc.close()


class _NatsSubscription(Subscription):
    def __init__(self, sub: Any) -> None:
        self._sub = sub

    async def fetch(self, batch: int, timeout: float) -> list[Message]:
        try:
            msgs = await self._sub.fetch(batch, timeout=timeout)
        except (TimeoutError, nats.errors.Error):
            return []  # nothing came, or the server is away: the client reconnects by itself
        return [_wrap(m) for m in msgs]

    async def close(self) -> None:
        try:
            await self._sub.unsubscribe()
        except nats.errors.Error:
            pass


def _wrap(msg: Msg) -> Message:
    meta = msg.metadata
    msg_id = (msg.headers or {}).get(MSG_ID_HEADER, "")

    async def ack() -> None:
        try:
            await msg.ack()
        except nats.errors.Error:
            pass  # lost ack => redelivery => idempotent store: safe

    async def nak() -> None:
        try:
            await msg.nak()
        except nats.errors.Error:
            pass

    return Message(msg.subject, msg.data, msg_id, meta.sequence.stream, meta.num_delivered, ack, nak)
