"""Who contributed to a warning: its :class:`Sources` (sensor and partner ids) and their JSON form."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import DataError


@dataclass(frozen=True)
class Sources:
    """Who contributed to an event: sensor ids and partner ids (sorted, unique)."""

    sensors: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("sensors", "partners"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise DataError(f"sources.{name}: expected a list of ids, got {value!r}")
            object.__setattr__(self, name, tuple(sorted({str(v) for v in value})))

    def to_dict(self) -> dict[str, list[str]]:
        return {"sensors": list(self.sensors), "partners": list(self.partners)}


def sources_from(data: Mapping[str, Any], where: str) -> Sources:
    """:class:`Sources` from its JSON form ``{sensors: [...], partners: [...]}``; errors name ``where``."""
    unknown = sorted(set(data) - {"sensors", "partners"})
    if unknown:
        raise DataError(f"{where}: unknown field 'sources.{unknown[0]}'")
    try:
        return Sources(data.get("sensors", ()), data.get("partners", ()))
    except DataError as err:
        raise DataError(f"{where} {err}") from None
