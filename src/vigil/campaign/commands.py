"""``vigil campaign CAMPAIGN.yaml --out DIR [--scheduler tcp://HOST:8786] [--workers N] [--no-report]``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .outputs import CampaignOutputs, write_outputs
from .runner import CampaignRun, run_campaign
from .spec import load_campaign


@contextmanager
def campaign_progress(
    label: str, console: Console | None = None
) -> Iterator[Callable[[int, int, int], None]]:
    """Yield ``update(done, failed, total)``: a bar of tasks done / total, failed count and ETA on stderr."""
    console = console or Console(stderr=True)
    if not console.is_terminal:  # a log file gets the closing lines only
        yield lambda done, failed, total: None
        return
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=None, failed=0)

        def update(done: int, failed: int, total: int) -> None:
            bar.update(task, completed=done, total=total, failed=failed)

        yield update


def format_result(run: CampaignRun, outputs: CampaignOutputs) -> str:
    """The closing lines: what ran, what failed, where the results are."""
    s = outputs.summary
    lines = [
        f"{s['campaign']}: {s['ok']} / {s['tasks']} tasks ok ({run.skipped} already stored, {run.ran} run now "
        f"on {run.workers} workers in {run.wall_s:.1f} s; {len(s['failed'])} failed, {s['missing']} missing)"
    ]
    lines += [f"  failed {f['key']}: {f['error']}" for f in s["failed"]]
    wrote = [outputs.launches, outputs.sharing, outputs.summary_path, outputs.report]
    lines.append("wrote " + ", ".join(str(p) for p in wrote if p is not None))
    return "\n".join(lines)


def campaign_command(
    campaign: Annotated[Path, typer.Argument(help="Campaign YAML file (scenario × seeds × variants).")],
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (tasks/, tables, summary.json, report.html).")
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="tcp://HOST:8786 of a running Dask scheduler (default: a local cluster)."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local worker processes (default: one per core).")
    ] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")] = True,
) -> None:
    """Run a Monte Carlo campaign (resumable: finished tasks in DIR/tasks are skipped) and summarise it."""
    spec = load_campaign(campaign)
    _check_out(out, [campaign, spec.scenario_path], spec.name)
    with campaign_progress(spec.name) as update:
        run = run_campaign(spec, out, scheduler=scheduler, workers=workers, progress=update)
    outputs = write_outputs(spec, out, report=report)
    typer.echo(format_result(run, outputs))
    if outputs.summary["failed"] or outputs.summary["missing"]:
        raise typer.Exit(1)


def _check_out(out: Path, inputs: list[Path], name: str) -> None:
    """``--out`` is new, empty, or this campaign's own earlier folder (resumed); never its input."""
    import json

    from ..outputs import check_resumable_folder

    def own(folder: Path) -> bool:
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return (folder / "tasks").is_dir()
        except (OSError, ValueError):
            return False
        return (folder / "tasks").is_dir() and isinstance(summary, dict) and summary.get("campaign") == name

    check_resumable_folder(out, "--out", inputs, own, f"campaign {name!r}")


def register(app: typer.Typer) -> None:
    """Add ``vigil campaign`` to the CLI."""
    app.command("campaign")(campaign_command)
