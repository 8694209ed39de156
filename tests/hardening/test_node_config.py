"""A node whose ``db`` cannot be a store, or whose agreement can never release anything or has expired,
refuses to start in one line naming the field (before: exit 3 with a store error naming no field, a 30 s
wait on a malformed PostgreSQL URL, or a node running under an agreement that allows nothing)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from vigil.sharing.agreement import parse_agreement
from vigil.sharing.keys import Signer, write_key_files

from .kit import EXAMPLES, one_error_line, write_yaml


def _node(root: Path, agreement: dict | None = None, **fields: str) -> Path:
    keys = root / "keys"
    write_key_files(Signer.generate("north"), keys)
    write_key_files(Signer.generate("east"), keys)
    path = root / "agreement.yaml"
    if agreement is None:
        shutil.copy(EXAMPLES / "agreements" / "north-east.yaml", path)
    else:
        write_yaml(path, agreement)
    doc = {
        "node": "east",
        "key": str(keys / "east.key"),
        "partner_keys": str(keys),
        "agreements": [str(path)],
        "bus": {"url": "memory://"},
        "db": "sqlite://:memory:",
        "audit_log": str(root / "audit.jsonl"),
    }
    return write_yaml(root / "node.yaml", doc | fields)


@pytest.mark.parametrize(
    ("db", "needle"),
    [
        ("mysql://u@h/db", "expected sqlite:///FILE"),
        ("sqlite://", "names no file"),
        ("postgresql://u@[::1/db", "malformed PostgreSQL URL"),
        ("postgresql://u@127.0.0.1:notaport/db", "port 'notaport'"),
        ("postgresql://u@127.0.0.1:99999/db", "port '99999'"),
    ],
)
def test_a_node_db_url_of_no_usable_form_is_one_line_naming_db(capsys, tmp_path, db, needle):
    config = _node(tmp_path, db=db)
    one_error_line(capsys, ["node", "--config", config], "node.yaml", "db", needle)
    assert not (tmp_path / "audit.jsonl").exists()  # refused before anything is written


@pytest.mark.parametrize("db", ["sqlite:////proc/vigil-node.db", "sqlite:///no-such-folder/node.db"])
def test_a_node_sqlite_file_that_cannot_be_created_is_one_line_naming_db(capsys, tmp_path, db):
    config = _node(tmp_path, db=db)
    line = one_error_line(capsys, ["node", "--config", config], "db:", "cannot append")
    assert "/proc/vigil-node.db" in line or str(tmp_path / "no-such-folder" / "node.db") in line
    assert not (tmp_path / "audit.jsonl").exists()


def _agreement(valid_from: dt.datetime, valid_until: dt.datetime, delay_s: float) -> dict:
    doc = yaml.safe_load((EXAMPLES / "agreements" / "north-east.yaml").read_text(encoding="utf-8"))
    doc["valid_from"], doc["valid_until"] = (
        t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (valid_from, valid_until)
    )
    doc["directions"]["east->north"]["delay_s"] = delay_s
    return doc


@pytest.mark.parametrize("delay_s", [3600.0, 7200.0])
def test_an_agreement_whose_delay_is_not_shorter_than_its_validity_is_refused(capsys, tmp_path, delay_s):
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    doc = _agreement(start, start + dt.timedelta(hours=1), delay_s)
    with pytest.raises(Exception) as err:
        parse_agreement(doc, "a.yaml")
    assert "a.yaml: directions.east->north.delay_s:" in str(err.value) and "3600 s" in str(err.value)
    one_error_line(
        capsys, ["node", "--config", _node(tmp_path, doc)], "directions.east->north.delay_s", f"{delay_s:g}"
    )
    # one second shorter than the span is allowed: the bound is the span itself, not a tuned margin
    parse_agreement(_agreement(start, start + dt.timedelta(hours=1), 3599.0))


def test_a_node_refuses_to_start_under_an_agreement_that_has_expired(capsys, tmp_path):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    doc = _agreement(now - dt.timedelta(days=30), now - dt.timedelta(seconds=5), 0.0)
    line = one_error_line(
        capsys, ["node", "--config", _node(tmp_path, doc)], "agreement.yaml", "valid_until", "expired"
    )
    assert doc["valid_until"].replace("Z", "") in line.replace("+00:00", "")
    assert not (tmp_path / "audit.jsonl").exists()


def test_a_node_without_its_partners_key_refuses_to_start(capsys, tmp_path):
    config = _node(tmp_path)
    (tmp_path / "keys" / "north.pub").unlink()
    one_error_line(capsys, ["node", "--config", config], "partner_keys", "north.pub")
    assert not (tmp_path / "audit.jsonl").exists()


def test_a_node_whose_audit_log_cannot_be_written_refuses_to_start(capsys, tmp_path):
    config = _node(tmp_path, audit_log="/proc/vigil-audit.jsonl")
    one_error_line(
        capsys, ["node", "--config", config], "audit_log", "cannot append", "/proc/vigil-audit.jsonl"
    )
