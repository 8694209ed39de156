"""The task store: whole records or none, floats exact, a stray temporary file ignored."""

from __future__ import annotations

import json

import pytest

from vigil.campaign import TaskStore
from vigil.errors import DataError


def test_record_round_trips_exactly_and_leaves_no_temporary_file(tmp_path):
    store = TaskStore(tmp_path / "tasks")
    rec = {
        "key": "a__s0000001",
        "status": "ok",
        "x": 0.1 + 0.2,
        "tiny": 5e-324,
        "big": 1.7976931348623157e308,
    }
    store.write(rec)
    assert store.read("a__s0000001") == rec
    assert [p.name for p in (tmp_path / "tasks").iterdir()] == ["a__s0000001.json"]


def test_only_ok_records_count_as_done_and_stray_temporaries_are_ignored(tmp_path):
    store = TaskStore(tmp_path)
    store.write({"key": "a", "status": "ok"})
    store.write({"key": "b", "status": "failed", "error": "RuntimeError: x"})
    (tmp_path / ".c.123.tmp").write_text('{"key": "c", "status": "o', encoding="utf-8")  # a write cut short
    assert store.done(["a", "b", "c"]) == {"a"}
    assert [r["key"] for r in store.records(["c", "b", "a"])] == ["b", "a"]


def test_overwrite_replaces_the_whole_record(tmp_path):
    store = TaskStore(tmp_path)
    store.write({"key": "a", "status": "failed", "error": "e"})
    store.write({"key": "a", "status": "ok"})
    assert json.loads((tmp_path / "a.json").read_text()) == {"key": "a", "status": "ok"}


def test_torn_record_counts_as_absent_and_a_foreign_file_is_one_line(tmp_path):
    (tmp_path / "a.json").write_text('{"key": "a", "sta', encoding="utf-8")
    store = TaskStore(tmp_path)
    assert store.read("a") is None and store.done(["a"]) == set()
    (tmp_path / "b.json").write_text('{"key": "other"}', encoding="utf-8")
    with pytest.raises(DataError, match=r"b\.json: not the task record of b"):
        store.read("b")
