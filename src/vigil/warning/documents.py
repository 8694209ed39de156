"""The JSON document of a list of warnings: ``{"epoch": ISO, "warnings": [...]}``, the epoch carried once
(the warnings' times are seconds from it; :mod:`vigil.warning.records`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import DataError
from ..timescale import parse_utc
from .records import Warning


def warnings_to_document(warnings: Iterable[Warning], epoch: str) -> dict[str, Any]:
    """``{"epoch": ISO, "warnings": [...]}``: the JSON document that carries the epoch once."""
    return {
        "epoch": parse_utc(epoch, "epoch").strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "warnings": [w.to_dict() for w in warnings],
    }


def warnings_from_document(doc: Mapping[str, Any], where: str = "warnings") -> tuple[str, list[Warning]]:
    """Inverse of :func:`warnings_to_document`: ``(epoch ISO string, warnings)``."""
    if not isinstance(doc, Mapping) or "epoch" not in doc or not isinstance(doc.get("warnings"), list):
        raise DataError(f"{where}: expected an object with 'epoch' and a 'warnings' list")
    try:
        parse_utc(doc["epoch"], "epoch")
    except Exception:
        raise DataError(f"{where} field epoch: {doc['epoch']!r} is not an ISO 8601 date-time") from None
    items = [Warning.from_dict(item, f"{where} record {i}") for i, item in enumerate(doc["warnings"])]
    return str(doc["epoch"]), items
