"""Service fixtures for the sharing tests.

NATS (JetStream) and PostgreSQL are used where they already run on this machine (127.0.0.1:4222 and
127.0.0.1:5432), else private servers are started on free ports (``vigil.sharing.local_services``);
the PostgreSQL fixture ``pg_dsn`` is ``testkit.postgres``'s, shared with the console tests. Nothing is
ever skipped: a missing service is a failure. Every test gets its own stream, subject root and PostgreSQL schema (uuid), so parallel tests
do not collide.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit.postgres import pg_dsn  # noqa: F401  (the session's PostgreSQL fixture)

from vigil.sharing.bus import Bus
from vigil.sharing.bus_memory import MemoryBus
from vigil.sharing.bus_nats import NatsBus
from vigil.sharing.local_services import LocalNats, port_open
from vigil.sharing.store import Store
from vigil.sharing.store_postgres import PostgresStore
from vigil.sharing.store_sqlite import SqliteStore

SHARED_NATS_PORT = 4222


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a JetStream-enabled nats-server: the machine's, else a private one."""
    if port_open(SHARED_NATS_PORT):
        yield f"nats://127.0.0.1:{SHARED_NATS_PORT}"
        return
    server = LocalNats(tmp_path_factory.mktemp("nats")).start()
    yield server.url
    server.stop()


@pytest.fixture()
def uid() -> str:
    """A short unique token for stream, subject and schema names of one test."""
    return uuid.uuid4().hex[:12]


@pytest.fixture()
def subject_root(uid: str) -> str:
    """A per-test subject root, so per-test streams never overlap (``t<uid>.vigil.share``)."""
    return f"t{uid}.vigil.share"


class BusFactory:
    """Opens buses of one kind inside a test's event loop. ``memory`` returns the same in-process bus on
    every open (one process, one bus); ``nats`` opens a new connection to the same stream each time."""

    def __init__(self, kind: str, nats_url: str, stream: str, subject_root: str) -> None:
        self.kind = kind
        self.nats_url = nats_url
        self.stream = stream
        self.subject_root = subject_root
        self._memory: MemoryBus | None = None
        self.used_nats = False

    async def open(self, ack_wait_s: float = 30.0) -> Bus:
        if self.kind == "memory":
            if self._memory is None:
                self._memory = MemoryBus(ack_wait_s=ack_wait_s)
            return self._memory
        self.used_nats = True
        return await NatsBus.connect(
            self.nats_url, stream=self.stream, subject_root=self.subject_root, ack_wait_s=ack_wait_s
        )

    def cleanup(self) -> None:
        if not self.used_nats:
            return

        async def drop() -> None:
            bus = await NatsBus.connect(self.nats_url, stream=self.stream, create_stream=False)
            try:
                await bus.delete_stream()
            finally:
                await bus.close()

        asyncio.run(drop())


@pytest.fixture(params=["memory", "nats"])
def bus_factory(request: pytest.FixtureRequest, uid: str, subject_root: str) -> Iterator[BusFactory]:
    """One :class:`BusFactory` per bus implementation (the shared suite runs on both)."""
    url = request.getfixturevalue("nats_url") if request.param == "nats" else ""
    factory = BusFactory(request.param, url, f"T_{uid}", subject_root)
    yield factory
    factory.cleanup()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path, uid: str) -> Iterator[Store]:
    """One fresh store per implementation (the shared suite runs on both)."""
    made: Any
    if request.param == "sqlite":
        made = SqliteStore(tmp_path / "node.db")
        yield made
        made.close()
        return
    made = PostgresStore(request.getfixturevalue("pg_dsn"), schema=f"t_{uid}")
    yield made
    made.drop_schema()
    made.close()
