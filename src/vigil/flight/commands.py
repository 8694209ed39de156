"""``vigil fly`` and ``vigil replay``: one flight, its key figures as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ..errors import ConfigError
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


def _emit(summary: dict, json_out: Path | None, quiet: bool) -> None:
    if json_out:
        try:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(summary, indent=2))
        except OSError as err:
            raise ConfigError(f"{json_out}: cannot write ({err.strerror})") from None
    Console(quiet=quiet).print(format_summary(summary))


def fly_command(
    vehicle: str = typer.Argument(..., help="built-in vehicle name or vehicle YAML file"),
    lat_deg: float = typer.Option(..., "--lat", help="launch site geodetic latitude (deg)"),
    lon_deg: float = typer.Option(..., "--lon", help="launch site longitude (deg)"),
    azimuth_deg: float | None = typer.Option(None, "--azimuth", help="launch azimuth (deg from north)"),
    loft_deg: float | None = typer.Option(None, "--loft", help="pitch-over angle (deg); default the vehicle's"),
    target: str | None = typer.Option(None, "--target", help="LAT,LON (deg): minimum-energy flight to it"),
    json_out: Path | None = typer.Option(None, "--json", help="write the figures as JSON here"),
    quiet: bool = typer.Option(False, "--quiet", help="no table"),
) -> None:
    """Fly a vehicle from a site along an azimuth (or to a target) and print burnout, range, orbit."""
    if (azimuth_deg is None) == (target is None):
        raise ConfigError("--azimuth/--target: give exactly one")
    if target is not None:
        try:
            tlat, tlon = (float(x) for x in target.split(","))
        except ValueError:
            raise ConfigError(f"--target: {target!r} is not LAT,LON in degrees") from None
        tr = fly_to_target(vehicle, (lat_deg, lon_deg), 0.0, tlat, tlon)
    else:
        tr = fly(vehicle, lat_deg, lon_deg, 0.0, azimuth_deg, loft_deg)
    _emit(summarize(tr), json_out, quiet)


def replay_command(
    csv_path: Path = typer.Argument(..., help="telemetry CSV (time_s, altitude_m, downrange_m, ...)"),
    lat_deg: float = typer.Option(..., "--lat", help="pad geodetic latitude (deg)"),
    lon_deg: float = typer.Option(..., "--lon", help="pad longitude (deg)"),
    azimuth_deg: float = typer.Option(..., "--azimuth", help="launch azimuth (deg from north)"),
    json_out: Path | None = typer.Option(None, "--json", help="write the figures as JSON here"),
    quiet: bool = typer.Option(False, "--quiet", help="no table"),
) -> None:
    """Replay a telemetry profile from a pad along an azimuth and print its figures."""
    _emit(summarize(replay(csv_path, lat_deg, lon_deg, 0.0, azimuth_deg)), json_out, quiet)


def register(app: typer.Typer) -> None:
    app.command("fly")(fly_command)
    app.command("replay")(replay_command)
