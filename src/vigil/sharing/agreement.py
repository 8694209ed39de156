"""Sharing agreements: one YAML file per pair of partners, saying what each releases to the other.

Example (``examples/agreements/north-east.yaml``)::

    name: north-east-2026
    parties: [north, east]
    valid_from: 2026-01-01T00:00:00Z
    valid_until: 2030-01-01T00:00:00Z
    directions:
      north->east: {types: [track, warning], region: global, precision_m: 5000, delay_s: 0}
      east->north:
        types: [observation, warning]
        region: {type: Polygon, coordinates: [[[30, 35], [80, 35], [80, 60], [30, 60], [30, 35]]]}
        precision_m: 1000
        delay_s: 30

``region`` is ``global`` or GeoJSON (RFC 7946) ``Polygon`` / ``MultiPolygon`` / ``Feature`` /
``FeatureCollection`` with ``[lon_deg, lat_deg]`` positions, read as a planar lon/lat shape (shapely).
Antimeridian: either split the shape at ±180° as RFC 7946 §3.1.9 asks, or let longitudes run past 180°
(e.g. 170 → 190); a point is tested at lon, lon + 360 and lon − 360. Boundaries count as inside.
A record is inside a region when *any* of its judged points (:func:`vigil.sharing.records.judged_points`)
is; an observation whose line of sight misses the Earth has none, so it is inside ``global`` only.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Any

import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from shapely.geometry import shape

from ..config import read_yaml, validation_message
from ..errors import ConfigError
from ..timescale import parse_utc
from .keys import check_node_id
from .records import RecordType, judged_points

MIN_PRECISION_M = 1.0  # below a metre the grids' float rounding (precision.GRID_TOL) is not guaranteed at GEO
_GEOJSON_AREAS = ("Polygon", "MultiPolygon")


def _geometry(obj: Any) -> shapely.Geometry:
    """Shapely geometry of a GeoJSON area object; ValueError with the reason otherwise."""
    if not isinstance(obj, dict) or "type" not in obj:
        raise ValueError("must be 'global' or a GeoJSON object with a 'type'")
    kind = obj["type"]
    if kind == "FeatureCollection":
        parts = [_geometry(f) for f in obj.get("features") or []]
        if not parts:
            raise ValueError("FeatureCollection has no features")
        return shapely.union_all(parts)
    if kind == "Feature":
        return _geometry(obj.get("geometry"))
    if kind not in _GEOJSON_AREAS:
        raise ValueError(
            f"GeoJSON type {kind!r} is not one of Polygon, MultiPolygon, Feature, FeatureCollection"
        )
    _check_rings_closed(kind, obj.get("coordinates"))
    try:
        geom = shape(obj)
    except Exception as err:  # shapely raises several types for malformed coordinates
        raise ValueError(f"malformed {kind} coordinates ({err})") from None
    if geom.is_empty or not geom.is_valid:
        raise ValueError(f"{kind} is empty or invalid ({shapely.is_valid_reason(geom)})")
    _, min_lat, _, max_lat = geom.bounds
    if min_lat < -90.0 or max_lat > 90.0:
        raise ValueError("latitudes must lie within [-90, 90] (positions are [lon_deg, lat_deg])")
    return geom


def _check_rings_closed(kind: str, coordinates: Any) -> None:
    """RFC 7946 §3.1.6: every ring has >= 4 positions and ends where it starts (shapely would close it silently)."""
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not all(isinstance(p, list) for p in polygons):
        raise ValueError(f"malformed {kind} coordinates (expected lists of rings)")
    for p, rings in enumerate(polygons):
        for r, ring in enumerate(rings):
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                where = f"ring {r}" if kind == "Polygon" else f"polygon {p} ring {r}"
                raise ValueError(
                    f"{kind} {where} is not closed (RFC 7946: >= 4 positions, the last equal to the first)"
                )


class Direction(BaseModel):
    """What one party releases to the other."""

    model_config = ConfigDict(extra="forbid", strict=True)

    types: list[RecordType] = Field(min_length=1)
    region: Any  # "global" or a GeoJSON area object; checked below
    precision_m: float = Field(ge=MIN_PRECISION_M, allow_inf_nan=False)
    delay_s: float = Field(0.0, ge=0.0, allow_inf_nan=False)

    @field_validator("types")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("lists a type twice")
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: Any) -> Any:
        if v != "global":
            _geometry(v)
        return v

    @cached_property
    def geometry(self) -> shapely.Geometry | None:
        """Prepared shapely geometry of the region, None for ``global``."""
        if self.region == "global":
            return None
        geom = _geometry(self.region)
        shapely.prepare(geom)
        return geom

    def contains(self, lat_deg: float, lon_deg: float) -> bool:
        """Whether the geodetic point is inside the region (boundary included; see module docstring)."""
        if self.geometry is None:
            return True
        lons = [lon_deg, lon_deg + 360.0, lon_deg - 360.0]
        return bool(shapely.intersects_xy(self.geometry, lons, [lat_deg] * 3).any())

    def region_violation(self, record_type: str, payload: dict[str, Any]) -> str | None:
        """None when the record is inside the region, else why not (one line)."""
        if self.geometry is None:
            return None
        points = judged_points(record_type, payload)
        if any(self.contains(lat, lon) for lat, lon in points):
            return None
        if not points:
            return "line of sight misses the Earth, so it lies outside every region polygon"
        where = ", ".join(f"({lat:.4f}, {lon:.4f})" for lat, lon in points)
        return f"judged point(s) lat/lon {where} deg outside the agreed region"


def _utc(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_utc(value)
        except ConfigError as err:
            raise ValueError(str(err).removeprefix("time: ")) from None
    if isinstance(value, dt.datetime):  # YAML timestamps without a zone are UTC
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):  # a bare YAML date means 00:00 UTC that day
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return value


class Agreement(BaseModel):
    """A bilateral agreement; ``directions`` keys are ``"<from>-><to>"``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = None
    parties: list[str] = Field(min_length=2, max_length=2)
    valid_from: dt.datetime
    valid_until: dt.datetime
    directions: dict[str, Direction] = Field(min_length=1)

    @field_validator("valid_from", "valid_until", mode="before")
    @classmethod
    def _dates(cls, v: Any) -> Any:
        return _utc(v)

    @field_validator("parties")
    @classmethod
    def _parties(cls, v: list[str]) -> list[str]:
        for i, node in enumerate(v):
            try:
                check_node_id(node, f"parties[{i}]")
            except ConfigError as err:
                raise ValueError(str(err)) from None
        if v[0] == v[1]:
            raise ValueError("the two parties must differ")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Agreement:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        a, b = self.parties
        for key in self.directions:
            if key not in (f"{a}->{b}", f"{b}->{a}"):
                raise ValueError(f"direction {key!r} is not '{a}->{b}' or '{b}->{a}'")
        span_s = (self.valid_until - self.valid_from).total_seconds()
        for key, clause in self.directions.items():
            if clause.delay_s >= span_s:  # data made in the window is released only after the window closes
                raise ValueError(
                    f"directions.{key}.delay_s: {clause.delay_s:g} s is not shorter than the "
                    f"validity span ({span_s:g} s from valid_from to valid_until), so nothing "
                    f"could ever be released"
                )
        return self

    def direction(self, sender: str, recipient: str) -> Direction | None:
        """The clauses for ``sender`` → ``recipient``, None when nothing flows that way."""
        return self.directions.get(f"{sender}->{recipient}")

    def other(self, node: str) -> str:
        """The party that is not ``node``."""
        a, b = self.parties
        return b if node == a else a

    def validity_violation(self, t_s: float) -> tuple[str, str] | None:
        """None when in force at UTC POSIX time ``t_s``; else ``(kind, reason)``, kind expired|not_yet_valid."""
        if t_s < self.valid_from.timestamp():
            return "not_yet_valid", f"agreement {self.label} is valid from {self.valid_from.isoformat()}"
        if t_s >= self.valid_until.timestamp():
            return "expired", f"agreement {self.label} expired at {self.valid_until.isoformat()}"
        return None

    @property
    def label(self) -> str:
        return self.name or "-".join(self.parties)

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", exclude_none=True)
        return yaml.safe_dump(data, sort_keys=False)


def parse_agreement(data: Any, source: str = "agreement") -> Agreement:
    """Validate a parsed YAML/JSON object; ConfigError ``<source>: <key path>: <reason>`` otherwise."""
    try:
        return Agreement.model_validate(data)
    except ValidationError as err:
        raise ConfigError(validation_message(source, err)) from None


def load_agreement(path: Path) -> Agreement:
    """Read and validate one agreement YAML file."""
    return parse_agreement(read_yaml(path, "agreement"), str(path))
