"""SQLite :class:`~vigil.sharing.store.Store`: the default, one file per node (or ``:memory:``).

WAL journal (readers do not block the writer) with ``synchronous=FULL``: a commit is on disk before
:meth:`put_many` returns, so "acknowledged means stored" holds across an OS crash, not only a process kill.
One connection, guarded by a lock, so the store may be called from ``asyncio.to_thread`` workers.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from vigil.errors import ServiceError
from vigil.sharing.store import SqlStore

T = TypeVar("T")

BUSY_TIMEOUT_S = 10.0
"""Seconds a writer waits for another process's write lock before failing."""


class SqliteStore(SqlStore):
    """SQLite store at ``path`` (a file path, or ``":memory:"``)."""

    dialect = "sqlite"

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as err:
            raise ServiceError(f"sqlite {self.path}: cannot open ({err})") from err
        self._migrate()

    def _run(self, work: Callable[[Any], T]) -> T:
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                result = work(cur)
                cur.execute("COMMIT")
                return result
            except sqlite3.Error as err:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise ServiceError(f"sqlite {self.path}: {err}") from err
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
