"""``vigil coverage``: who sees where, per partner and jointly, and what sharing is worth."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, Field, model_validator
from rich.console import Console
from rich.table import Table

from ..config import Positive, check_options, within
from ..errors import ConfigError
from ..outputs import check_output, write_text_atomic
from ..progress import progress_bar
from ..sensors.model import SensorModel
from ..space.elements import load_constellation
from ..timescale import parse_utc
from .analysis import TIME_CHUNK, CoverageResult, Partner, compute_coverage, value_of_sharing
from .grid import Grid


def parse_constellation_option(text: str) -> tuple[str | None, Path]:
    """``[NAME=]FILE`` → (name or None, path)."""
    name, sep, path = text.partition("=")
    if not sep:
        return None, Path(text)
    if not name.strip():
        raise ConfigError(f"--constellation: {text!r} has an empty partner name before '='")
    return name.strip(), Path(path)


def load_partners(specs: list[str], sensor: SensorModel, start) -> list[Partner]:
    partners: list[Partner] = []
    for spec in specs:
        name, path = parse_constellation_option(spec)
        const = load_constellation(path, name)
        if const.name in {p.name for p in partners}:
            raise ConfigError(f"--constellation: partner name {const.name!r} is given twice")
        for line in const.stale_warnings(start):
            warnings.warn(line, stacklevel=1)
        partners.append(Partner(const.name, const, sensor))
    return partners


def format_sharing_table(result: CoverageResult) -> Table:
    """The value-of-sharing table as a rich Table (percent of the Earth's area-weighted time)."""
    table = Table(title="Value of sharing: area-weighted fraction of time seen")
    table.add_column("view")
    table.add_column("≥ 1 satellite", justify="right")
    table.add_column("≥ 2 satellites (stereo)", justify="right")
    for row in value_of_sharing(result):
        table.add_row(row["view"], f"{100 * row['mean_frac_1']:.1f} %", f"{100 * row['mean_frac_2']:.1f} %")
    return table


# Bytes per grid cell (per-group int64 counters and their per-chunk twins: ~12 per group, the cell's
# ECEF point and up vector, the float maps of the result) and per time instant (offsets, Julian dates).
BYTES_PER_CELL_GROUP = 96
BYTES_PER_CELL = 112
BYTES_PER_INSTANT = 48


MAX_HOURS = 24 * 366  # a leap year of coverage at most


class CoverageOptions(BaseModel):
    """The numeric flags of ``coverage``, validated once (:func:`vigil.config.check_options`): errors name the
    flag the user typed. The grid's own rules (``--grid-deg`` divides 180, ``--altitude-km``) stay in
    :meth:`Grid.global_`, which names the flags itself."""

    model_config = ConfigDict(extra="forbid", strict=True)
    hours: Annotated[float, within(0.0, MAX_HOURS, lo_open=True)] = Field(alias="--hours")
    step_s: Positive = Field(alias="--step-s")
    min_elevation_deg: Annotated[float, within(-90.0, 90.0, hi_open=True)] = Field(
        alias="--min-elevation-deg"
    )

    @model_validator(mode="after")
    def _step_inside_span(self) -> CoverageOptions:
        if self.step_s > self.hours * 3600.0:
            raise ValueError(
                f"--step-s: {self.step_s:g} is longer than the span (--hours × 3600 = "
                f"{self.hours * 3600.0:g} s)"
            )
        return self


def _check_coverage_memory(grid: Grid, partners: list[Partner], hours: float, step_s: float) -> None:
    """Refuse a grid × span that cannot fit in memory (vigil.limits) before allocating it."""
    from ..limits import check_memory

    n_t = hours * 3600.0 / step_s
    n_sat = sum(len(p.constellation) for p in partners)
    cells = float(grid.size)
    need = (
        cells * (BYTES_PER_CELL + BYTES_PER_CELL_GROUP * (len(partners) + 1))
        + n_t * BYTES_PER_INSTANT
        + min(n_t, TIME_CHUNK) * n_sat * 3 * 8 * 2
    )
    check_memory(
        need,
        "--grid-deg/--hours/--step-s",
        f"{cells:.3g} cells, {n_t:.3g} instants",
        "use a coarser --grid-deg or a longer --step-s",
    )


def coverage(
    constellation: list[str] = typer.Option(..., "--constellation", help="[NAME=]FILE (TLE or OMM); repeat"),
    start: str = typer.Option(..., "--start", help="start instant, ISO 8601 UTC"),
    hours: float = typer.Option(24.0, "--hours", help="time span (h)"),
    step_s: float = typer.Option(60.0, "--step-s", help="time step (s)"),
    grid_deg: float = typer.Option(1.0, "--grid-deg", help="grid resolution (deg)"),
    min_elevation_deg: float = typer.Option(5.0, "--min-elevation-deg", help="minimum elevation (deg)"),
    altitude_km: float = typer.Option(0.0, "--altitude-km", help="target altitude above the ellipsoid (km)"),
    json_out: Path | None = typer.Option(None, "--json", help="write the summary as JSON here"),
    png_out: Path | None = typer.Option(None, "--png", help="write coverage maps (PNG) here"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar or table"),
    force: bool = typer.Option(False, "--force", help="replace existing --json / --png files"),
) -> None:
    """Coverage by ≥1 and ≥2 satellites per partner and jointly, with the value-of-sharing table."""
    t0 = parse_utc(start, "--start")
    check_options(
        CoverageOptions, **{"--hours": hours, "--step-s": step_s, "--min-elevation-deg": min_elevation_deg}
    )
    sensor = SensorModel(min_elevation_deg=min_elevation_deg)
    grid = Grid.global_(grid_deg, altitude_km * 1e3)
    partners = load_partners(constellation, sensor, t0)
    _check_coverage_memory(grid, partners, hours, step_s)
    inputs = [parse_constellation_option(c)[1] for c in constellation]
    outputs = [(json_out, "--json"), (png_out, "--png")] + (
        [(gap_map_path(png_out), "--png")] if png_out else []
    )
    for path, option in outputs:
        if path is not None:
            check_output(path, option, inputs, force)
    if (
        json_out is not None
        and png_out is not None
        and {json_out.resolve()} & {png_out.resolve(), gap_map_path(png_out).resolve()}
    ):
        raise ConfigError(f"--json/--png: {json_out} would be written twice; give two different files")
    console = Console(stderr=True, quiet=quiet)
    with progress_bar("coverage", console=console) as advance:
        result = compute_coverage(partners, grid, t0, hours * 3600.0, step_s, progress=advance)
    if json_out:
        _write(json_out, json.dumps(result.to_json(), indent=2))
    if png_out:
        plot_coverage(result, png_out)
    out = Console(quiet=quiet)
    out.print(format_sharing_table(result))
    if json_out:
        out.print(f"summary written to {json_out}")
    if png_out:
        out.print(f"maps written to {png_out} and {gap_map_path(png_out)}")


def plot_coverage(result: CoverageResult, path: Path) -> None:
    """PNG maps: one row per partner and one for all together; columns ≥1 and ≥2 satellites, longest gap."""
    from ..report.maps import plot_coverage_maps, plot_gap_map

    views = [*result.partners.items(), (" + ".join(result.partners) or "joint", result.joint)]
    panels = []
    for name, maps in views:
        panels += [(f"{name}: seen by ≥ 1", maps.frac_1), (f"{name}: seen by ≥ 2", maps.frac_2)]
    span = (
        f"{result.times.epoch:%Y-%m-%d %H:%M} UTC + {len(result.times) * result.step_s / 3600:g} h,"
        f" grid {result.grid.step_deg:g}°"
    )
    from ..outputs import atomic_file

    try:
        gaps = [(f"{name}: longest gap (h), ≥ 1", maps.longest_gap_s / 3600.0) for name, maps in views]
        with atomic_file(path, "--png") as tmp, atomic_file(gap_map_path(path), "--png") as tmp_gaps:
            plot_coverage_maps(
                result.grid.lat_deg, result.grid.lon_deg, panels, tmp, f"Fraction of time seen, {span}"
            )
            plot_gap_map(
                result.grid.lat_deg, result.grid.lon_deg, gaps, tmp_gaps, f"Longest gap, {span}", ncols=1
            )
    except OSError as err:
        raise ConfigError(f"{path}: cannot write ({err.strerror})") from None


def gap_map_path(path: Path) -> Path:
    """Where the longest-gap maps go, beside the coverage maps: ``NAME-gaps.png``."""
    return path.with_name(f"{path.stem}-gaps{path.suffix or '.png'}")


def _write(path: Path, text: str) -> None:
    write_text_atomic(path, text, "--json")


def register(app: typer.Typer) -> None:
    app.command("coverage")(coverage)
