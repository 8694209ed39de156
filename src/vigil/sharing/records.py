"""The four record types that can cross a partner boundary, as JSON schemas (docs/design.md "Records").

Each model lists *every* field an agreement can release for its type; anything else in a local record
(truth, internal ids, debug data) is stripped by the releaser and, if it ever arrives, rejected by the
receiver (``extra="forbid"``). Positions are ECEF metres (``*_ecef_m``) or geodetic degrees
(``*_lat_deg``/``*_lon_deg``); times are seconds or ISO 8601 strings, passed through untouched.

For the region clause a record is judged by its *points* (:func:`judged_points`, geodetic degrees):
a warning by its launch and impact points; a track by the ground point under its position and, when it
carries one, its launch point; a notification by the centres of its launch and impact areas;
an observation by where its line of sight meets the WGS84 ellipsoid (no point when it misses).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError
from ..frames import ecef_to_geodetic
from ..records import MAX_LOS_SIGMA_RAD, MAX_SENSOR_RADIUS_M
from ..timescale import parse_utc
from ..warning.areas import spherical_polygon_centre, spherical_polygon_problem
from ..warning.records import MAX_REASON_CHARS

RECORD_TYPES = ("observation", "track", "warning", "notification")
RecordType = Literal["observation", "track", "warning", "notification"]
UNIT_TOL = 1e-9  # |los_ecef| must be 1 within this (canonical JSON round-trips floats exactly)

MAX_SPEED_M_S = 1.0e5  # far above any missile or launcher (escape speed is 11.2 km/s)


def _utc_time(value: float | str) -> float | str:
    """A time is POSIX seconds (finite: the model forbids NaN/inf) or an ISO 8601 UTC string parse_utc reads."""
    if isinstance(value, str):
        try:
            parse_utc(value)
        except ConfigError:
            raise ValueError(f"{value[:40]!r} is not an ISO 8601 UTC time") from None
    return value


def _norm_at_most(limit: float, what: str):
    def check(v: list[float]) -> list[float]:
        if math.sqrt(sum(x * x for x in v)) > limit:
            raise ValueError(f"is more than {limit:g} {what} long")
        return v

    return AfterValidator(check)


Vec3 = Annotated[list[float], Field(min_length=3, max_length=3)]
Id = int | Annotated[str, Field(min_length=1, max_length=128)]
Time = Annotated[float | str, AfterValidator(_utc_time)]
Position = Annotated[Vec3, _norm_at_most(MAX_SENSOR_RADIUS_M, "m")]
Velocity = Annotated[Vec3, _norm_at_most(MAX_SPEED_M_S, "m/s")]
NonNegative = Annotated[float, Field(ge=0.0)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, populate_by_name=True)


class ObservationRecord(_Record):
    """One detection in one sensor frame; ``los_quantum_rad`` is added by the releaser (see precision.py)."""

    obs_id: Id
    time: Time
    sensor_pos_ecef_m: Position
    los_ecef: Vec3
    sensor_id: str | None = None
    partner_id: str | None = None
    los_sigma_rad: Annotated[float, Field(gt=0.0, le=MAX_LOS_SIGMA_RAD)] | None = None
    los_quantum_rad: Annotated[float, Field(gt=0.0)] | None = None
    snr: NonNegative | None = None
    intensity_w_sr: NonNegative | None = None
    frame_id: int | None = None

    @field_validator("los_ecef")
    @classmethod
    def _unit(cls, v: list[float]) -> list[float]:
        if abs(math.sqrt(sum(x * x for x in v)) - 1.0) > UNIT_TOL:
            raise ValueError("is not a unit vector")
        return v


Lat = Annotated[float, Field(ge=-90.0, le=90.0)]
Lon = Annotated[float, Field(ge=-180.0, le=180.0)]
Bearing = Annotated[float, Field(ge=0.0, le=360.0)]


def _ellipse(v: list[float]) -> list[float]:
    if not 0.0 <= v[0] <= 360.0:
        raise ValueError("bearing (first value) must lie in [0, 360] deg")
    if v[1] < 0.0 or v[2] < 0.0:
        raise ValueError("semi-axes (a_km, b_km) must not be negative")
    return v


Ellipse = Annotated[Vec3, AfterValidator(_ellipse)]


class TrackRecord(_Record):
    """Fused state; ``cov`` is the 6×6 covariance of (position m, velocity m/s). ``version`` numbers the
    releases of one track as a warning's do its event's. The ``launch_*`` fields are the track's launch
    estimate, as in the warning record (point, 95 % ellipse ``[bearing_deg, a_km, b_km]``, time and its 1σ):
    with them a receiver fuses the track with its own estimate of the launch (docs/sharing.md)."""

    track_id: Id
    time: Time
    pos_ecef_m: Position
    vel_ecef_m_s: Velocity | None = None
    cov: list[list[float]] | None = None
    phase: Literal["boost", "coast"] | None = None
    sensor_ids: list[str] | None = None
    partner_ids: list[str] | None = None
    version: Annotated[int, Field(ge=1)] | None = None
    launch_lat_deg: Lat | None = None
    launch_lon_deg: Lon | None = None
    launch_ellipse: Ellipse | None = None
    launch_time: Time | None = None
    launch_time_sigma_s: NonNegative | None = None

    @field_validator("cov")
    @classmethod
    def _cov(cls, v: list[list[float]] | None) -> list[list[float]] | None:
        if v is None:
            return v
        if len(v) != 6 or any(len(row) != 6 for row in v):
            raise ValueError("must be a 6x6 array")
        if any(v[i][i] < 0.0 for i in range(6)):
            raise ValueError("has a negative variance on its diagonal")
        if any(
            abs(v[i][j] - v[j][i]) > 1e-9 * (abs(v[i][j]) + abs(v[j][i])) for i in range(6) for j in range(i)
        ):
            raise ValueError("is not symmetric")
        return v

    @model_validator(mode="after")
    def _launch(self) -> TrackRecord:
        if (self.launch_lat_deg is None) != (self.launch_lon_deg is None):
            raise ValueError("launch_lat_deg and launch_lon_deg go together")
        if self.launch_lat_deg is None and (
            self.launch_ellipse,
            self.launch_time,
            self.launch_time_sigma_s,
        ) != (None, None, None):
            raise ValueError(
                "launch_ellipse, launch_time and launch_time_sigma_s need launch_lat_deg/launch_lon_deg"
            )
        return self


def _one_line(v: str) -> str:
    if not v.isprintable():
        raise ValueError("must be one line of printable text (no line breaks or control characters)")
    return v


class WarningRecord(_Record):
    """Event / warning; ellipses are ``[bearing_deg, a_km, b_km]``; impact is null for orbital launches.
    ``class_reason``: why the class is what it is, one line of text (margins in σ, durations; no position:
    the precision clause has nothing in it to coarsen, and releases it as it is)."""

    event_id: Id
    launch_lat_deg: Lat
    launch_lon_deg: Lon
    version: Annotated[int, Field(ge=1)] | None = None
    issued_at: Time | None = None
    class_: Literal["ballistic", "space_launch", "unknown"] | None = Field(None, alias="class")
    class_reason: Annotated[str, Field(max_length=MAX_REASON_CHARS), AfterValidator(_one_line)] | None = None
    launch_time: Time | None = None
    launch_time_sigma_s: NonNegative | None = None
    launch_ellipse: Ellipse | None = None
    azimuth_deg: Bearing | None = None
    azimuth_sigma_deg: NonNegative | None = None
    burnout_time: Time | None = None
    burnout_alt_m: NonNegative | None = None
    burnout_speed_m_s: Annotated[float, Field(ge=0.0, le=MAX_SPEED_M_S)] | None = None
    impact_time: Time | None = None
    impact_lat_deg: Lat | None = None
    impact_lon_deg: Lon | None = None
    impact_ellipse: Ellipse | None = None
    notification: str | None = None
    sources: list[str] | None = None
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] | None = None

    @model_validator(mode="after")
    def _impact_pair(self) -> WarningRecord:
        if (self.impact_lat_deg is None) != (self.impact_lon_deg is None):
            raise ValueError("impact_lat_deg and impact_lon_deg go together")
        return self


class Area(_Record):
    """A circle (``lat_deg``, ``lon_deg``, ``radius_km``) or a ``polygon`` of ``[lon_deg, lat_deg]`` vertices."""

    lat_deg: Lat | None = None
    lon_deg: Lon | None = None
    radius_km: Annotated[float, Field(gt=0.0)] | None = None
    polygon: (
        Annotated[list[Annotated[list[float], Field(min_length=2, max_length=2)]], Field(min_length=3)] | None
    ) = None

    @model_validator(mode="after")
    def _one_form(self) -> Area:
        circle = (self.lat_deg, self.lon_deg, self.radius_km)
        if self.polygon is None and None in circle:
            raise ValueError("needs lat_deg, lon_deg and radius_km, or a polygon")
        if self.polygon is not None and circle != (None, None, None):
            raise ValueError("is either a circle or a polygon, not both")
        if self.polygon is not None and not all(
            -90 <= lat <= 90 and -180 <= lon <= 180 for lon, lat in self.polygon
        ):
            raise ValueError("polygon vertices must be [lon_deg, lat_deg] within range")
        if self.polygon is not None:
            problem = spherical_polygon_problem(self.polygon)
            if problem is not None:
                raise ValueError(problem)
        return self


class NotificationRecord(_Record):
    """Pre-launch notification (1988 / 2009 launch-notification agreements)."""

    notification_id: Id
    launch_area: Area
    partner_id: str | None = None
    window_start: Time | None = None
    window_end: Time | None = None
    class_: Literal["ballistic", "space_launch", "unknown"] | None = Field(None, alias="class")
    impact_area: Area | None = None
    azimuth_sector_deg: Annotated[list[Bearing], Field(min_length=2, max_length=2)] | None = None
    group: bool | None = None


MODELS: dict[str, type[_Record]] = {
    "observation": ObservationRecord,
    "track": TrackRecord,
    "warning": WarningRecord,
    "notification": NotificationRecord,
}


def released_fields(record_type: str) -> frozenset[str]:
    """Names (JSON keys) of the fields an agreement can release for ``record_type``."""
    return frozenset(f.alias or name for name, f in MODELS[record_type].model_fields.items())


def describe_validation_error(err: ValidationError, prefix: str = "") -> str:
    """One line: the first error's key path and reason (``payload.los_ecef: is not a unit vector``)."""
    first = err.errors()[0]
    path = ".".join(str(p) for p in (prefix, *first["loc"]) if p != "")
    return f"{path or prefix or 'record'}: {first['msg'].removeprefix('Value error, ')}"


def validate_record(record_type: str, payload: Any) -> str | None:
    """None when ``payload`` is a valid record of ``record_type``, else a one-line reason."""
    if not isinstance(payload, dict):
        return f"payload: is a {type(payload).__name__}, not an object"
    try:
        MODELS[record_type].model_validate(payload)
    except ValidationError as err:
        return describe_validation_error(err, "payload")
    return None


def json_schema(record_type: str) -> dict[str, Any]:
    """JSON Schema (draft 2020-12, as pydantic writes it) of ``record_type``."""
    return MODELS[record_type].model_json_schema(by_alias=True)


def _area_centre(area: dict[str, Any]) -> tuple[float, float]:
    if area.get("polygon") is not None:  # the area centroid on the sphere (right across the antimeridian)
        return spherical_polygon_centre(area["polygon"])
    return area["lat_deg"], area["lon_deg"]


def data_time_s(record_type: str, payload: dict[str, Any]) -> float | None:
    """UTC POSIX seconds of the instant a *valid* record describes (observation and track ``time``, a
    warning's ``issued_at``), None when it carries none (notifications, warnings without ``issued_at``)."""
    key = {"observation": "time", "track": "time", "warning": "issued_at"}.get(record_type)
    value = None if key is None else payload.get(key)
    if value is None:
        return None
    return parse_utc(value).timestamp() if isinstance(value, str) else float(value)


def judged_points(record_type: str, payload: dict[str, Any]) -> list[tuple[float, float]]:
    """The geodetic points ``[(lat_deg, lon_deg), ...]`` a region clause judges (module docstring)."""
    from .precision import ellipsoid_hit

    if record_type == "warning":
        pts = [(payload["launch_lat_deg"], payload["launch_lon_deg"])]
        if payload.get("impact_lat_deg") is not None:
            pts.append((payload["impact_lat_deg"], payload["impact_lon_deg"]))
        return pts
    if record_type == "notification":
        areas = [payload["launch_area"], payload.get("impact_area")]
        return [_area_centre(a) for a in areas if a is not None]
    launch: list[tuple[float, float]] = []
    if record_type == "track":
        r = np.asarray(payload["pos_ecef_m"], dtype=float)
        if payload.get("launch_lat_deg") is not None:
            launch = [(payload["launch_lat_deg"], payload["launch_lon_deg"])]
    else:
        r0, u = np.asarray(payload["sensor_pos_ecef_m"], float), np.asarray(payload["los_ecef"], float)
        hit = ellipsoid_hit(r0, u)
        if hit is None:
            return []
        r = r0 + hit * u
    lat, lon, _ = ecef_to_geodetic(r)
    return [(math.degrees(lat), math.degrees(lon)), *launch]
