"""``vigil serve STORE_URL``: the console over a node's store, SQLite (``vigil run`` keeps ``nodes/<node>.db``)
and PostgreSQL (the same records copied into a schema of the tests' server: the machine's, else a private one).

Independent truth: the records and audit read straight from the files with ``sqlite3`` and ``json`` (not
through :mod:`vigil.sharing.store`): each endpoint must return exactly those records, no more, no fewer.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from fastapi.testclient import TestClient
from testkit.consolerun import TOKENS
from testkit.postgres import pg_url

from vigil.api import create_app
from vigil.api.storesource import StoreSource, open_source
from vigil.api.tokens import load_tokens
from vigil.errors import ConfigError
from vigil.sharing.store import StoredRecord
from vigil.sharing.store_postgres import PostgresStore


def _truth(db: Path, partner: str | None) -> dict[str, Any]:
    """What ``partner``'s view of the store must hold, read with sqlite3 and json only."""
    rows = (
        sqlite3.connect(db)
        .execute("SELECT sender, recipient, record_type, payload_json FROM records")
        .fetchall()
    )
    versions: list[tuple[str, int]] = []
    sensors: set[str] = set()
    for sender, recipient, kind, text in rows:
        if partner is not None and partner not in (sender, recipient):
            continue
        env = json.loads(text)
        contents = [env["payload"]] if env.get("payload") is not None else env["records"]
        for rec in contents:
            if kind == "warning":
                versions.append((f"{sender}:{rec['event_id']}", int(rec.get("version") or 1)))
            elif kind == "observation":
                sensors.add(rec["sensor_id"])
    audit_file = db.with_name(f"{db.stem}-audit.jsonl")
    audit = [json.loads(line) for line in audit_file.read_text().splitlines() if line.strip()]
    audit = [e for e in audit if partner is None or e["node"] == partner]
    return {
        "versions": versions,
        "events": Counter(e for e, _ in versions),
        "sensors": sensors,
        "audit": [(e["seq"], e["hash"]) for e in audit],
    }


def _all(client: TestClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        r = client.get(
            url, params={"offset": len(out), "limit": 7}, headers=headers
        )  # small pages: paging too
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        if len(out) >= r.json()["total"]:
            assert len(out) == r.json()["total"]
            return out


def _check_view(client: TestClient, headers: dict[str, str], truth: dict[str, Any]) -> None:
    warnings = _all(client, "/api/v1/warnings", headers)
    assert sorted((w["event_id"], w["version"]) for w in warnings) == sorted(truth["versions"])
    issued = [w["issued_at"] for w in warnings]
    assert issued == sorted(issued)
    events = _all(client, "/api/v1/events", headers)
    assert {e["event_id"]: e["versions"] for e in events} == dict(truth["events"])
    sensors = _all(client, "/api/v1/sensors", headers)
    assert len(sensors) == len(truth["sensors"]) and {s["sensor_id"] for s in sensors} == truth["sensors"]
    audit = _all(client, "/api/v1/audit", headers)
    assert [(e["seq"], e["hash"]) for e in audit] == truth["audit"]


@pytest.fixture(scope="module")
def north_db(run_dir: Path) -> Path:
    db = run_dir / "nodes" / "north.db"
    rows = sqlite3.connect(db).execute("SELECT record_type, COUNT(*) FROM records GROUP BY 1").fetchall()
    assert {"warning", "observation"} <= {k for k, n in rows if n > 0}, "the run's store must hold both kinds"
    return db


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tokens") / "tokens.yaml"
    path.write_text(yaml.safe_dump({"tokens": [{"partner": p, "token": t} for p, t in TOKENS.items()]}))
    return path


def test_sqlite_store_serves_exactly_its_records_to_each_partner(north_db: Path, token_file: Path) -> None:
    source = open_source(f"sqlite://{north_db}")
    assert isinstance(source, StoreSource) and source.partners == ["east", "north"]
    client = TestClient(create_app(source, load_tokens(token_file)))
    for partner, token in TOKENS.items():
        truth = _truth(north_db, partner)
        assert truth["versions"] and truth["sensors"]
        _check_view(client, {"Authorization": f"Bearer {token}"}, truth)
    assert _truth(north_db, "north")["audit"], (
        "north's audit must reach the view, or the audit check is empty"
    )
    assert not _truth(north_db, "east")["audit"]  # north's store holds no entry of east's log


def test_sqlite_store_without_tokens_serves_the_whole_store(north_db: Path) -> None:
    client = TestClient(create_app(open_source(f"sqlite://{north_db}"), None))
    _check_view(client, {}, _truth(north_db, None))


@pytest.mark.parametrize("url", ["/api/v1/events", "/api/v1/warnings", "/api/v1/sensors", "/api/v1/audit"])
@pytest.mark.parametrize("header", [None, "Bearer not-a-token"])
def test_store_without_a_valid_token_is_401(
    north_db: Path, token_file: Path, url: str, header: str | None
) -> None:
    client = TestClient(create_app(open_source(f"sqlite://{north_db}"), load_tokens(token_file)))
    r = client.get(url, headers={} if header is None else {"Authorization": header})
    assert r.status_code == 401 and r.json()["detail"].startswith("Authorization")


@pytest.mark.parametrize("url", ["sqlite:///no/such/node.db", "mysql://host/db", "file:///x.db"])
def test_bad_store_url_is_one_config_error_naming_it(url: str) -> None:
    with pytest.raises(ConfigError, match=url.split("://")[0]):
        open_source(url)


def test_postgres_store_serves_the_same_records(north_db: Path, token_file: Path, pg_dsn: str) -> None:
    dsn = pg_dsn
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg = PostgresStore(dsn, schema=schema)
    try:
        rows = (
            sqlite3.connect(north_db)
            .execute(
                "SELECT message_id, sender, recipient, record_type, created_at, payload_json FROM records"
            )
            .fetchall()
        )
        assert pg.put_many([StoredRecord(*r) for r in rows]) == len(rows)
        audit_file = north_db.with_name("north-audit.jsonl")
        for line in audit_file.read_text().splitlines():
            pg.append_audit(json.loads(line))
        url = pg_url(dsn, schema)
        client = TestClient(create_app(open_source(url), load_tokens(token_file)))
        for partner, token in TOKENS.items():
            _check_view(client, {"Authorization": f"Bearer {token}"}, _truth(north_db, partner))
        assert client.get("/api/v1/warnings").status_code == 401
    finally:
        pg.drop_schema()
        pg.close()


def test_a_sqlite_file_that_is_not_a_store_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    before = other.read_bytes()
    with pytest.raises(ConfigError, match="not a node's store"):
        open_source(f"sqlite://{other}")
    assert other.read_bytes() == before
    text = tmp_path / "notes.db"
    text.write_text("not a database at all, just some text long enough to have a header " * 4)
    with pytest.raises(ConfigError, match="not a SQLite database"):
        open_source(f"sqlite://{text}")


def test_postgres_schema_without_a_store_is_refused_and_not_created(pg_dsn: str) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_url(pg_dsn, schema)
    with pytest.raises(ConfigError, match=f"schema '{schema}' holds no node's store"):
        open_source(url)
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone() == (0,)
