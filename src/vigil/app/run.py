"""``vigil run SCENARIO --out DIR [--seed N] [--json]``: the scored chain, above every library it composes.

``run`` simulates (:mod:`vigil.sim`), fuses (:mod:`vigil.fusion`), matches the scenario's notifications and
scores against truth (:mod:`vigil.scoring`); when the scenario lists agreements it also runs one node per
partner (:mod:`vigil.sharing.network`) and adds the value-of-sharing block. It writes the simulation files,
``score.json``, ``warnings.json`` (final versions), ``versions.json`` (every issued version) and ``run.json``
(the scenario's path, for ``vigil serve``) into ``DIR``. ``--serve PORT`` runs the scenario live instead
(:mod:`vigil.api.live`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from .. import fusion
from ..config import MAX_SEED
from ..errors import ConfigError
from ..fusion import FusionConfig
from ..outputs import check_output, output_folder
from ..progress import progress_bar
from ..scoring import score_result
from ..scoring.report import format_score_footer, format_score_table
from ..sim import load_scenario, simulate
from ..sim.commands import DEFAULT_SEED, write_result
from ..sim.io import write_json
from ..warning import warnings_to_document


def _kernels_cached() -> bool:
    """Whether numba's on-disk cache of the fusion kernels exists (``cache=True`` writes index files ``*.nbi``
    next to the sources); without it the first fusion spends about a minute compiling."""
    return any((Path(fusion.__file__).parent / "__pycache__").glob("*.nbi"))


RUN_FUSION = FusionConfig(tracks=True)
"""``vigil run``'s fusion: its folder is the console's input (``vigil serve``), so warnings carry tracks;
``vigil fuse`` and the benches leave them out (:attr:`FusionConfig.tracks`, no sampling cost)."""


def run_scored(
    scenario_path: Path,
    out: Path,
    seed: int | None = None,
    show_progress: bool = True,
    bus: str = "memory://",
    db: str = "sqlite://",
    force: bool = False,
):
    """Simulate, fuse, match and score a scenario; write the simulation files, score.json, warnings.json.

    When the scenario lists agreements, the partners' nodes also run on ``bus`` / ``db`` (embedded by
    default) and ``score.json`` gains the ``sharing`` block: each partner alone vs with what it received.
    """
    scenario = load_scenario(scenario_path)
    check_output(out, "--out", [scenario_path], force, folder=True)
    from ..sharing.network import check_urls

    check_urls(bus, db)  # given flags are checked even when the scenario has no agreements to use them
    if not scenario.agreements and (bus, db) != ("memory://", "sqlite://"):
        raise ConfigError(
            f"--bus/--db: {scenario_path} lists no agreements, so no partner node runs and "
            f"nothing would use {bus if bus != 'memory://' else db}; drop the flags or add agreements"
        )
    chosen = seed if seed is not None else (scenario.seed if scenario.seed is not None else DEFAULT_SEED)
    rng = np.random.default_rng(chosen)
    if show_progress:
        with progress_bar(f"simulating {scenario.name}") as advance:
            result = simulate(scenario, rng, progress=advance)
        label = (
            "fusing"
            if _kernels_cached()
            else "fusing (first run: compiling numba kernels, ~1 min; cached after)"
        )
        with progress_bar(label) as advance:
            run = score_result(scenario, result, RUN_FUSION, progress=advance)
    else:
        run = score_result(scenario, simulate(scenario, rng), RUN_FUSION)
    run.result.summary["seed"] = chosen
    run.score["seed"] = chosen
    run.score["scenario"] = scenario.name
    with output_folder(out) as tmp:
        if scenario.agreements:  # the nodes' stores go in the folder that replaces --out
            run.score["sharing"] = _value_of_sharing(
                scenario, run.result, bus, db, show_progress, tmp / "nodes"
            )
        write_result(run.result, tmp)
        write_json(run.score, tmp / "score.json")
        write_json(warnings_to_document(run.finals, run.result.epoch), tmp / "warnings.json")
        write_json(warnings_to_document(run.versions, run.result.epoch), tmp / "versions.json")
        write_json(
            {"scenario": str(Path(scenario_path).resolve()), "epoch": run.result.epoch}, tmp / "run.json"
        )
    return run


def _value_of_sharing(scenario, result, bus: str, db: str, show_progress: bool, nodes: Path) -> dict:
    """The ``sharing`` block; with the embedded store each node's store, audit log and warnings (every
    version it has with sharing) stay in ``nodes/`` (``<node>.db``, ``<node>-audit.jsonl``,
    ``<node>-warnings.json``) for ``vigil serve``."""
    from ..sharing.network import run_network, sharing_summary

    keep = db == "sqlite://"
    kwargs = {
        "simulation": result,
        "bus": bus,
        "db": db,
        "workdir": nodes if keep else None,
        "keep": keep,
        "fusion": RUN_FUSION,
    }
    if show_progress:
        with progress_bar("partner nodes") as advance:
            network = run_network(scenario, progress=advance, **kwargs)
    else:
        network = run_network(scenario, **kwargs)
    if keep:
        for pid, part in network.partners.items():
            write_json(warnings_to_document(part.shared, network.epoch), nodes / f"{pid}-warnings.json")
    return sharing_summary(network)


def format_sharing(sharing: dict) -> Table:
    """Per partner: alone vs with its partners' releases (events seen, triangulated, latency, launch-point,
    azimuth and impact errors, launch error over the joint geometry's CRLB)."""
    table = Table(title=f"Value of sharing ({sharing['bus']}, {sharing['db']})")
    table.caption = (
        "medians over launches; 'stereo': launches triangulated from two or more satellites; "
        "'/CRLB': launch error over the Cramér–Rao bound of both partners' sensors together"
    )
    for col in (
        "partner",
        "view",
        "seen",
        "stereo",
        "1st warning s",
        "launch err km",
        "/CRLB",
        "az err °",
        "impact err km",
        "msgs in/rej",
    ):
        table.add_column(col, justify="left" if col in ("partner", "view") else "right")
    for pid, part in sharing["partners"].items():
        for view in ("alone", "shared"):
            b = part[view]
            msgs = part["messages"]
            table.add_row(
                pid if view == "alone" else "",
                view,
                f"{b['events_seen']} / {sharing['launches']}",
                str(b["triangulated"]),
                _fmt(b["first_warning_latency_s"], ".1f"),
                _fmt(b["launch_error_km"], ".2f"),
                _fmt(b.get("launch_error_crlb"), ".2f"),
                _fmt(b.get("azimuth_error_deg"), ".2f"),
                _fmt(b.get("impact_error_km"), ".1f"),
                f"{msgs['received']} / {msgs['rejected']}" if view == "shared" else "",
            )
    return table


def _fmt(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def print_run(console: Console, score: dict) -> None:
    """The per-launch table, its footer and, when the partners' nodes ran, the value-of-sharing table."""
    console.print(format_score_table(score, f"{score['scenario']} (seed {score['seed']})"))
    console.print(format_score_footer(score))
    if "sharing" in score:
        console.print(format_sharing(score["sharing"]))


def run_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (required unless --serve).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, max=MAX_SEED, help="Random seed (default: the scenario's).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print score.json instead of the table.")] = False,
    bus: Annotated[str, typer.Option("--bus", help="memory:// or nats://[user:pw@]host:port")] = "memory://",
    db: Annotated[
        str, typer.Option("--db", help="sqlite:// (temporary), sqlite:///DIR or postgresql://…")
    ] = ("sqlite://"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out folder.")] = False,
    serve: Annotated[
        int | None,
        typer.Option(
            "--serve",
            min=1,
            max=65535,
            metavar="PORT",
            help="Run live instead: fuse in simulated time and serve the console "
            "on 127.0.0.1:PORT, streaming warnings as they are issued.",
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option("--speed", min=0.01, max=1e6, help="With --serve: simulated seconds per wall second."),
    ] = 10.0,
) -> None:
    """Simulate + fuse + score a scenario: per-launch table, DIR/score.json and DIR/warnings.json."""
    if serve is not None:
        if out is not None:
            raise ConfigError("--serve: live mode writes no folder; drop --out (or run without --serve)")
        from ..api.live import serve_scenario

        serve_scenario(scenario, serve, speed, seed=seed)
        return
    if out is None:
        raise ConfigError("--out: missing (the output folder; or --serve PORT to run the scenario live)")
    run = run_scored(scenario, out, seed, show_progress=not json_out, bus=bus, db=db, force=force)
    if json_out:
        typer.echo(json.dumps(run.score))
        return
    print_run(Console(), run.score)
    typer.echo(f"wrote {out / 'score.json'} and {out / 'warnings.json'}")


def register(app: typer.Typer) -> None:
    """Add ``vigil run`` to the CLI."""
    app.command("run")(run_command)
