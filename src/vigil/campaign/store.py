"""The per-task result store: one JSON file per finished task under ``DIR/tasks/``, written atomically.

A record is written to a temporary file in the same folder and renamed over its final name
(``<key>.json``), so a campaign killed at any instant leaves each task either stored whole or absent; a
stray temporary file is ignored. There is no fsync: a killed process loses nothing the kernel has, and an
fsync per task cost 6.6 ms on the reference box (docs/benchmarks.md). After a power cut a record may read
back torn; it then counts as absent and its task runs again. JSON keeps every float exactly (Python writes the
shortest repr that reads back to the same double). Tasks stored as ``ok`` are skipped by a rerun; failed
ones are run again (a worker lost on the way is not a property of the seed).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import DataError


class TaskStore:
    """Records of finished tasks in ``folder`` (created on first use)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def write(self, record: dict) -> Path:
        """Store ``record`` (which has a ``key``) atomically; returns its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.path(record["key"])
        fd, tmp = tempfile.mkstemp(prefix=f".{record['key']}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f, sort_keys=True)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final

    def read(self, key: str) -> dict | None:
        """The stored record of ``key``, or None when absent or torn."""
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            return None  # torn by a power cut: the task runs again and its record is replaced
        if not isinstance(record, dict) or record.get("key") != key:
            raise DataError(f"{path}: not the task record of {key}")
        return record

    def done(self, keys: list[str]) -> set[str]:
        """The keys among ``keys`` stored with status ``ok``."""
        out = set()
        for key in keys:
            rec = self.read(key)
            if rec is not None and rec.get("status") == "ok":
                out.add(key)
        return out

    def records(self, keys: list[str]) -> Iterator[dict]:
        """The stored records of ``keys`` in that order (absent ones skipped)."""
        for key in keys:
            rec = self.read(key)
            if rec is not None:
                yield rec
