"""PostgreSQL :class:`~vigil.sharing.store.Store` for deployments (psycopg 3).

Survives a server restart: every call runs as one transaction in :meth:`PostgresStore._run`; when the
connection breaks (``psycopg.OperationalError``: admin shutdown, refused, reset) the store drops the
connection, reconnects and runs the whole transaction again, for up to ``retry_s`` seconds. Rerunning is
safe for records (idempotent insert); an audit append whose COMMIT reply was lost may be appended twice,
which the audit chain's verifier detects (docs/deployment.md).

``schema`` puts the tables in their own PostgreSQL schema (created if absent) through ``search_path``:
tests use one per test; a deployment may keep the default ``public``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from vigil.errors import ConfigError, ServiceError
from vigil.sharing.store import SqlStore

T = TypeVar("T")

DEFAULT_RETRY_S = 30.0
"""Seconds to keep reconnecting before a call fails with ServiceError."""
RECONNECT_WAIT_S = 0.2
"""Seconds between reconnection attempts."""
CONNECT_TIMEOUT_S = 5
"""libpq connect_timeout (integer seconds)."""
_MIGRATION_LOCK_KEY = 0x5649_4749  # "VIGI": advisory lock key serialising concurrent migrations
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresStore(SqlStore):
    """PostgreSQL store; ``dsn`` is a libpq connection string or URI."""

    dialect = "postgres"
    _paramstyle_format = True

    def __init__(self, dsn: str, schema: str = "public", retry_s: float = DEFAULT_RETRY_S) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise ConfigError(f"postgres schema {schema!r}: must match [a-z_][a-z0-9_]{{0,62}}")
        self.dsn = dsn
        self.schema = schema
        self.retry_s = retry_s
        self.reconnects = 0
        self._conn: psycopg.Connection[Any] | None = None
        self._run(lambda cur: cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        self._migrate()

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
                self.reconnects += 1
            self._conn = psycopg.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                options=f"-c search_path={self.schema}",
            )
        return self._conn

    def _run(self, work: Callable[[Any], T]) -> T:
        end = time.monotonic() + self.retry_s
        while True:
            try:
                conn = self._connect()
                with conn.transaction(), conn.cursor() as cur:
                    return work(cur)
            except psycopg.OperationalError as err:
                if self._conn is not None:
                    self._conn.close()  # marks it closed: the next attempt reconnects
                if time.monotonic() > end:
                    raise ServiceError(f"postgres: unreachable for {self.retry_s:g} s ({err})") from err
                time.sleep(RECONNECT_WAIT_S)  # back-off between reconnects
            except psycopg.Error as err:
                raise ServiceError(f"postgres: {type(err).__name__}: {err}".splitlines()[0]) from err

    def _lock_schema(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_KEY,))

    def drop_schema(self) -> None:
        """Drop this store's schema and everything in it (tests). Refuses ``public``."""
        if self.schema == "public":
            raise ConfigError("postgres: refusing to drop schema public")
        self._run(lambda cur: cur.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
