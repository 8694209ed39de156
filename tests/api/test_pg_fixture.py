"""``testkit.postgres.pg_dsn``: the tests' PostgreSQL is a real, writable server, and
``VIGIL_TEST_PG=private`` really gives a private one (not the machine's 5432)."""

from __future__ import annotations

import os
import uuid

import psycopg
from testkit.postgres import FORCE_ENV, SHARED_PG_PORT


def test_the_session_postgres_accepts_writes_and_is_private_when_forced(pg_dsn: str) -> None:
    port = int(psycopg.conninfo.conninfo_to_dict(pg_dsn)["port"])
    if os.environ.get(FORCE_ENV) == "private":
        assert port != SHARED_PG_PORT, pg_dsn
    table = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (x integer)")
        conn.execute(f"INSERT INTO {table} VALUES (7), (35)")
        assert conn.execute(f"SELECT sum(x) FROM {table}").fetchone() == (42,)
        conn.execute(f"DROP TABLE {table}")
