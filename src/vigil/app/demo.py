"""``vigil demo``: the main job, end to end, offline, on the shipped two-partner example."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console

from ..coverage.analysis import compute_coverage
from ..coverage.commands import format_sharing_table, gap_map_path, load_partners, plot_coverage
from ..coverage.grid import Grid
from ..errors import ConfigError
from ..progress import progress_bar
from ..sensors.model import SensorModel
from .run import print_run, run_scored

DEMO_START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DEMO_SCENARIO = "scenarios/two-partner.yaml"
COVERAGE_CELL_DEG = 2.0  # coarse enough to keep the whole demo well under a minute
COVERAGE_STEP_S = 60.0


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
    force: bool = typer.Option(False, "--force", help="replace the outputs of an earlier demo in --out"),
) -> None:
    """Two-partner demo (north GEO + east HEO): coverage and the value of sharing, then the full warning
    chain (simulate, fuse, match notifications, score) on the shipped scenario."""
    from ..outputs import check_output

    check_output(out / "coverage.png", "--out", [examples], force)
    check_output(gap_map_path(out / "coverage.png"), "--out", [examples], force)
    check_output(out / "run", "--out", [examples], force, folder=True)
    console = Console()
    specs = [
        f"north={_example(examples, 'constellations/north.tle')}",
        f"east={_example(examples, 'constellations/east.json')}",
    ]
    partners = load_partners(specs, SensorModel(min_elevation_deg=5.0), DEMO_START)
    console.rule(
        f"Vigil demo: coverage and the value of sharing (24 h, {COVERAGE_CELL_DEG:g}° grid, "
        f"{COVERAGE_STEP_S:g} s step, min elevation 5°)"
    )
    with progress_bar("coverage") as advance:
        result = compute_coverage(
            partners, Grid.global_(COVERAGE_CELL_DEG), DEMO_START, 86400.0, COVERAGE_STEP_S, progress=advance
        )
    console.print(format_sharing_table(result))
    png = out / "coverage.png"
    plot_coverage(result, png)
    console.print(f"coverage maps written to {png} and {gap_map_path(png)}")
    scenario = _example(examples, DEMO_SCENARIO)
    console.rule(f"Vigil demo: the warning chain on {scenario} (simulate, fuse, match notifications, score)")
    run = run_scored(scenario, out / "run", force=force)
    print_run(console, run.score)
    console.print(f"score, warnings and observations written to {out / 'run'}")
    console.print(f"hand-over report: vigil report {out / 'run'} --out {out / 'report.html'}", soft_wrap=True)
    console.print(
        f"open the operators' console: vigil serve {out / 'run'}   (then http://127.0.0.1:8080/)",
        soft_wrap=True,
    )  # the last line: how to open the console (issue 12)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
