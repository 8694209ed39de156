"""``vigil report RUN_DIR --out report.html``: the self-contained HTML report of a scored run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by vigil run / vigil demo.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
) -> None:
    """One self-contained HTML page: scored table, launch/impact map, latency, error vs CRLB, sharing."""
    from ..outputs import check_output
    from .runreport import write_report

    inputs = [p for p in run_dir.rglob("*") if p.is_file()] if run_dir.is_dir() else [run_dir]
    check_output(out, "--out", inputs, force)

    path = write_report(run_dir, out)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, self-contained)")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
