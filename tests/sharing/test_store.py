"""One suite, two stores: SqliteStore and PostgresStore must behave the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.errors import DataError
from vigil.sharing.migrations import MIGRATIONS
from vigil.sharing.store import Store, StoredRecord
from vigil.sharing.store_sqlite import SqliteStore


def _record(i: int, record_type: str = "track", created_at: float | None = None) -> StoredRecord:
    return StoredRecord(
        f"msg-{i:04d}",
        "north",
        "east",
        record_type,
        1_772_366_400.0 + i if created_at is None else created_at,
        f'{{"i": {i}}}',
    )


def test_put_is_idempotent_by_message_id(store: Store) -> None:
    rec = _record(1)
    assert store.put(*vars(rec).values()) is True
    assert store.put(rec.message_id, "other", "other", "warning", 0.0, "{}") is False
    assert store.get(rec.message_id) == rec  # the first write wins, byte for byte
    assert store.count() == 1
    assert store.seen(rec.message_id) and not store.seen("msg-9999")
    assert store.get("msg-9999") is None


def test_put_many_counts_only_new_records(store: Store) -> None:
    assert store.put_many([_record(i) for i in range(10)]) == 10
    batch = [_record(i) for i in range(5, 15)] + [_record(14), _record(15)]  # 5 old, 6 new, 1 repeated
    assert store.put_many(batch) == 6
    assert store.count() == 16
    assert store.put_many([]) == 0


def test_iter_records_orders_by_time_and_filters(store: Store) -> None:
    records = [_record(i, "warning" if i % 4 == 0 else "track", created_at=100.0 - i) for i in range(12)]
    store.put_many(records)
    assert [r.message_id for r in store.iter_records()] == [f"msg-{i:04d}" for i in reversed(range(12))]
    warnings = list(store.iter_records(record_type="warning"))
    assert [r.created_at for r in warnings] == [92.0, 96.0, 100.0]
    assert store.count("warning") == 3 and store.count("track") == 9
    recent = list(store.iter_records(since=95.0))
    assert {r.message_id for r in recent} == {f"msg-{i:04d}" for i in range(6)}  # 100 - i >= 95
    assert list(store.iter_records(record_type="track", since=99.5)) == []


def test_audit_log_keeps_append_order(store: Store) -> None:
    entries = [
        {"kind": "release", "n": i, "hash": f"{i:064x}", "detail": {"ok": i % 2 == 0}} for i in range(7)
    ]
    seqs = [store.append_audit(e) for e in entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == 7
    assert list(store.iter_audit()) == entries


def test_audit_rejects_what_json_cannot_hold(store: Store) -> None:
    with pytest.raises(DataError, match="audit entry"):
        store.append_audit({"x": float("nan")})
    assert list(store.iter_audit()) == []


def test_schema_is_at_latest_migration(store: Store) -> None:
    assert store.schema_version() == max(m.version for m in MIGRATIONS) == len(MIGRATIONS)
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def test_reopening_sqlite_keeps_data_and_applies_no_migration_twice(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    with SqliteStore(path) as first:
        first.put_many([_record(i) for i in range(3)])
    with SqliteStore(path) as again:
        assert again.count() == 3
        rows = again._run(lambda cur: cur.execute("SELECT version FROM schema_migrations").fetchall())
        assert [v for (v,) in rows] == [m.version for m in MIGRATIONS]
        mode = again._run(lambda cur: cur.execute("PRAGMA journal_mode").fetchone()[0])
        assert mode == "wal"
