"""The node's store: received records keyed by message id, and the audit log.

The interface is **synchronous** (both drivers, sqlite3 and psycopg, are); the asynchronous node loop
(:func:`vigil.sharing.ingest.ingest`) calls it through ``asyncio.to_thread`` so the bus client keeps
running during a commit. Two implementations share the SQL below and one test suite:
:class:`~vigil.sharing.store_sqlite.SqliteStore` (default) and
:class:`~vigil.sharing.store_postgres.PostgresStore` (deployments).

Inserts are idempotent (``INSERT … ON CONFLICT (message_id) DO NOTHING``): storing a redelivered message
again is a no-op, which is what makes "ack after commit" exactly-once in effect. The schema is versioned by
:data:`vigil.sharing.migrations.MIGRATIONS`, applied in order when a store opens.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from vigil.errors import DataError
from vigil.sharing.migrations import MIGRATIONS

T = TypeVar("T")

_COLUMNS = "message_id, sender, recipient, record_type, created_at, payload_json"
_SEEN_CHUNK = 500  # ids per IN (...) list: under SQLite's 999 host parameters of old builds
_INSERT = f"INSERT INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING"


@dataclass(frozen=True)
class StoredRecord:
    """One received record. ``created_at`` is UTC seconds since the UNIX epoch (the envelope's time);
    ``payload_json`` is the envelope as received (JSON text)."""

    message_id: str
    sender: str
    recipient: str
    record_type: str
    created_at: float
    payload_json: str


class Store(ABC):
    """Received records and the audit log, with a versioned schema. All methods are synchronous."""

    def put(
        self,
        message_id: str,
        sender: str,
        recipient: str,
        record_type: str,
        created_at: float,
        payload_json: str,
    ) -> bool:
        """Store one record; ``False`` (and nothing written) if ``message_id`` is already stored."""
        return (
            self.put_many(
                [StoredRecord(message_id, sender, recipient, record_type, created_at, payload_json)]
            )
            == 1
        )

    @abstractmethod
    def put_many(self, records: Sequence[StoredRecord]) -> int:
        """Store records in ONE transaction; return how many were new (the rest were already stored)."""

    @abstractmethod
    def get(self, message_id: str) -> StoredRecord | None:
        """The record stored under ``message_id``, or ``None``."""

    @abstractmethod
    def count(self, record_type: str | None = None) -> int:
        """Number of stored records (of ``record_type`` if given)."""

    @abstractmethod
    def iter_records(
        self, record_type: str | None = None, since: float | None = None
    ) -> Iterator[StoredRecord]:
        """Records ordered by ``(created_at, message_id)``; optionally only ``record_type`` and
        ``created_at >= since``."""

    def seen(self, message_id: str) -> bool:
        """Whether ``message_id`` is stored."""
        return self.get(message_id) is not None

    def seen_many(self, message_ids: Sequence[str]) -> set[str]:
        """Those of ``message_ids`` that are stored (SQL stores: one query per 500 ids)."""
        return {m for m in message_ids if self.seen(m)}

    @abstractmethod
    def append_audit(self, entry: Mapping[str, Any]) -> int:
        """Append a JSON-serialisable audit entry; return its sequence number (1, 2, … in order)."""

    @abstractmethod
    def iter_audit(self) -> Iterator[dict[str, Any]]:
        """Audit entries in sequence order, as appended."""

    @abstractmethod
    def schema_version(self) -> int:
        """Highest applied migration version."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqlStore(Store):
    """Shared SQL over a DB-API cursor; subclasses supply :meth:`_run` (one transaction) and the dialect.

    SQL here uses ``?`` placeholders; a subclass whose driver wants ``%s`` sets ``_paramstyle_format``.
    """

    dialect: str = ""
    _paramstyle_format: bool = False

    @abstractmethod
    def _run(self, work: Callable[[Any], T]) -> T:
        """Run ``work(cursor)`` inside one transaction and commit; retry policy is the subclass's."""

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._paramstyle_format else sql

    def _migrate(self) -> None:
        """Create the migrations table and apply every migration newer than the stored version."""

        def work(cur: Any) -> None:
            self._lock_schema(cur)
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, description TEXT NOT NULL)"
            )
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            current = int(cur.fetchone()[0])
            for migration in MIGRATIONS:
                if migration.version > current:
                    for statement in migration.statements(self.dialect):
                        cur.execute(statement)
                    cur.execute(
                        self._sql("INSERT INTO schema_migrations (version, description) VALUES (?, ?)"),
                        (migration.version, migration.description),
                    )

        self._run(work)

    def _lock_schema(self, cur: Any) -> None:
        """Serialise concurrent migrations (PostgreSQL overrides; SQLite's write lock already does)."""

    def schema_version(self) -> int:
        def work(cur: Any) -> int:
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            return int(cur.fetchone()[0])

        return self._run(work)

    def put_many(self, records: Sequence[StoredRecord]) -> int:
        rows = [
            (r.message_id, r.sender, r.recipient, r.record_type, float(r.created_at), r.payload_json)
            for r in records
        ]
        if not rows:
            return 0

        def work(cur: Any) -> int:
            cur.executemany(self._sql(_INSERT), rows)
            return int(cur.rowcount)

        return self._run(work)

    def seen_many(self, message_ids: Sequence[str]) -> set[str]:
        ids = list(dict.fromkeys(message_ids))

        def work(cur: Any) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(ids), _SEEN_CHUNK):
                chunk = ids[start : start + _SEEN_CHUNK]
                marks = ", ".join("?" * len(chunk))
                cur.execute(self._sql(f"SELECT message_id FROM records WHERE message_id IN ({marks})"), chunk)
                found.update(row[0] for row in cur.fetchall())
            return found

        return self._run(work) if ids else set()

    def get(self, message_id: str) -> StoredRecord | None:
        def work(cur: Any) -> Any:
            cur.execute(self._sql(f"SELECT {_COLUMNS} FROM records WHERE message_id = ?"), (message_id,))
            return cur.fetchone()

        row = self._run(work)
        return None if row is None else StoredRecord(*row)

    def count(self, record_type: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM records"
        params: tuple[str, ...] = ()
        if record_type is not None:
            sql, params = sql + " WHERE record_type = ?", (record_type,)

        def work(cur: Any) -> int:
            cur.execute(self._sql(sql), params)
            return int(cur.fetchone()[0])

        return self._run(work)

    def iter_records(
        self, record_type: str | None = None, since: float | None = None
    ) -> Iterator[StoredRecord]:
        clauses: list[str] = []
        params: list[str | float] = []
        if record_type is not None:
            clauses.append("record_type = ?")
            params.append(record_type)
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(float(since))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_COLUMNS} FROM records{where} ORDER BY created_at, message_id"

        def work(cur: Any) -> list[Any]:
            cur.execute(self._sql(sql), tuple(params))
            return list(cur.fetchall())

        for row in self._run(work):
            yield StoredRecord(*row)

    def append_audit(self, entry: Mapping[str, Any]) -> int:
        try:
            text = json.dumps(dict(entry), sort_keys=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as err:
            raise DataError(f"audit entry: not JSON-serialisable ({err})") from err

        def work(cur: Any) -> int:
            cur.execute(self._sql("INSERT INTO audit (entry_json) VALUES (?) RETURNING seq"), (text,))
            return int(cur.fetchone()[0])

        return self._run(work)

    def iter_audit(self) -> Iterator[dict[str, Any]]:
        def work(cur: Any) -> list[Any]:
            cur.execute("SELECT entry_json FROM audit ORDER BY seq")
            return list(cur.fetchall())

        for (text,) in self._run(work):
            yield json.loads(text)
