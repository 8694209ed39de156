"""``vigil demo``: the main job, end to end, offline, on the shipped two-partner example."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console

from .coverage.analysis import compute_coverage
from .coverage.commands import format_sharing_table, gap_map_path, load_partners, plot_coverage
from .coverage.grid import Grid
from .errors import ConfigError
from .progress import progress_bar
from .sensors.model import SensorModel

DEMO_START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _example(root: Path, rel: str) -> Path:
    path = root / rel
    if not path.exists():
        raise ConfigError(
            f"--examples: {path} not found (run from the repository root or pass --examples DIR)"
        )
    return path


def demo(
    out: Path = typer.Option(Path("out/demo"), "--out", help="output folder"),
    examples: Path = typer.Option(Path("examples"), "--examples", help="folder of the shipped examples"),
) -> None:
    """Two-partner coverage study (north GEO + east HEO): value-of-sharing table and maps."""
    console = Console()
    specs = [
        f"north={_example(examples, 'constellations/north.tle')}",
        f"east={_example(examples, 'constellations/east.json')}",
    ]
    partners = load_partners(specs, SensorModel(min_elevation_deg=5.0), DEMO_START)
    console.rule("Vigil demo: coverage and the value of sharing (24 h, 1° grid, 60 s step, min elevation 5°)")
    with progress_bar("coverage") as advance:
        result = compute_coverage(partners, Grid.global_(1.0), DEMO_START, 86400.0, 60.0, progress=advance)
    console.print(format_sharing_table(result))
    png = out / "coverage.png"
    plot_coverage(result, png)
    console.print(f"coverage maps written to {png} and {gap_map_path(png)}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
