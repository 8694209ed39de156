"""Hash-chained, signed, append-only audit log of every release, denial, receipt and rejection.

Each entry is ``{seq, time, node, kind, detail, prev_hash, hash, signature}``: ``seq`` counts from 1,
``time`` is UTC POSIX seconds, ``prev_hash`` is the previous entry's ``hash`` (64 zeros for the first),
``hash`` is SHA-256 (hex) of the RFC 8785 canonical JSON of the entry without ``hash`` and ``signature``,
and ``signature`` is the node's Ed25519 signature of the 32 hash bytes (base64url). Editing an entry breaks
its hash; removing or reordering breaks ``seq`` and ``prev_hash``; rewriting the chain needs the node's
private key. Removing entries *from the end* leaves a valid shorter chain: compare the head hash that
:func:`verify` reports with one kept elsewhere (``expected_head``) to catch that.

Storage is behind :class:`AuditSink` (``append_audit`` / ``iter_audit``, the same two methods as
:class:`vigil.sharing.store.Store`, so a SQL store can hold the log): :class:`JsonlAuditSink` writes one
canonical JSON object per line (flushed and fsynced), :class:`MemoryAuditSink` is the in-memory twin.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..errors import DataError
from .envelope import b64url, b64url_decode, canonical_bytes
from .keys import Signer, verify_signature

GENESIS_HASH = "0" * 64
AUDIT_KINDS = ("release", "denial", "receipt", "rejection")
ENTRY_KEYS = frozenset({"seq", "time", "node", "kind", "detail", "prev_hash", "hash", "signature"})
RECENT_JUDGEMENTS = 16_384
"""Receipts and rejections :attr:`AuditLog.judged` remembers (raw SHA-256 → outcome): far more than the
deliveries a killed node held unacknowledged (one fetch of at most 512), which the bus delivers again."""


class AuditSink(Protocol):
    """Where entries live. ``append_audit`` stores one entry durably; ``iter_audit`` yields them in order."""

    def append_audit(self, entry: Mapping[str, Any]) -> int: ...

    def iter_audit(self) -> Iterator[dict[str, Any]]: ...


class MemoryAuditSink:
    """In-memory audit sink (tests, embedded demo)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def append_audit(self, entry: Mapping[str, Any]) -> int:
        self.entries.append(dict(entry))
        return len(self.entries)

    def iter_audit(self) -> Iterator[dict[str, Any]]:
        return iter(list(self.entries))


class JsonlAuditSink:
    """JSON-lines file sink: one canonical JSON entry per line, flushed and fsynced per append."""

    def __init__(self, path: Path, fsync: bool = True) -> None:
        self.path, self.fsync = Path(path), fsync
        self._count: int | None = None

    def append_audit(self, entry: Mapping[str, Any]) -> int:
        line = canonical_bytes(dict(entry)) + b"\n"
        with open(self.path, "ab") as handle:
            handle.write(line)
            handle.flush()
            if self.fsync:
                os.fsync(handle.fileno())
        if self._count is None:  # first append of this process: count what the file holds, new line included
            self._count = sum(1 for _ in read_jsonl(self.path))
        else:
            self._count += 1
        return self._count

    def iter_audit(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():  # a new log
            return
        for number, entry in read_jsonl(self.path):
            if isinstance(entry, str):
                raise DataError(f"{self.path}:{number}: {entry}")
            yield entry


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # other JSON parsers keep the first or the last: the entry would mean two things
            raise _DuplicateKey(f"key {key[:40]!r} appears twice in one object")
        out[key] = value
    return out


def _line_entry(raw: bytes) -> dict[str, Any] | str:
    """The entry of one line, or why it is not one: JSON, an object, no duplicate keys, and written in
    its canonical form (RFC 8785), the only form :class:`JsonlAuditSink` writes."""
    try:
        entry = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _DuplicateKey as err:
        return f"duplicate key: {err}"
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "not a JSON line"
    if not isinstance(entry, dict):
        return "not a JSON object"
    try:
        canonical = canonical_bytes(entry)
    except (ValueError, TypeError) as err:
        return f"not canonicalisable ({err})"
    if raw.rstrip(b"\r\n") != canonical:
        return "not in canonical form (RFC 8785): the line was rewritten by something other than the log"
    return entry


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """``(line number, entry)`` per non-empty line, or ``(line number, reason)`` when a line is not an
    entry (:func:`_line_entry`)."""
    try:
        handle = open(path, "rb")
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            yield number, _line_entry(raw)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``entry`` without ``hash`` and ``signature``."""
    body = {k: v for k, v in entry.items() if k not in ("hash", "signature")}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


class AuditLog:
    """Appends signed, chained entries to ``sink``, continuing the chain already there."""

    def __init__(self, sink: AuditSink, signer: Signer, clock: Callable[[], float] = time.time) -> None:
        self.sink, self.signer, self.clock = sink, signer, clock
        self.seq, self.head = 0, GENESIS_HASH
        self.judged: dict[str, str] = {}
        for entry in sink.iter_audit():
            self.seq, self.head = entry["seq"], entry["hash"]
            self._note(entry)

    def _note(self, entry: Mapping[str, Any]) -> None:
        """Remember the outcome (``receipt`` or the rejection's kind) of the message bytes an entry judged."""
        detail = entry.get("detail")
        if entry.get("kind") not in ("receipt", "rejection") or not isinstance(detail, dict):
            return
        sha = detail.get("raw_sha256")
        if isinstance(sha, str):
            self.judged.pop(sha, None)
            self.judged[sha] = "receipt" if entry["kind"] == "receipt" else str(detail.get("kind"))
            if len(self.judged) > RECENT_JUDGEMENTS:
                del self.judged[next(iter(self.judged))]

    def judged_as(self, raw_sha256: str) -> str | None:
        """The outcome this log last recorded for these message bytes (recent ones only), or None."""
        return self.judged.get(raw_sha256)

    def append(self, kind: str, detail: Mapping[str, Any]) -> dict[str, Any]:
        """Append one entry of ``kind`` (release|denial|receipt|rejection); returns it."""
        if kind not in AUDIT_KINDS:
            raise ValueError(f"audit kind {kind!r} is not one of {AUDIT_KINDS}")
        entry: dict[str, Any] = {
            "seq": self.seq + 1,
            "time": float(self.clock()),
            "node": self.signer.node_id,
            "kind": kind,
            "detail": dict(detail),
            "prev_hash": self.head,
        }
        entry["hash"] = entry_hash(entry)
        entry["signature"] = b64url(self.signer.sign(bytes.fromhex(entry["hash"])))
        self.sink.append_audit(entry)
        self.seq, self.head = entry["seq"], entry["hash"]
        self._note(entry)
        return entry


@dataclass(frozen=True)
class VerifyResult:
    """``ok``; else ``first_bad_seq`` (the position where the chain first breaks) and ``reason``.
    ``count`` and ``head`` describe the valid prefix (entries checked good, last good hash)."""

    ok: bool
    first_bad_seq: int | None
    reason: str
    count: int
    head: str


def _entry_problem(entry: dict[str, Any] | str, seq: int, prev: str, key: Ed25519PublicKey) -> str | None:
    if isinstance(entry, str):
        return entry
    if set(entry) != ENTRY_KEYS:
        return f"fields {sorted(set(entry) ^ ENTRY_KEYS)} missing or unexpected"
    if entry["seq"] != seq:
        return f"seq {entry['seq']!r} where {seq} was expected (entry removed, inserted or reordered)"
    if entry["prev_hash"] != prev:
        return "prev_hash does not match the previous entry's hash (entry removed or reordered)"
    try:
        computed = entry_hash(entry)
    except ValueError as err:
        return f"not canonicalisable ({err})"
    if computed != entry["hash"]:
        return "hash does not match the entry's content (entry edited)"
    sig = b64url_decode(entry["signature"]) if isinstance(entry["signature"], str) else None
    if sig is None or not verify_signature(key, sig, bytes.fromhex(computed)):
        return "signature does not verify with this key (edited and re-hashed, or signed by another key)"
    return None


def verify_entries(
    entries: Iterable[dict[str, Any] | str], public_key: Ed25519PublicKey, expected_head: str | None = None
) -> VerifyResult:
    """Check a chain in order; a ``str`` item stands for an unreadable entry (its reason)."""
    seq, head = 0, GENESIS_HASH
    for entry in entries:
        problem = _entry_problem(entry, seq + 1, head, public_key)
        if problem is not None:
            return VerifyResult(False, seq + 1, problem, seq, head)
        seq, head = seq + 1, entry["hash"]  # type: ignore[index]
    if expected_head is not None and seq == 0:
        return VerifyResult(False, 1, "the log is empty, so the expected head hash is not there", 0, head)
    if expected_head is not None and head != expected_head.lower():
        return VerifyResult(
            False,
            seq + 1,
            f"chain ends at seq {seq} but the expected head hash is not there (entries removed from the end)",
            seq,
            head,
        )
    return VerifyResult(True, None, "ok", seq, head)


def verify(path: Path, public_key: Ed25519PublicKey, expected_head: str | None = None) -> VerifyResult:
    """Verify a JSON-lines audit log file (see :func:`verify_entries`)."""
    return verify_entries((entry for _, entry in read_jsonl(path)), public_key, expected_head)
