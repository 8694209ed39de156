"""The PostgreSQL the console's store tests read and write: the first reachable of the machine's DSNs."""

from __future__ import annotations

import psycopg

PG_DSNS = ("host=127.0.0.1 port=5432 user=postgres dbname=test", "host=127.0.0.1 port=5432 user=root dbname=test")


def pg_dsn() -> str:
    """The first DSN that connects; AssertionError naming them when none does (the tests never skip)."""
    for dsn in PG_DSNS:
        try:
            with psycopg.connect(dsn, connect_timeout=3):
                return dsn
        except psycopg.Error:
            continue
    raise AssertionError(f"no PostgreSQL at 127.0.0.1:5432 (tried {PG_DSNS})")
