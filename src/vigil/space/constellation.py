"""A constellation: one partner's satellites as SGP4 element sets, ready for array propagation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sgp4.api import Satrec

from ..errors import ElementError

STALE_ELEMENTS_DAYS = 14.0  # default age beyond which elements draw a warning (SGP4 error grows ~km/day)


@dataclass(frozen=True)
class Constellation:
    """Satellites of one partner.

    ``satrecs`` are python-sgp4 ``Satrec`` objects; ``names`` and ``catalog_numbers`` are parallel to them;
    ``source`` is the file they came from (for messages).
    """

    name: str
    satrecs: tuple[Satrec, ...]
    names: tuple[str, ...]
    catalog_numbers: tuple[int, ...]
    source: str = "<memory>"

    def __post_init__(self) -> None:
        if not self.satrecs:
            raise ElementError(f"{self.source}: no satellites")
        if not (len(self.satrecs) == len(self.names) == len(self.catalog_numbers)):
            raise ElementError(f"{self.source}: names/catalog numbers do not match the satellites")

    def __len__(self) -> int:
        return len(self.satrecs)

    @property
    def epochs(self) -> list[dt.datetime]:
        """Element-set epochs (UTC)."""
        base = dt.datetime(1949, 12, 31, tzinfo=dt.UTC)
        return [base + dt.timedelta(days=s.jdsatepoch + s.jdsatepochF - 2433281.5) for s in self.satrecs]

    def stale_warnings(self, when: dt.datetime, max_age_days: float = STALE_ELEMENTS_DAYS) -> list[str]:
        """One line per satellite whose elements are older (or newer) than ``max_age_days`` at ``when``."""
        out = []
        for name, num, epoch in zip(self.names, self.catalog_numbers, self.epochs, strict=True):
            age = (when - epoch).total_seconds() / 86400.0
            if abs(age) > max_age_days:
                out.append(
                    f"{self.source}: satellite {num} ({name}): elements are {age:+.1f} days from the requested "
                    f"time (threshold {max_age_days:g} days); positions may be off by many km"
                )
        return out

    @staticmethod
    def merge(name: str, parts: list[Constellation]) -> Constellation:
        """One constellation holding the satellites of ``parts`` (used for the joint view)."""
        return Constellation(
            name=name,
            satrecs=tuple(s for p in parts for s in p.satrecs),
            names=tuple(n for p in parts for n in p.names),
            catalog_numbers=tuple(c for p in parts for c in p.catalog_numbers),
            source="+".join(p.source for p in parts),
        )
