"""Pre-launch notifications (docs/design.md "Records"): YAML validated with pydantic v2, unknown keys are errors.

In the spirit of the 1988 US–USSR Agreement on Notifications of Launches of Intercontinental Ballistic
Missiles and Submarine-Launched Ballistic Missiles (notice no less than 24 hours ahead of the planned
date, launch area and area of impact) and the 2009 Russia–China agreement on notification of ballistic
missile and space launch vehicle launches, a notification states *when* (a UTC window), *what* (class),
*where from* (launch area) and *where to* (impact area, or an azimuth sector for space launches), and
whether it covers a *group* of launches less than 5 minutes apart (a salvo).

File form (``examples/notifications/north.yaml``)::

    notifications:
      - notification_id: N-2026-001
        partner_id: north
        class: ballistic                          # ballistic | space_launch
        window_start: 2026-03-01T12:00:00Z        # ISO 8601 UTC
        window_end: 2026-03-01T12:30:00Z
        launch_area: {circle: {lat_deg: 45.0, lon_deg: 63.3, radius_km: 50}}
        impact_area: {polygon: [[170, 50], [-170, 50], [-170, 60], [170, 60]]}   # [lon, lat] vertices
        azimuth_sector_deg: [20, 60]              # clockwise from 20° to 60°; may wrap through 0°
        group: true                               # covers launches < 5 min apart ...
        count: 3                                  # ... at most this many (omit: any number)
        group_id: salvo-7                         # optional label tying notifications of one salvo

At least one of ``impact_area`` and ``azimuth_sector_deg`` is required. Polygon edges are great-circle
arcs between consecutive vertices (the shorter way, so polygons may cross the antimeridian); a polygon
must fit a :data:`~vigil.warning.areas.MAX_POLYGON_RADIUS_DEG` cap. Every error is one
:class:`~vigil.errors.ConfigError` line naming the file, the key path and the reason.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..config import read_yaml, validation_message
from ..errors import ConfigError
from ..timescale import parse_utc
from .areas import angular_difference_deg, spherical_polygon_problem

NOTIFICATION_CLASSES = ("ballistic", "space_launch")
MAX_WINDOW_DAYS = 31.0  # sanity bound on a window's length: catches a mistyped month or year
MAX_CIRCLE_RADIUS_KM = 5000.0  # a launch or impact area larger than this announces nothing useful
GROUP_GAP_S = 300.0  # launches closer than 5 minutes form one group (1988 / 2009 agreements' salvo rule)

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Circle(BaseModel):
    """A spherical cap: centre (deg) and great-circle radius (km)."""

    model_config = _STRICT
    lat_deg: float = Field(ge=-90.0, le=90.0)
    lon_deg: float = Field(ge=-180.0, le=180.0)
    radius_km: float = Field(gt=0.0, le=MAX_CIRCLE_RADIUS_KM)


class Area(BaseModel):
    """Exactly one of ``circle`` or ``polygon`` (``[[lon_deg, lat_deg], ...]``, ≥ 3 distinct vertices)."""

    model_config = _STRICT
    circle: Circle | None = None
    polygon: tuple[tuple[float, float], ...] | None = None

    @field_validator("polygon")
    @classmethod
    def _check_polygon(cls, value: tuple[tuple[float, float], ...] | None):
        if value is None:
            return None
        vertices = list(value)
        if len(vertices) > 1 and vertices[0] == vertices[-1]:
            vertices = vertices[:-1]  # an explicitly closed ring
        for i, (lon, lat) in enumerate(vertices):
            if not -180.0 <= lon <= 180.0:
                raise ValueError(f"vertex {i} longitude {lon} is outside [-180, 180] (vertex is [lon, lat])")
            if not -90.0 <= lat <= 90.0:
                raise ValueError(f"vertex {i} latitude {lat} is outside [-90, 90] (vertex is [lon, lat])")
        if len(set(vertices)) < 3:
            raise ValueError(f"a polygon needs >= 3 distinct [lon, lat] vertices, got {len(set(vertices))}")
        for i, (a, b) in enumerate(zip(vertices, vertices[1:] + vertices[:1], strict=True)):
            if abs(a[1]) < 90 and abs(b[1]) < 90 and angular_difference_deg(a[0], b[0]) >= 179.999:
                raise ValueError(f"edge {i} spans 180° of longitude, so its great-circle arc is ambiguous")
        problem = spherical_polygon_problem(vertices)
        if problem is not None:
            raise ValueError(problem)
        return tuple(vertices)

    @model_validator(mode="after")
    def _exactly_one(self) -> Area:
        if (self.circle is None) == (self.polygon is None):
            raise ValueError("give exactly one of 'circle' or 'polygon'")
        return self


class Notification(BaseModel):
    """One pre-launch notification; times are aware UTC datetimes (see the module docstring)."""

    model_config = _STRICT
    notification_id: str = Field(min_length=1)
    partner_id: str = Field(min_length=1)
    class_: Literal["ballistic", "space_launch"] = Field(alias="class")
    window_start: dt.datetime
    window_end: dt.datetime
    launch_area: Area
    impact_area: Area | None = None
    azimuth_sector_deg: tuple[float, float] | None = None
    group: bool = False
    count: int | None = Field(default=None, ge=1)
    group_id: str | None = Field(default=None, min_length=1)

    @field_validator("window_start", "window_end", mode="before")
    @classmethod
    def _utc(cls, value: Any):
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        if isinstance(value, str):
            try:
                return parse_utc(value)
            except ConfigError:
                raise ValueError(f"{value!r} is not an ISO 8601 time (e.g. 2026-03-01T12:00:00Z)") from None
        raise ValueError(f"expected an ISO 8601 UTC date-time, got {value!r}")

    @field_validator("window_end")
    @classmethod
    def _after_start(cls, value: dt.datetime, info):
        start = info.data.get("window_start")
        if start is not None and value <= start:
            raise ValueError(f"window_end {value.isoformat()} is not after window_start {start.isoformat()}")
        if start is not None and (value - start).total_seconds() > MAX_WINDOW_DAYS * 86400.0:
            raise ValueError(f"window is longer than {MAX_WINDOW_DAYS:g} days")
        return value

    @field_validator("azimuth_sector_deg")
    @classmethod
    def _sector(cls, value: tuple[float, float] | None):
        if value is None:
            return None
        for bound in value:
            if not 0.0 <= bound <= 360.0:
                raise ValueError(f"azimuth {bound} is outside [0, 360]")
        if (value[1] - value[0]) % 360.0 == 0.0:
            raise ValueError("an azimuth sector [from, to] needs from != to (clockwise from 'from' to 'to')")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Notification:
        if self.impact_area is None and self.azimuth_sector_deg is None:
            raise ValueError("give impact_area or azimuth_sector_deg (or both)")
        if self.count is not None and self.count > 1 and not self.group:
            raise ValueError(f"count {self.count} > 1 needs group: true")
        return self

    def window_s(self, epoch: dt.datetime | str) -> tuple[float, float]:
        """Window start and end as seconds from ``epoch`` (ISO 8601 UTC or aware datetime)."""
        base = parse_utc(epoch, "epoch") if isinstance(epoch, str) else epoch.astimezone(dt.UTC)
        return (self.window_start - base).total_seconds(), (self.window_end - base).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """The file form (``class`` key, ISO ``Z`` times, nulls dropped); parse_notifications inverts it."""
        out = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for key in ("window_start", "window_end"):
            out[key] = getattr(self, key).strftime("%Y-%m-%dT%H:%M:%S") + _fraction(getattr(self, key)) + "Z"
        return out


def _fraction(value: dt.datetime) -> str:
    return f".{value.microsecond:06d}" if value.microsecond else ""


class _NotificationFile(BaseModel):
    model_config = _STRICT
    notifications: tuple[Notification, ...]


def parse_notifications(data: Any, where: str = "notifications") -> list[Notification]:
    """Validate the parsed YAML document ``{"notifications": [...]}``; ids must be unique."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: need a mapping with a 'notifications' list, not {type(data).__name__}")
    try:
        items = list(_NotificationFile.model_validate(data).notifications)
    except ValidationError as err:
        raise ConfigError(validation_message(where, err)) from None
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.notification_id in seen:
            raise ConfigError(f"{where}: notifications[{i}].notification_id: {item.notification_id!r} twice")
        seen.add(item.notification_id)
    return items


def load_notifications(path: str | Path) -> list[Notification]:
    """Read and validate one notifications YAML file."""
    return parse_notifications(read_yaml(path, "notifications file"), str(path))


def dump_notifications(notifications: list[Notification]) -> str:
    """YAML text of ``notifications`` in the file form above."""
    return yaml.safe_dump({"notifications": [n.to_dict() for n in notifications]}, sort_keys=False)
