"""Launch generators: a campaign's launches drawn afresh for every seed instead of the scenario's fixed list.

A campaign's ``generator:`` block replaces the scenario's ``launches`` (the scenario still gives the
partners, sensors, agreements, epoch and duration)::

    generator:
      count: 4                          # launches per seed, times uniform in the window ...
      # rate_per_hour: 30               # ... or a Poisson process of this rate over the window
      window_s: [30, 300]               # seconds after the epoch (default: the whole scenario)
      azimuth_deg: {uniform: [0, 360]}  # a number, {uniform: [lo, hi]} or {normal: {mean: m, sd: s}}
      sites:
        - {pad: baikonur}               # a named pad (vigil.campaign.pads) ...
        - {name: east-coast, lat_deg: 39.0, lon_deg: 125.0, weight: 2, azimuth_deg: {uniform: [60, 120]}}
      vehicles:
        - {vehicle: notional-icbm-3stage, weight: 2, sites: [baikonur]}
        - {vehicle: notional-srbm-1stage, range_km: {uniform: [300, 800]}}   # aimed: min-energy to the range
        - {telemetry: falcon9/*, sites: [east-coast]}                        # one of the shipped replays

Each seed's draws come from their own stream, ``SeedSequence(seed, spawn_key=(GENERATOR_STREAM,))``,
independent of the simulation's ``default_rng(seed)``; so a seed's launches are the same in every variant
(common random numbers), on every worker, in any order. Per launch, in time order: the vehicle (by weight),
the site among those the vehicle allows (by weight), the azimuth (the site's distribution, else the
generator's; taken mod 360), the replay profile, then the loft or the range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config import Latitude, Longitude, Positive
from ..errors import ConfigError
from ..sim.scenario import SHIPPED_TELEMETRY_PREFIX, Identifier, Launch, shipped_telemetry
from .dists import AnyDist, Dist, LoftDist, RangeDist
from .pads import PADS

GENERATOR_STREAM = 0x6C61756E  # "laun": the spawn key of the generator's stream of each seed
MAX_EXPECTED_LAUNCHES = 1000  # per seed; a larger rate × window is almost surely a unit slip
REACH_MARGIN = 0.02  # ranges must sit 2 % inside the vehicle's conservative reach (see reach_km)
ANY_PROFILE = "*"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SiteDraw(_Strict):
    """A named pad, or a latitude / longitude (``name`` to refer to it from a vehicle's ``sites``)."""

    pad: str | None = None
    name: Identifier | None = None
    lat_deg: Latitude | None = None
    lon_deg: Longitude | None = None
    weight: Positive = 1.0
    azimuth_deg: AnyDist = None

    @model_validator(mode="after")
    def _where(self) -> SiteDraw:
        if self.pad is not None:
            if self.lat_deg is not None or self.lon_deg is not None:
                raise ValueError("pad: give a pad or lat_deg/lon_deg, not both")
            if self.pad not in PADS:
                raise ValueError(f"pad: unknown pad {self.pad!r} (known: {', '.join(PADS)})")
        elif self.lat_deg is None or self.lon_deg is None:
            raise ValueError("lat_deg/lon_deg: give both (or a pad)")
        return self

    @property
    def label(self) -> str | None:
        return self.name or self.pad


class VehicleDraw(_Strict):
    """A notional vehicle (flown, or aimed at a drawn range) or a telemetry replay (``falcon9/*``: any)."""

    vehicle: str | None = None
    telemetry: str | None = None
    weight: Positive = 1.0
    sites: Annotated[list[str], Field(min_length=1)] | None = None
    loft_deg: LoftDist = None
    range_km: RangeDist = None

    @model_validator(mode="after")
    def _one_kind(self) -> VehicleDraw:
        if (self.vehicle is None) == (self.telemetry is None):
            raise ValueError("vehicle/telemetry: give exactly one of them")
        if self.telemetry is not None and (self.loft_deg is not None or self.range_km is not None):
            raise ValueError("telemetry: a replay takes no loft_deg or range_km")
        if self.loft_deg is not None and self.range_km is not None:
            raise ValueError("range_km: not with loft_deg (an aimed flight solves its own loft)")
        return self


class GeneratorSpec(_Strict):
    count: Annotated[int, Field(ge=0)] | None = None
    rate_per_hour: Positive | None = None
    window_s: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None
    azimuth_deg: AnyDist = Dist("uniform", 0.0, 360.0)
    sites: Annotated[list[SiteDraw], Field(min_length=1)]
    vehicles: Annotated[list[VehicleDraw], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> GeneratorSpec:
        if (self.count is None) == (self.rate_per_hour is None):
            raise ValueError("count/rate_per_hour: give exactly one of them")
        labels = [s.label for s in self.sites]
        for i, x in enumerate(labels):
            if x is not None and x in labels[:i]:
                raise ValueError(f"sites[{i}]: {x!r} is used twice (give it a name)")
        for i, v in enumerate(self.vehicles):
            for x in v.sites or ():
                if x not in labels:
                    raise ValueError(
                        f"vehicles[{i}].sites: no site {x!r} (sites: {', '.join(filter(None, labels))})"
                    )
        return self


@dataclass(frozen=True)
class Site:
    name: str
    lat_deg: float
    lon_deg: float
    weight: float
    azimuth: Dist | None


@dataclass(frozen=True)
class Source:
    """One vehicle class: ``label`` (vehicle name or ``falcon9/<profile>``), what flies it, where from."""

    label: str
    vehicle: str | None
    profiles: tuple[tuple[str, str], ...]  # (label, csv path) of each replay it may draw
    weight: float
    sites: tuple[int, ...]
    loft: Dist | None
    range_km: Dist | None


@dataclass(frozen=True)
class LaunchGenerator:
    """A validated generator bound to its campaign: resolved sites, vehicles and time window."""

    count: int | None
    rate_per_hour: float | None
    window_s: tuple[float, float]
    azimuth: Dist
    sites: tuple[Site, ...]
    sources: tuple[Source, ...]

    @property
    def expected_launches(self) -> float:
        if self.count is not None:
            return float(self.count)
        return self.rate_per_hour * (self.window_s[1] - self.window_s[0]) / 3600.0


def _shipped_profiles() -> tuple[tuple[str, str], ...]:
    folder = shipped_telemetry("x").parent
    return tuple((f"{SHIPPED_TELEMETRY_PREFIX}{p.stem}", str(p)) for p in sorted(folder.glob("*.csv")))


def _profiles(name: str, base: Path, where: str) -> tuple[tuple[str, str], ...]:
    if name == SHIPPED_TELEMETRY_PREFIX + ANY_PROFILE:
        return _shipped_profiles()
    if name.startswith(SHIPPED_TELEMETRY_PREFIX):
        path = shipped_telemetry(name.removeprefix(SHIPPED_TELEMETRY_PREFIX))
        if not path.is_file():
            known = ", ".join(label for label, _ in _shipped_profiles())
            raise ConfigError(f"{where}: no shipped profile {name!r} (shipped: {known}, or falcon9/*)")
        return ((name, str(path)),)
    path = (base / name).resolve()
    if not path.is_file():
        raise ConfigError(f"{where}: file not found: {path}")
    return ((name, str(path)),)


def _vehicle(name: str, base: Path, where: str):
    from ..flight.vehicle import builtin_vehicles, load_vehicle

    if name.endswith((".yaml", ".yml")) or "/" in name:
        path = (base / name).resolve()
        if not path.is_file():
            raise ConfigError(f"{where}: file not found: {path}")
        name = str(path)
    elif name not in builtin_vehicles():
        raise ConfigError(f"{where}: unknown vehicle {name!r} (built-in: {', '.join(builtin_vehicles())})")
    return name, load_vehicle(name)


@lru_cache(maxsize=32)
def reach_km(vehicle: str) -> tuple[float, float]:
    """Conservative ground ranges (km) every aimed flight of ``vehicle`` can reach from any site and azimuth:
    above the shortest controlled flight due east from the equator (the rotating Earth lengthens it most
    there) and below the full-burn maximum range due west from the equator (shortened most there)."""
    from ..flight.targeting import max_range
    from ..flight.vehicle import load_vehicle

    v = load_vehicle(vehicle)
    shortest_cut_s = v.vertical_rise_s + v.pitch_over_s + 1.0  # the targeting search's shortest cut-off
    _, short_m = max_range(v, 0.0, 0.0, math.pi / 2.0, shortest_cut_s)
    _, long_m = max_range(v, 0.0, 0.0, 1.5 * math.pi, None)
    return short_m / 1e3, long_m / 1e3


def _check_reach(name: str, vehicle, dist: Dist, where: str) -> None:
    if vehicle.kind != "ballistic":
        raise ConfigError(
            f"{where}: only for ballistic vehicles ({vehicle.name} is a {vehicle.kind} vehicle)"
        )
    short, long = reach_km(name)
    lo, hi = dist.support
    if lo < short * (1.0 + REACH_MARGIN) or hi > long * (1.0 - REACH_MARGIN):
        raise ConfigError(
            f"{where}: [{lo:g}, {hi:g}] km is outside what {vehicle.name} reaches from every site and "
            f"azimuth ([{short * (1 + REACH_MARGIN):.0f}, {long * (1 - REACH_MARGIN):.0f}] km)"
        )


def _source(v: VehicleDraw, i: int, labels: list[str], base: Path, where: str) -> Source:
    where = f"{where}.vehicles[{i}]"
    sites = tuple(range(len(labels))) if v.sites is None else tuple(labels.index(x) for x in v.sites)
    if v.telemetry is not None:
        profiles = _profiles(v.telemetry, base, f"{where}.telemetry")
        return Source(v.telemetry, None, profiles, v.weight, sites, None, None)
    name, vehicle = _vehicle(v.vehicle, base, f"{where}.vehicle")
    if v.range_km is not None:
        _check_reach(name, vehicle, v.range_km, f"{where}.range_km")
    return Source(v.vehicle, name, (), v.weight, sites, v.loft_deg, v.range_km)


def bind_generator(spec: GeneratorSpec, duration_s: float, base: Path, where: str) -> LaunchGenerator:
    """Resolve ``spec`` against the scenario's duration and the campaign's folder (relative paths); one
    ConfigError line naming ``where`` and the key on a fault."""
    lo, hi = spec.window_s if spec.window_s is not None else (0.0, duration_s)
    if not 0.0 <= lo < hi <= duration_s:
        raise ConfigError(
            f"{where}.window_s: [{lo:g}, {hi:g}] is not an interval inside the scenario's "
            f"[0, {duration_s:g}] s"
        )
    labels = [s.label or f"site-{i}" for i, s in enumerate(spec.sites)]
    sites = tuple(
        Site(label, *(PADS[s.pad] if s.pad else (s.lat_deg, s.lon_deg)), s.weight, s.azimuth_deg)
        for label, s in zip(labels, spec.sites, strict=True)
    )
    sources = tuple(_source(v, i, labels, base, where) for i, v in enumerate(spec.vehicles))
    gen = LaunchGenerator(
        spec.count, spec.rate_per_hour, (float(lo), float(hi)), spec.azimuth_deg, sites, sources
    )
    if gen.expected_launches > MAX_EXPECTED_LAUNCHES:
        raise ConfigError(
            f"{where}.rate_per_hour: {gen.expected_launches:.0f} launches expected per seed over the "
            f"window, more than {MAX_EXPECTED_LAUNCHES}"
        )
    return gen


def generator_rng(seed: int) -> np.random.Generator:
    """The generator's stream of ``seed`` (independent of the simulation's ``default_rng(seed)``)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(GENERATOR_STREAM,)))


def draw_times(gen: LaunchGenerator, rng: np.random.Generator) -> np.ndarray:
    """Launch times (s after the epoch, ascending) in the window: ``count`` uniform draws, or the arrivals
    of a Poisson process of ``rate_per_hour`` (exponential gaps from the window's start)."""
    lo, hi = gen.window_s
    if gen.count is not None:
        times = np.sort(rng.uniform(lo, hi, gen.count))
    else:
        mean_gap_s, t, out = 3600.0 / gen.rate_per_hour, lo, []
        while (t := t + float(rng.exponential(mean_gap_s))) < hi:
            out.append(t)
        times = np.asarray(out, dtype=float)
    return np.minimum(times, np.nextafter(hi, lo))  # [lo, hi): a rounded draw never lands on the end


def _pick(rng: np.random.Generator, weights: list[float]) -> int:
    w = np.asarray(weights, dtype=float)
    return int(rng.choice(len(w), p=w / w.sum()))


def draw_launches(gen: LaunchGenerator, seed: int) -> tuple[tuple[Launch, ...], list[dict]]:
    """The launches of ``seed`` (ids ``G000``, ``G001``, … in time order) and one row per launch of what was
    drawn (source, site, time, azimuth, loft, range) for the record."""
    rng = generator_rng(seed)
    launches, rows = [], []
    for i, t in enumerate(draw_times(gen, rng)):
        src = gen.sources[_pick(rng, [s.weight for s in gen.sources])]
        site = gen.sites[src.sites[_pick(rng, [gen.sites[j].weight for j in src.sites])]]
        az = (site.azimuth or gen.azimuth).draw(rng) % 360.0
        az = 0.0 if az >= 360.0 else az  # -1e-17 % 360 is 360.0
        label, telemetry = (
            src.profiles[int(rng.integers(len(src.profiles)))] if src.profiles else (src.label, None)
        )
        loft = src.loft.draw(rng) if src.loft is not None else None
        range_km = src.range_km.draw(rng) if src.range_km is not None else None
        target = None
        if range_km is not None:
            from ..frames import great_circle_destination

            lat2, lon2 = great_circle_destination(
                math.radians(site.lat_deg), math.radians(site.lon_deg), math.radians(az), range_km * 1e3
            )
            target = (math.degrees(float(lat2)), math.degrees(float(lon2)))
        lid = f"G{i:03d}"
        launches.append(
            Launch(
                lid,
                site.lat_deg,
                site.lon_deg,
                float(t),
                src.vehicle,
                None if target else az,
                loft,
                target,
                None if telemetry is None else Path(telemetry),
            )
        )
        rows.append(
            {
                "id": lid,
                "source": label,
                "site": site.name,
                "site_lat_deg": site.lat_deg,
                "site_lon_deg": site.lon_deg,
                "time_s": float(t),
                "azimuth_deg": az,
                "loft_deg": loft,
                "range_km": range_km,
            }
        )
    return tuple(launches), rows
