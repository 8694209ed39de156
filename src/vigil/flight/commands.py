"""``vigil fly`` and ``vigil replay``: one flight, its key figures as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from rich.table import Table

from ..config import Azimuth, Latitude, Loft, Longitude, check_options
from ..errors import ConfigError
from ..outputs import check_output, write_text_atomic
from .launch import fly
from .replay import replay
from .summary import summarize
from .targeting import fly_to_target


def format_summary(summary: dict) -> Table:
    """The figures of :func:`vigil.flight.summary.summarize` as a two-column table."""
    table = Table(title=f"{summary['launch_id']} ({summary['kind']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key not in ("launch_id", "kind"):
            table.add_row(key, "—" if value is None else f"{value:.3f}")
    return table


class SiteOptions(BaseModel):
    """The flags of ``fly`` and ``replay``, with the ranges every scenario file uses (vigil.config)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    lat_deg: Latitude = Field(alias="--lat")
    lon_deg: Longitude = Field(alias="--lon")
    azimuth_deg: Azimuth | None = Field(None, alias="--azimuth")
    loft_deg: Loft | None = Field(None, alias="--loft")
    target_lat_deg: Latitude | None = Field(None, alias="--target latitude")
    target_lon_deg: Longitude | None = Field(None, alias="--target longitude")


def _emit(summary: dict, json_out: Path | None, quiet: bool) -> None:
    if json_out:
        write_text_atomic(json_out, json.dumps(summary, indent=2), "--json")
    Console(quiet=quiet).print(format_summary(summary))


def fly_command(
    vehicle: str = typer.Argument(..., help="built-in vehicle name or vehicle YAML file"),
    lat_deg: float = typer.Option(..., "--lat", help="launch site geodetic latitude (deg)"),
    lon_deg: float = typer.Option(..., "--lon", help="launch site longitude (deg)"),
    azimuth_deg: float | None = typer.Option(None, "--azimuth", help="launch azimuth (deg from north)"),
    loft_deg: float | None = typer.Option(
        None, "--loft", help="pitch-over angle (deg); default the vehicle's"
    ),
    target: str | None = typer.Option(None, "--target", help="LAT,LON (deg): minimum-energy flight to it"),
    json_out: Path | None = typer.Option(None, "--json", help="write the figures as JSON here"),
    quiet: bool = typer.Option(False, "--quiet", help="no table"),
    force: bool = typer.Option(False, "--force", help="replace an existing --json file"),
) -> None:
    """Fly a vehicle from a site along an azimuth (or to a target) and print burnout, range, orbit."""
    if (azimuth_deg is None) == (target is None):
        raise ConfigError("--azimuth/--target: give exactly one")
    tlat = tlon = None
    if target is not None:
        try:
            tlat, tlon = (float(x) for x in target.split(","))
        except ValueError:
            raise ConfigError(f"--target: {target!r} is not LAT,LON in degrees") from None
    o = check_options(
        SiteOptions,
        **{
            "--lat": lat_deg,
            "--lon": lon_deg,
            "--azimuth": azimuth_deg,
            "--loft": loft_deg,
            "--target latitude": tlat,
            "--target longitude": tlon,
        },
    )
    if json_out:
        check_output(json_out, "--json", [Path(vehicle)], force)
    if o.target_lat_deg is not None and o.target_lon_deg is not None:
        tr = fly_to_target(vehicle, (o.lat_deg, o.lon_deg), 0.0, o.target_lat_deg, o.target_lon_deg)
    else:
        tr = fly(vehicle, o.lat_deg, o.lon_deg, 0.0, o.azimuth_deg, o.loft_deg)
    _emit(summarize(tr), json_out, quiet)


def replay_command(
    csv_path: Path = typer.Argument(..., help="telemetry CSV (time_s, altitude_m, downrange_m, ...)"),
    lat_deg: float = typer.Option(..., "--lat", help="pad geodetic latitude (deg)"),
    lon_deg: float = typer.Option(..., "--lon", help="pad longitude (deg)"),
    azimuth_deg: float = typer.Option(..., "--azimuth", help="launch azimuth (deg from north)"),
    json_out: Path | None = typer.Option(None, "--json", help="write the figures as JSON here"),
    quiet: bool = typer.Option(False, "--quiet", help="no table"),
    force: bool = typer.Option(False, "--force", help="replace an existing --json file"),
) -> None:
    """Replay a telemetry profile from a pad along an azimuth and print its figures."""
    o = check_options(SiteOptions, **{"--lat": lat_deg, "--lon": lon_deg, "--azimuth": azimuth_deg})
    if json_out:
        check_output(json_out, "--json", [csv_path], force)
    _emit(summarize(replay(csv_path, o.lat_deg, o.lon_deg, 0.0, o.azimuth_deg)), json_out, quiet)


def register(app: typer.Typer) -> None:
    app.command("fly")(fly_command)
    app.command("replay")(replay_command)
