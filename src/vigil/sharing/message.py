"""A partner's message as bytes → a JSON object, strictly: size, UTF-8, JSON without duplicate keys or
non-finite numbers, an object at the top (the receiver's first checks, :mod:`vigil.sharing.receiver`).
A failed check raises :class:`Reject` with its kind and reason."""

from __future__ import annotations

import json
import math
from typing import Any

MAX_MESSAGE_BYTES = 1 << 20  # 1 MiB: far above any record (an observation is ~700 bytes signed)


class Reject(Exception):
    """A failed receiver check: its ``kind`` (docs/sharing.md, the receiver table) and ``reason``."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(kind)
        self.kind, self.reason = kind, reason


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise Reject("duplicate_key", f"key {key[:40]!r} appears twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise Reject("non_finite", f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Reject("non_finite", f"number {text[:40]} overflows a double")
    return value


def parse_message(raw: bytes) -> dict[str, Any]:
    """Size, UTF-8, strict JSON (no duplicate keys, no NaN/Infinity) and object checks; raises Reject."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Reject("oversize", f"{len(raw)} bytes > {MAX_MESSAGE_BYTES}")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as err:
        raise Reject("encoding", f"not UTF-8 at byte {err.start}") from None
    try:
        obj = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_float=_finite_float
        )
    except json.JSONDecodeError as err:
        raise Reject("json", f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise Reject("json", "nested too deeply") from None
    if not isinstance(obj, dict):
        raise Reject("not_object", f"top level is a {type(obj).__name__}, not an object")
    return obj
