"""``GET /api/v1/stream`` over a node's store (SQLite and PostgreSQL) that a writer keeps filling: a client
connected before the writes receives every warning version written, once, in order.

Independent truth: the versions are read from the written rows with ``json`` only (not through the API's
source): each row's envelope, in the order the writer wrote them, its warning records in envelope order.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from testkit.postgres import pg_url

from vigil.api import create_app
from vigil.api.storesource import open_source
from vigil.sharing.store import StoredRecord
from vigil.sharing.store_postgres import PostgresStore
from vigil.sharing.store_sqlite import SqliteStore

BATCHES = 6
PAUSE_S = 0.4  # between the writer's batches (the source polls every 0.5 s: some polls see one, some two)
TIMEOUT_S = 60.0


def _rows(run_dir: Path) -> list[StoredRecord]:
    db = run_dir / "nodes" / "north.db"
    rows = (
        sqlite3.connect(db)
        .execute(
            "SELECT message_id, sender, recipient, record_type, created_at, payload_json "
            "FROM records ORDER BY created_at, message_id"
        )
        .fetchall()
    )
    return [StoredRecord(*r) for r in rows]


def _versions(rows: list[StoredRecord]) -> list[tuple[str, int]]:
    """(``<sender>:<event_id>``, version) of every warning record in ``rows``, in order."""
    out = []
    for r in rows:
        if r.record_type != "warning":
            continue
        env = json.loads(r.payload_json)
        for rec in [env["payload"]] if env.get("payload") is not None else env["records"]:
            out.append((f"{r.sender}:{rec['event_id']}", int(rec.get("version") or 1)))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _split(rows: list[StoredRecord]) -> tuple[list[StoredRecord], list[StoredRecord]]:
    """The first half of the rows (with some warnings), and the rest (with the remaining warnings)."""
    warning_rows = [i for i, r in enumerate(rows) if r.record_type == "warning"]
    assert len(warning_rows) >= 4, "the run's store must hold warnings to stream"
    cut = warning_rows[len(warning_rows) // 2]
    return rows[:cut], rows[cut:]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path: Path):
    """(URL, a writer store, teardown) of an empty store of the parametrised kind."""
    if request.param == "sqlite":
        path = tmp_path / "north.db"
        writer = SqliteStore(path)
        yield f"sqlite://{path}", writer
        writer.close()
        return
    dsn = request.getfixturevalue("pg_dsn")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    writer = PostgresStore(dsn, schema=schema)
    yield pg_url(dsn, schema), writer
    writer.drop_schema()
    writer.close()


def test_stream_over_a_store_delivers_every_version_written_while_connected(run_dir: Path, store) -> None:
    url, writer = store
    first, rest = _split(_rows(run_dir))
    assert writer.put_many(first) == len(first)
    source = open_source(url)
    app = create_app(source)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20.0
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    expected = _versions(rest)
    start_id = len(_versions(first))
    received: list[tuple[int, str, int]] = []
    connected = threading.Event()

    def write() -> None:
        assert connected.wait(TIMEOUT_S)
        size = -(-len(rest) // BATCHES)
        for k in range(0, len(rest), size):
            writer.put_many(rest[k : k + size])
            time.sleep(PAUSE_S)

    writing = threading.Thread(target=write)
    writing.start()
    try:
        with httpx.stream(
            "GET", f"http://127.0.0.1:{port}/api/v1/stream", timeout=httpx.Timeout(TIMEOUT_S)
        ) as r:
            assert r.status_code == 200
            current: dict[str, Any] = {}
            for line in r.iter_lines():
                if line.startswith("retry:"):
                    connected.set()  # the stream's first line: the client listens before any write
                elif line.startswith("id: "):
                    current["id"] = int(line[4:])
                elif line.startswith("data: "):
                    w = json.loads(line[6:])
                    received.append((current["id"], w["event_id"], w["version"]))
                    if len(received) >= len(expected):
                        break
    finally:
        connected.set()
        writing.join(TIMEOUT_S)
        server.should_exit = True
        thread.join(10.0)
        source.close()
    assert [(e, v) for _, e, v in received] == expected
    assert [i for i, _, _ in received] == list(range(start_id, start_id + len(expected)))
    # the list endpoint agrees once the writes are in: every version of the store, the new ones last
    from fastapi.testclient import TestClient

    page = TestClient(app).get("/api/v1/warnings", params={"limit": 1000}).json()
    assert page["total"] == start_id + len(expected)
    assert [(w["event_id"], w["version"]) for w in page["items"][start_id:]] == expected


def test_tracks_stay_home_the_releaser_drops_them(run_dir: Path) -> None:
    """A node's own warnings carry their fitted track; none of the warning records its partners released to
    it does (the sharing warning record has no track field: the releaser strips it, docs/console.md)."""
    rows = [r for r in _rows(run_dir) if r.record_type == "warning"]
    assert rows
    for r in rows:
        env = json.loads(r.payload_json)
        for rec in [env["payload"]] if env.get("payload") is not None else env["records"]:
            assert "track" not in rec
    own = json.loads((run_dir / "nodes" / "north-warnings.json").read_text())["warnings"]
    mine = [w for w in own if ":" not in w["event_id"]]  # received ones are keyed <sender>:<id>
    assert mine and all(w.get("track") for w in mine)  # (a first version may hold only the pad)
    last = {w["event_id"]: w for w in mine}
    assert all(len(w["track"]) >= 2 for w in last.values())
