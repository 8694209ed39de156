"""``vigil fuse OBS_DIR --out warnings.json``: offline fusion of an observation file.

It reads an observation file (or a ``vigil simulate`` folder), fuses it and writes the final version of
each event as a warnings document (:func:`vigil.warning.warnings_to_document`). The scored chain
(``vigil run``: simulate, fuse, score, partner nodes) composes fusion with the layers above it and lives
in the application layer, :mod:`vigil.app.run`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from vigil.errors import DataError
from vigil.fusion.engine import FusionEngine
from vigil.outputs import check_output, write_text_atomic
from vigil.progress import progress_bar
from vigil.records import ObservationBatch
from vigil.sim.io import read_observations
from vigil.warning import warnings_to_document
from vigil.warning.records import Warning


def fuse_file(
    obs_path: Path, out: Path, show_progress: bool = True, force: bool = False
) -> tuple[list[Warning], dict]:
    """Read observations, fuse them, write the final warnings to ``out``; ``(finals, split)`` where
    ``split`` has the ``observations`` fused and the ``fusion_wall_s`` it took.
    ``out`` must not exist unless ``force``, and is never the input (nor inside an input folder)."""
    check_output(out, "--out", [obs_path], force)
    batch = read_observations(obs_path)
    if not batch.epoch:
        raise DataError(f"{obs_path}: no observations (and so no epoch) in the file")
    if show_progress:
        with progress_bar("fusing") as advance:
            finals, wall_s = final_warnings(batch, progress=advance)
    else:
        finals, wall_s = final_warnings(batch)
    write_text_atomic(
        out, json.dumps(warnings_to_document(finals, batch.epoch), indent=1, allow_nan=False) + "\n"
    )
    return finals, {"observations": len(batch), "fusion_wall_s": wall_s}


def final_warnings(
    batch: ObservationBatch, progress: Callable[[int, int], None] | None = None
) -> tuple[list[Warning], float]:
    """Fuse ``batch`` with the default engine; the latest version of each event (the last issued of its
    highest version), sorted by launch time then event id, and the wall seconds the fusion took."""
    duration_s = float(batch.time_s.max()) if len(batch) else 0.0
    latest: dict[str, Warning] = {}
    start = time.perf_counter()
    for now, issued in FusionEngine().run(batch):
        for w in issued:
            if w.event_id not in latest or w.version >= latest[w.event_id].version:
                latest[w.event_id] = w
        if progress is not None:
            progress(int(min(now, duration_s)), int(duration_s))
    wall_s = time.perf_counter() - start
    return sorted(latest.values(), key=lambda w: (w.launch_time_s, w.event_id)), wall_s


def fuse_command(
    obs: Annotated[
        Path, typer.Argument(help="Observation file (.parquet / .jsonl) or a `vigil simulate` folder.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Warnings JSON file to write.")] = Path("warnings.json"),
    json_out: Annotated[bool, typer.Option("--json", help="Print the warnings document as JSON.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
) -> None:
    """Fuse observations offline: the final warning of each event to --out."""
    finals, split = fuse_file(obs, out, show_progress=not json_out, force=force)
    if json_out:
        typer.echo(out.read_text(encoding="utf-8"))
        return
    typer.echo(
        f"{len(finals)} events from {split['observations']} observations "
        f"(fusion {split['fusion_wall_s']:.2f} s wall); wrote {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``vigil fuse`` to the CLI."""
    app.command("fuse")(fuse_command)
