"""Time arrays for a scenario: one UTC epoch, float seconds from it inside.

Leap seconds and UT1 - UTC come from Skyfield's built-in tables (shipped with the package, never
downloaded). SGP4 takes a UTC Julian date split in whole and fraction, as Skyfield passes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import ConfigError

DAY_S = 86400.0


@lru_cache(maxsize=1)
def _timescale():
    from skyfield.api import load

    return load.timescale(builtin=True)


def parse_utc(text: str, field: str = "time") -> dt.datetime:
    """Parse an ISO 8601 UTC instant (``Z`` or offset; naive means UTC) into an aware datetime."""
    try:
        value = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{field}: {text!r} is not an ISO 8601 date-time (e.g. 2026-03-01T12:00:00Z)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class TimeGrid:
    """Instants ``epoch + offsets_s``; the Julian dates SGP4 and the frame rotation need, as arrays ``(T,)``."""

    epoch: dt.datetime
    offsets_s: np.ndarray
    jd_utc_whole: np.ndarray
    jd_utc_fraction: np.ndarray
    jd_ut1_whole: np.ndarray
    jd_ut1_fraction: np.ndarray

    @classmethod
    def from_offsets(cls, epoch: dt.datetime, offsets_s) -> TimeGrid:
        offsets = np.atleast_1d(np.asarray(offsets_s, dtype=float))
        ts = _timescale()
        e = epoch.astimezone(dt.UTC)
        sec = e.second + e.microsecond * 1e-6 + offsets
        t = ts.utc(e.year, e.month, e.day, e.hour, e.minute, sec)
        utc_fraction = t.tai_fraction - t._leap_seconds() / DAY_S
        whole = np.broadcast_to(t.whole, offsets.shape).astype(float)
        return cls(
            epoch=e,
            offsets_s=offsets,
            jd_utc_whole=whole,
            jd_utc_fraction=np.broadcast_to(utc_fraction, offsets.shape).astype(float),
            jd_ut1_whole=whole,
            jd_ut1_fraction=np.broadcast_to(t.ut1_fraction, offsets.shape).astype(float),
        )

    @classmethod
    def span(cls, epoch: dt.datetime, duration_s: float, step_s: float) -> TimeGrid:
        n = int(np.floor(duration_s / step_s + 1e-9)) + 1
        return cls.from_offsets(epoch, np.arange(n) * float(step_s))

    def skyfield(self):
        """The same instants as a Skyfield ``Time`` (for validation and peers)."""
        e = self.epoch
        return _timescale().utc(
            e.year, e.month, e.day, e.hour, e.minute, e.second + e.microsecond * 1e-6 + self.offsets_s
        )

    @property
    def jd_utc(self) -> np.ndarray:
        return self.jd_utc_whole + self.jd_utc_fraction

    def __len__(self) -> int:
        return len(self.offsets_s)
