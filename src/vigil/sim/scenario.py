"""Scenario files (docs/design.md "Scenario file"): YAML validated by a strict schema, resolved into objects.

The schema is a set of pydantic v2 models with ``extra="forbid"``: an unknown key, a wrong type, a value
out of range, a missing file or a launch outside the scenario's duration is one
:class:`~vigil.errors.ConfigError` line naming the file, the key path and the reason, e.g.
``two-partner.yaml: launches[2].azimuth_deg: 400 is outside [0, 360)``.

A launch is one of: ``vehicle`` + ``azimuth_deg`` (+ ``loft_deg``); ``vehicle`` + ``target``; or
``telemetry`` (a shipped profile ``falcon9/<name>`` or a CSV path) + ``azimuth_deg``. Paths are relative to
the scenario file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from ..config import (
    MAX_SEED,
    Azimuth,
    Latitude,
    Longitude,
    NonNegative,
    Positive,
    read_yaml,
    validation_message,
    within,
)
from ..errors import ConfigError
from ..sensors.model import DEFAULT_FRAME_S, DEFAULT_LOS_SIGMA_URAD, DEFAULT_MIN_ELEVATION_DEG, SensorModel
from ..sensors.signal import (
    DEFAULT_FALSE_ALARMS_PER_FRAME,
    DEFAULT_NEI_W_M2,
    DEFAULT_PD_SNR50,
    DEFAULT_VISIBLE_ALT_M,
    SignalModel,
)
from ..space.constellation import Constellation
from ..timescale import parse_utc

# Peak bytes of a simulation (sim.observe / sim.engine): one satellite's frames at a time (times, SGP4
# Julian dates and positions, frame ids: ~15 float64 per frame), and every observation row of the run
# (ObservationBatch columns, truth columns, the sort's copies: ~50 float64 per row).
BYTES_PER_FRAME = 120
BYTES_PER_OBSERVATION = 400
MAX_DURATION_S = 7 * 86400.0  # a week: far beyond any warning scenario, catches ms/s or h/s mix-ups
SHIPPED_TELEMETRY_PREFIX = "falcon9/"  # `telemetry: falcon9/<name>` names vigil/data/telemetry/<name>.csv


_within = within
# YAML reads unquoted timestamps as datetimes; keep them as ISO text, parsed once by parse_utc
Instant = Annotated[
    str, BeforeValidator(lambda v: v.isoformat() if isinstance(v, dt.datetime | dt.date) else v)
]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)  # YAML true is not 1.0


class SiteSpec(_Strict):
    lat_deg: Latitude
    lon_deg: Longitude


class SensorSpec(_Strict):
    """A partner's sensor parameters (every key optional; defaults are the modules' named constants)."""

    frame_s: Positive = DEFAULT_FRAME_S
    los_sigma_urad: Positive = DEFAULT_LOS_SIGMA_URAD
    min_elevation_deg: Annotated[float, _within(-90.0, 90.0, hi_open=True)] = DEFAULT_MIN_ELEVATION_DEG
    field_of_regard_deg: Annotated[float, _within(0.0, 90.0, lo_open=True)] | None = None
    nei_w_m2: Positive = DEFAULT_NEI_W_M2
    pd_snr50: Positive = DEFAULT_PD_SNR50
    false_alarms_per_frame: NonNegative = DEFAULT_FALSE_ALARMS_PER_FRAME
    visible_alt_m: NonNegative = DEFAULT_VISIBLE_ALT_M

    def models(self) -> tuple[SensorModel, SignalModel]:
        return (
            SensorModel(self.min_elevation_deg, self.field_of_regard_deg, self.frame_s, self.los_sigma_urad),
            SignalModel(self.nei_w_m2, self.pd_snr50, self.false_alarms_per_frame, self.visible_alt_m),
        )


class PartnerSpec(_Strict):
    id: Identifier
    constellation: str
    sensor: SensorSpec = SensorSpec()


class LaunchSpec(_Strict):
    id: Identifier
    site: SiteSpec
    time: Instant
    vehicle: str | None = None
    azimuth_deg: Azimuth | None = None
    loft_deg: Annotated[float, _within(0.0, 90.0)] | None = None
    target: SiteSpec | None = None
    telemetry: str | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> LaunchSpec:
        if self.telemetry is not None:
            if self.vehicle is not None or self.target is not None or self.loft_deg is not None:
                raise ValueError(
                    "telemetry: a replay takes site, time and azimuth_deg only (no vehicle/target/loft)"
                )
            if self.azimuth_deg is None:
                raise ValueError("azimuth_deg: required with telemetry")
            return self
        if self.vehicle is None:
            raise ValueError("vehicle: required (or telemetry for a replay)")
        if (self.azimuth_deg is None) == (self.target is None):
            raise ValueError("azimuth_deg/target: give exactly one of them")
        if self.target is not None and self.loft_deg is not None:
            raise ValueError("loft_deg: not used with target (the trajectory is solved to reach it)")
        return self


class ScenarioSpec(_Strict):
    name: str = "scenario"
    epoch: Instant
    duration_s: Annotated[float, _within(0.0, MAX_DURATION_S, lo_open=True)]
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] | None = None
    partners: Annotated[list[PartnerSpec], Field(min_length=1)]
    launches: list[LaunchSpec] = []
    agreements: list[str] = []
    notifications: list[str] = []


@dataclass(frozen=True)
class Partner:
    id: str
    constellation: Constellation
    sensor: SensorModel
    signal: SignalModel


@dataclass(frozen=True)
class Launch:
    """A resolved launch: ``time_s`` from the epoch; ``vehicle`` a name or path; ``telemetry`` a CSV path."""

    id: str
    site_lat_deg: float
    site_lon_deg: float
    time_s: float
    vehicle: str | None
    azimuth_deg: float | None
    loft_deg: float | None
    target: tuple[float, float] | None
    telemetry: Path | None


@dataclass(frozen=True)
class Scenario:
    """A validated, resolved scenario: epoch (aware UTC), duration (s), partners, launches, paths."""

    name: str
    path: Path
    epoch: dt.datetime
    duration_s: float
    seed: int | None
    partners: tuple[Partner, ...]
    launches: tuple[Launch, ...]
    agreements: tuple[Path, ...]
    notifications: tuple[Path, ...]

    @property
    def epoch_iso(self) -> str:
        return self.epoch.isoformat().replace("+00:00", "Z")


def parse_scenario(data: object, source: str = "<scenario>") -> ScenarioSpec:
    """Validate a parsed YAML document against the schema; one ConfigError line on failure."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the scenario must be a mapping of keys, not {type(data).__name__}")
    try:
        return ScenarioSpec.model_validate(data)
    except ValidationError as err:
        raise ConfigError(validation_message(source, err)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and resolve a scenario YAML file (constellations are loaded, files checked)."""
    path = Path(path)
    spec = parse_scenario(read_yaml(path, "scenario"), path.name)
    return resolve(spec, path)


def resolve(spec: ScenarioSpec, path: Path) -> Scenario:
    """Turn a validated spec into a :class:`Scenario`: times, files (relative to ``path``), constellations."""
    source, base = path.name, path.parent
    epoch = _parse_time(spec.epoch, f"{source}: epoch")
    _unique([p.id for p in spec.partners], f"{source}: partners", "id")
    _unique([launch.id for launch in spec.launches], f"{source}: launches", "id")
    partners = tuple(_partner(p, i, base, source) for i, p in enumerate(spec.partners))
    _check_memory(partners, spec.duration_s, source)
    launches = tuple(
        _launch(la, i, base, source, epoch, spec.duration_s) for i, la in enumerate(spec.launches)
    )
    return Scenario(
        name=spec.name,
        path=path,
        epoch=epoch,
        duration_s=float(spec.duration_s),
        seed=spec.seed,
        partners=partners,
        launches=launches,
        agreements=tuple(_file(base, f, f"{source}: agreements[{i}]") for i, f in enumerate(spec.agreements)),
        notifications=tuple(
            _file(base, f, f"{source}: notifications[{i}]") for i, f in enumerate(spec.notifications)
        ),
    )


def _check_memory(partners: tuple[Partner, ...], duration_s: float, source: str) -> None:
    """Refuse a scenario whose frames or false alarms cannot fit in memory (vigil.limits), before simulating."""
    from ..limits import check_memory

    per_sat = [duration_s / p.sensor.frame_s for p in partners]
    frames = [n * len(p.constellation) for n, p in zip(per_sat, partners, strict=True)]
    alarms = [f * p.signal.false_alarms_per_frame for f, p in zip(frames, partners, strict=True)]
    worst = max(
        range(len(partners)), key=lambda i: per_sat[i] * BYTES_PER_FRAME + alarms[i] * BYTES_PER_OBSERVATION
    )
    peak = max(per_sat) * BYTES_PER_FRAME + sum(alarms) * BYTES_PER_OBSERVATION
    check_memory(
        peak,
        f"{source}: partners[{worst}].sensor",
        f"{sum(frames):.3g} frames, {sum(alarms):.3g} expected false alarms",
        "raise frame_s or lower false_alarms_per_frame or duration_s",
    )


def _parse_time(text: str, where: str) -> dt.datetime:
    try:
        return parse_utc(text)
    except ConfigError:
        raise ConfigError(
            f"{where}: {text!r} is not an ISO 8601 date-time (e.g. 2026-03-01T12:00:00Z)"
        ) from None


def _unique(ids: list[str], where: str, key: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise ConfigError(f"{where}[{i}].{key}: {x!r} is used twice")
        seen.add(x)


def _file(base: Path, name: str, where: str) -> Path:
    p = (base / name).resolve()
    if not p.is_file():
        raise ConfigError(f"{where}: file not found: {p}")
    return p


def _partner(p: PartnerSpec, i: int, base: Path, source: str) -> Partner:
    from ..space.elements import load_constellation

    path = _file(base, p.constellation, f"{source}: partners[{i}].constellation")
    sensor, signal = p.sensor.models()
    return Partner(p.id, load_constellation(path, name=p.id), sensor, signal)


def shipped_telemetry(name: str) -> Path:
    """Path of a shipped telemetry profile (``vigil/data/telemetry/<name>.csv``)."""
    from importlib import resources

    return Path(str(resources.files("vigil") / "data" / "telemetry" / f"{name}.csv"))


def _launch(la: LaunchSpec, i: int, base: Path, source: str, epoch: dt.datetime, duration_s: float) -> Launch:
    where = f"{source}: launches[{i}]"
    t = _parse_time(la.time, f"{where}.time")
    time_s = (t - epoch).total_seconds()
    if not 0.0 <= time_s < duration_s:
        raise ConfigError(f"{where}.time: {la.time} is outside the scenario (epoch + [0, {duration_s:g}) s)")
    telemetry = None
    if la.telemetry is not None:
        if la.telemetry.startswith(SHIPPED_TELEMETRY_PREFIX):
            telemetry = shipped_telemetry(la.telemetry.removeprefix(SHIPPED_TELEMETRY_PREFIX))
            if not telemetry.is_file():
                raise ConfigError(f"{where}.telemetry: no shipped profile {la.telemetry!r}")
        else:
            telemetry = _file(base, la.telemetry, f"{where}.telemetry")
    vehicle = la.vehicle
    if vehicle is not None:
        vehicle = _vehicle(vehicle, base, f"{where}.vehicle")
    target = None if la.target is None else (la.target.lat_deg, la.target.lon_deg)
    return Launch(
        la.id,
        la.site.lat_deg,
        la.site.lon_deg,
        time_s,
        vehicle,
        la.azimuth_deg,
        la.loft_deg,
        target,
        telemetry,
    )


def _vehicle(name: str, base: Path, where: str) -> str:
    """A vehicle file path (resolved, must exist) or a built-in name (checked against the flight package)."""
    if name.endswith((".yaml", ".yml")) or "/" in name:
        return str(_file(base, name, where))
    from ..flight.vehicle import builtin_vehicles

    known = builtin_vehicles()
    if name not in known:
        raise ConfigError(f"{where}: unknown vehicle {name!r} (built-in: {', '.join(known) or 'none'})")
    return name
