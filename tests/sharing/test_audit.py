"""Audit log: an honest chain verifies; edits, removals, reorders, foreign signatures and truncation are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vigil import cli
from vigil.sharing.audit import (
    GENESIS_HASH,
    AuditLog,
    JsonlAuditSink,
    entry_hash,
    verify,
)
from vigil.sharing.envelope import b64url, canonical_bytes
from vigil.sharing.keys import write_key_files

from .policykit import EAST, NORTH, T0


def honest_log(path: Path, n: int = 6) -> list[dict]:
    log = AuditLog(JsonlAuditSink(path, fsync=False), NORTH, clock=lambda: T0)
    kinds = ["release", "denial", "receipt", "rejection"]
    return [log.append(kinds[i % 4], {"i": i, "msg_id": f"{i:032x}"}) for i in range(n)]


def rewrite(path: Path, entries: list[dict]) -> None:
    path.write_bytes(b"".join(canonical_bytes(e) + b"\n" for e in entries))


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_honest_log_verifies_and_reports_its_head(tmp_path):
    path = tmp_path / "audit.jsonl"
    entries = honest_log(path)
    result = verify(path, NORTH.public_key, expected_head=entries[-1]["hash"])
    assert (result.ok, result.count, result.head) == (True, 6, entries[-1]["hash"])
    assert entries[0]["prev_hash"] == GENESIS_HASH and entries[3]["prev_hash"] == entries[2]["hash"]
    assert entries[2]["hash"] == entry_hash(entries[2])


def test_reopening_a_log_continues_its_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    honest_log(path, 3)
    entry = AuditLog(JsonlAuditSink(path), NORTH, clock=lambda: T0).append("receipt", {"again": True})
    assert entry["seq"] == 4
    assert verify(path, NORTH.public_key).ok


def _edit(entries):
    entries[3]["detail"]["i"] = 99


def _remove(entries):
    del entries[2]


def _reorder(entries):
    entries[3], entries[4] = entries[4], entries[3]


def _rehash(entries):  # edit and recompute the hash, but the signature cannot follow
    entries[4]["detail"]["i"] = 99
    entries[4]["hash"] = entry_hash(entries[4])


def _resign_with_other_key(entries):  # a whole forged chain from entry 2 on, signed by another node
    for i in range(1, len(entries)):
        entries[i]["detail"]["forged"] = True
        entries[i]["prev_hash"] = entries[i - 1]["hash"]
        entries[i]["hash"] = entry_hash(entries[i])
        entries[i]["signature"] = b64url(EAST.sign(bytes.fromhex(entries[i]["hash"])))


def _insert(entries):
    entries.insert(1, dict(entries[1]))


def _drop_field(entries):
    del entries[5]["signature"]


@pytest.mark.parametrize(
    ("tamper", "first_bad", "reason"),
    [
        (_edit, 4, "entry edited"),
        (_remove, 3, "seq 4 where 3 was expected"),
        (_reorder, 4, "seq 5 where 4 was expected"),
        (_rehash, 5, "signature does not verify"),
        (_resign_with_other_key, 2, "signature does not verify"),
        (_insert, 3, "seq 2 where 3 was expected"),
        (_drop_field, 6, "missing or unexpected"),
    ],
)
def test_tampered_log_names_its_first_bad_entry(tmp_path, tamper, first_bad, reason):
    path = tmp_path / "audit.jsonl"
    honest_log(path)
    entries = lines(path)
    tamper(entries)
    rewrite(path, entries)
    result = verify(path, NORTH.public_key)
    assert (result.ok, result.first_bad_seq) == (False, first_bad)
    assert reason in result.reason


def test_garbage_line_is_named(tmp_path):
    path = tmp_path / "audit.jsonl"
    honest_log(path, 3)
    with open(path, "ab") as handle:
        handle.write(b"{not json\n")
    result = verify(path, NORTH.public_key)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 4, "not a JSON line")


def test_truncation_is_caught_only_against_a_kept_head(tmp_path):
    path = tmp_path / "audit.jsonl"
    entries = honest_log(path)
    rewrite(path, entries[:-2])
    assert verify(path, NORTH.public_key).ok  # a shorter valid chain, by construction
    result = verify(path, NORTH.public_key, expected_head=entries[-1]["hash"])
    assert (result.ok, result.first_bad_seq) == (False, 5) and "removed from the end" in result.reason


def test_cli_audit_verify_exit_codes_and_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_COMMAND_MODULES", ("vigil.sharing.commands",))
    import typer

    monkeypatch.setattr(cli, "app", typer.Typer(name="vigil", no_args_is_help=True))
    path = tmp_path / "audit.jsonl"
    honest_log(path)
    _, pub = write_key_files(NORTH, tmp_path / "keys")
    assert cli.main(["audit", "verify", str(path), "--key", str(pub)]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
    entries = lines(path)
    _edit(entries)
    rewrite(path, entries)
    assert cli.main(["audit", "verify", str(path), "--key", str(pub)]) == 1
    err = capsys.readouterr().err.strip()
    assert (
        "\n" not in err
        and err == f"error: audit log {path}: entry 4: hash does not match the entry's content (entry edited)"
    )
    assert cli.main(["audit", "verify", str(path), "--key", str(tmp_path / "missing.pub")]) == 2
    assert "missing.pub: cannot read a PEM public key" in capsys.readouterr().err
