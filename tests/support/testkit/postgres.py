"""The PostgreSQL server of the tests (sharing and console): the machine's, else a private one.

The machine's server is used where it runs (127.0.0.1:5432, database ``test``, user ``postgres`` or
``root``, trust auth); else a private cluster is started on a free port for the session
(:class:`vigil.sharing.local_services.LocalPostgres`) and destroyed at its end. Nothing is ever skipped:
a server that can be neither found nor started is a failure.

``VIGIL_TEST_PG=private`` forces the private server even where the machine's runs (to prove the private
path, e.g. ``VIGIL_TEST_PG=private python -m pytest tests/api/test_store_source.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from vigil.sharing.local_services import LocalPostgres, port_open

SHARED_PG_PORT = 5432
SHARED_PG_DSNS = (
    f"host=127.0.0.1 port={SHARED_PG_PORT} user=postgres dbname=test",
    f"host=127.0.0.1 port={SHARED_PG_PORT} user=root dbname=test",
)
FORCE_ENV = "VIGIL_TEST_PG"
"""Environment variable: ``private`` forces the private server; anything else (or unset) prefers 5432."""


def shared_pg_dsn() -> str | None:
    """The first of :data:`SHARED_PG_DSNS` that connects, or None (port closed, or no DSN accepted)."""
    if os.environ.get(FORCE_ENV, "") == "private" or not port_open(SHARED_PG_PORT):
        return None
    for dsn in SHARED_PG_DSNS:
        try:
            with psycopg.connect(dsn, connect_timeout=3):
                return dsn
        except psycopg.Error:
            continue
    return None


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """libpq DSN of a PostgreSQL server: the machine's, else a private one started for the session."""
    dsn = shared_pg_dsn()
    if dsn is not None:
        yield dsn
        return
    server = LocalPostgres().start()
    try:
        yield server.dsn
    finally:
        server.destroy()


def pg_url(dsn: str, schema: str) -> str:
    """The ``postgresql://USER@HOST:PORT/DB?schema=NAME`` URL (``vigil serve``'s spelling) of ``dsn``."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    return f"postgresql://{info['user']}@{info['host']}:{info['port']}/{info['dbname']}?schema={schema}"
