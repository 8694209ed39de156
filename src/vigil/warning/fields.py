"""Field checks of the warning record (:mod:`vigil.warning.records`), each on one value: numbers, ellipses,
the display track, UTC instants. ``label`` names the field in the one-line :class:`~vigil.errors.DataError`
(``event 'E1' field launch_ellipse``); the ``stored_*`` predicates are the same checks, without conversion,
for values that already have their stored form (floats and tuples)."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

from ..errors import DataError
from ..timescale import parse_utc


def as_float(label: str, value: Any) -> float:
    """A finite float from a number (DataError naming ``label`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float) and not hasattr(value, "__float__"):
        raise DataError(f"{label}: expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise DataError(f"{label}: {value!r} is not finite (use null when unknown)")
    return number


def ellipse(label: str, value: Any) -> tuple[float, float, float] | None:
    if value is None:
        return None
    items = None if isinstance(value, str | bytes) or not isinstance(value, Iterable) else list(value)
    if items is None or len(items) != 3:
        raise DataError(f"{label}: expected [bearing_deg, a_km, b_km], got {value!r}")
    bearing, a_km, b_km = (as_float(label, v) for v in items)
    if not 0.0 <= b_km <= a_km:
        raise DataError(f"{label}: semi-axes need 0 <= b_km <= a_km, got a={a_km}, b={b_km}")
    return (bearing % 180.0, a_km, b_km)


def stored_ellipse(e: Any) -> bool:
    """A 3-tuple of finite floats with ``0 <= b_km <= a_km`` (the checks of :func:`ellipse`)."""
    return (
        type(e) is tuple
        and len(e) == 3
        and type(e[0]) is float
        and e[0] - e[0] == 0.0
        and type(e[1]) is float
        and e[1] - e[1] == 0.0
        and type(e[2]) is float
        and 0.0 <= e[2] <= e[1]
    )


MAX_TRACK_SAMPLES = 2000


def stored_track(track: Any) -> bool:
    """A tuple of ``(t_s, lat_deg, lon_deg, alt_m)`` float tuples, finite, in range, times non-decreasing."""
    if type(track) is not tuple or len(track) > MAX_TRACK_SAMPLES:
        return False
    last = -math.inf
    for s in track:
        if not (
            type(s) is tuple
            and len(s) == 4
            and type(s[0]) is float
            and last <= s[0] < math.inf
            and type(s[1]) is float
            and -90.0 <= s[1] <= 90.0
            and type(s[2]) is float
            and -180.0 <= s[2] <= 180.0
            and type(s[3]) is float
            and s[3] - s[3] == 0.0
        ):
            return False
        last = s[0]
    return True


def track_samples(label: str, value: Any) -> tuple[tuple[float, float, float, float], ...]:
    """The converting check of ``track``: each sample ``[t_s, lat_deg, lon_deg, alt_m]``, times non-decreasing."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise DataError(f"{label}: expected a list of [t_s, lat_deg, lon_deg, alt_m], got {value!r}")
    samples = list(value)
    if len(samples) > MAX_TRACK_SAMPLES:
        raise DataError(f"{label}: {len(samples)} samples, more than {MAX_TRACK_SAMPLES}")
    out: list[tuple[float, float, float, float]] = []
    for i, item in enumerate(samples):
        name = f"{label}[{i}]"
        items = None if isinstance(item, str | bytes) or not isinstance(item, Iterable) else list(item)
        if items is None or len(items) != 4:
            raise DataError(f"{name}: expected [t_s, lat_deg, lon_deg, alt_m], got {item!r}")
        t, lat, lon, alt = (as_float(name, v) for v in items)
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise DataError(f"{name}: latitude {lat} or longitude {lon} out of range")
        if out and t < out[-1][0]:
            raise DataError(f"{name}: time {t} is before the previous sample's {out[-1][0]}")
        out.append((t, lat, lon, alt))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def parses_as_utc(text: str) -> bool:
    """``issued_at`` check of :func:`vigil.warning.records._validate_identity` (pure; cached: a centre issues many records per instant)."""
    try:
        parse_utc(text, "issued_at")
    except Exception:
        return False
    return True
