"""``vigil simulate SCENARIO --out DIR [--seed N] [--format parquet|jsonl]``: observations, truth, summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from ..config import MAX_SEED
from ..errors import ConfigError
from ..outputs import check_output, output_folder
from .engine import SimulationResult, simulate
from .io import OBSERVATIONS_JSONL, OBSERVATIONS_PARQUET, write_associations, write_json, write_observations
from .scenario import load_scenario

DEFAULT_SEED = 0  # used when neither --seed nor the scenario's `seed` is given


def write_result(result: SimulationResult, out: Path, fmt: str = "parquet") -> dict[str, Path]:
    """Write every output file of a simulation into the folder ``out`` (created); returns name → path."""
    out.mkdir(parents=True, exist_ok=True)
    obs_name = OBSERVATIONS_PARQUET if fmt == "parquet" else OBSERVATIONS_JSONL
    obs = result.observations
    return {
        "observations": write_observations(obs, out / obs_name, fmt),
        "truth_associations": write_associations(
            obs.obs_id, result.truth_launch, result.t_emit_s, out / "truth_associations.parquet"
        ),
        "truth": write_json({"epoch": result.epoch, "launches": result.truth}, out / "truth.json"),
        "summary": write_json(result.summary, out / "summary.json"),
    }


def run_simulate(
    scenario_path: Path,
    out: Path,
    seed: int | None = None,
    fmt: str = "parquet",
    show_progress: bool = True,
    force: bool = False,
) -> tuple[SimulationResult, dict[str, Path]]:
    """Load, simulate and write; the seed is ``seed``, else the scenario's, else :data:`DEFAULT_SEED`.
    ``out`` must not exist (or be an empty folder) unless ``force``; it appears whole or not at all."""
    if fmt not in ("parquet", "jsonl"):
        raise ConfigError(f"--format: {fmt!r} is not one of parquet, jsonl")
    scenario = load_scenario(scenario_path)
    check_output(out, "--out", [scenario_path], force, folder=True)
    chosen = seed if seed is not None else (scenario.seed if scenario.seed is not None else DEFAULT_SEED)
    rng = np.random.default_rng(chosen)
    if not show_progress:
        result = simulate(scenario, rng)
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"simulating {scenario.name}", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = simulate(scenario, rng, progress=advance)
    result.summary["seed"] = chosen
    with output_folder(out) as tmp:
        written = write_result(result, tmp, fmt)
    return result, {name: out / path.name for name, path in written.items()}


def format_summary(summary: dict) -> str:
    """A few lines for the terminal: observations, false alarms, first detection per launch."""
    lines = [
        f"{summary['observations']} observations, {summary['false_alarms']} false alarms "
        f"from {len(summary['sensors'])} sensors"
    ]
    for la in summary["launches"]:
        first = la["first_detection_s"]
        stereo = la["first_stereo_visible_s"]
        lines.append(
            f"  {la['id']}: {la['detections']} detections, first at "
            f"{'-' if first is None else f'{first:.1f} s'}, stereo-visible from "
            f"{'-' if stereo is None else f'{stereo:.0f} s'}"
        )
    return "\n".join(lines)


def simulate_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, max=MAX_SEED, help="Random seed (default: the scenario's).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Observation file format: parquet or jsonl.")
    ] = "parquet",
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out folder.")] = False,
) -> None:
    """Simulate a scenario: observations, truth associations, truth and summary files in --out."""
    import json

    result, paths = run_simulate(scenario, out, seed, fmt, show_progress=not json_out, force=force)
    if json_out:
        typer.echo(json.dumps(result.summary))
    else:
        typer.echo(format_summary(result.summary))
        typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}")


def register(app: typer.Typer) -> None:
    """Add ``vigil simulate`` to the CLI."""
    app.command("simulate")(simulate_command)
