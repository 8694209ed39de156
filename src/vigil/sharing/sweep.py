"""Agreement study: how each partner's warning degrades with the agreement's delay and precision.

``vigil sharing sweep SCENARIO --delay-s 0,10,30,60 --precision-m 100,1000,5000 --out DIR`` simulates the
scenario once and runs every partner's node (:func:`vigil.sharing.network.run_network`) once per
``(delay_s, precision_m)`` pair, with the scenario's agreements (or ``--agreement FILE``) whose every
direction gets that delay and precision (types and regions stay as signed). Per pair and partner it
reports, alone and shared (:func:`vigil.sharing.value.sharing_summary`): launches seen and triangulated,
median first-warning and first-triangulated-warning latency, launch-point / azimuth / impact error and
launch error over the joint geometry's CRLB. It writes ``sweep.csv`` (one row per pair × partner × view),
``sweep.json`` (the same and the settings) and ``sweep.png`` (latency against delay, launch error against
precision, one line per partner and the other setting; alone dashed).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..sim import SimulationResult, simulate
from ..sim.scenario import Scenario
from .agreement import Agreement, parse_agreement
from .network import run_network
from .value import launch_view, sharing_summary

COLUMNS = (
    "delay_s",
    "precision_m",
    "partner",
    "view",
    "events_seen",
    "triangulated",
    "first_warning_latency_s",
    "first_triangulated_latency_s",
    "launch_error_km",
    "launch_error_crlb",
    "azimuth_error_deg",
    "impact_error_km",
)
_METRICS = COLUMNS[4:]


def parse_values(text: str, option: str, minimum: float) -> list[float]:
    """``"0,10,30"`` → sorted unique floats ≥ ``minimum``; ConfigError naming ``option`` otherwise."""
    values = []
    for part in str(text).split(","):
        try:
            v = float(part.strip())
        except ValueError:
            raise ConfigError(f"{option}: {part.strip()!r} is not a number (expected e.g. 0,10,30)") from None
        if not math.isfinite(v) or v < minimum:
            raise ConfigError(f"{option}: {part.strip()} must be a finite number >= {minimum:g}")
        values.append(v)
    if not values:
        raise ConfigError(f"{option}: no values given")
    return sorted(set(values))


def with_terms(agreement: Agreement, delay_s: float, precision_m: float) -> Agreement:
    """``agreement`` with every direction's ``delay_s`` and ``precision_m`` replaced."""
    data = agreement.model_dump(mode="json")
    for direction in data["directions"].values():
        direction["delay_s"], direction["precision_m"] = delay_s, precision_m
    return parse_agreement(data, f"agreement {agreement.name or ''} (sweep)")


def sweep(
    scenario: Scenario,
    delays_s: Sequence[float],
    precisions_m: Sequence[float],
    agreements: Sequence[Agreement],
    simulation: SimulationResult | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Rows of :data:`COLUMNS`, one per (delay, precision, partner, view), each with ``launches``: launch id →
    its :func:`vigil.sharing.value.launch_view` row (in sweep.json, not in the CSV)."""
    if not agreements:
        raise ConfigError(f"scenario {scenario.name!r}: no agreements to sweep (give --agreement FILE)")
    if simulation is None:
        simulation = simulate(scenario, np.random.default_rng(scenario.seed))
    from ..scoring.bounds import simulation_bounds

    bounds = simulation_bounds(simulation)
    cells = [(d, p) for d in delays_s for p in precisions_m]
    rows = []
    for k, (d, p) in enumerate(cells):
        result = run_network(
            scenario, simulation=simulation, agreements=[with_terms(a, d, p) for a in agreements]
        )
        summary = sharing_summary(result, bounds=bounds)
        for pid, part in summary["partners"].items():
            for view in ("alone", "shared"):
                warnings = getattr(result.partners[pid], view)
                per_launch = launch_view(warnings, list(simulation.truth), result.epoch, bounds=bounds)
                rows.append(
                    {
                        "delay_s": d,
                        "precision_m": p,
                        "partner": pid,
                        "view": view,
                        **{m: part[view][m] for m in _METRICS},
                        "launches": per_launch,
                    }
                )
        if progress is not None:
            progress(k + 1, len(cells))
    return rows


def write_csv(rows: Sequence[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r[k] is None else r[k] for k in COLUMNS})


def write_json(rows: Sequence[dict], settings: dict, path: Path) -> None:
    path.write_text(
        json.dumps({**settings, "rows": list(rows)}, indent=1, allow_nan=False) + "\n", encoding="utf-8"
    )


def _series(rows: Sequence[dict], partner: str, view: str, key: str, along: str, fixed: str, value: float):
    sel = sorted(
        (r for r in rows if r["partner"] == partner and r["view"] == view and r[fixed] == value),
        key=lambda r: r[along],
    )
    return [r[along] for r in sel], [np.nan if r[key] is None else r[key] for r in sel]


def write_plot(rows: Sequence[dict], path: Path) -> None:
    """Two panels (matplotlib Agg): first-warning latency against delay, launch error against precision."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_lat, ax_err = fig.subplots(1, 2)
    partners = sorted({r["partner"] for r in rows})
    delays, precisions = sorted({r["delay_s"] for r in rows}), sorted({r["precision_m"] for r in rows})
    for i, pid in enumerate(partners):
        for j, p in enumerate(precisions):
            x, y = _series(rows, pid, "shared", "first_warning_latency_s", "delay_s", "precision_m", p)
            ax_lat.plot(
                x,
                y,
                marker="o",
                color=f"C{i}",
                alpha=1.0 - 0.6 * j / max(1, len(precisions) - 1),
                label=f"{pid}, {p:g} m",
            )
        for j, d in enumerate(delays):
            x, y = _series(rows, pid, "shared", "launch_error_km", "precision_m", "delay_s", d)
            ax_err.plot(
                x,
                y,
                marker="o",
                color=f"C{i}",
                alpha=1.0 - 0.6 * j / max(1, len(delays) - 1),
                label=f"{pid}, {d:g} s",
            )
        for ax, key, xs in (
            (ax_lat, "first_warning_latency_s", delays),
            (ax_err, "launch_error_km", precisions),
        ):
            alone = [
                r[key] for r in rows if r["partner"] == pid and r["view"] == "alone" and r[key] is not None
            ]
            if alone:
                ax.plot(
                    [xs[0], xs[-1]],
                    [float(np.median(alone))] * 2,
                    ls="--",
                    color=f"C{i}",
                    label=f"{pid} alone",
                )
    ax_lat.set(xlabel="agreement delay_s (s)", ylabel="first warning latency, median (s)")
    ax_err.set(xlabel="agreement precision_m (m)", ylabel="launch-point error, median (km)", xscale="log")
    for ax in (ax_lat, ax_err):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    FigureCanvasAgg(fig).print_png(str(path))


def _fmt(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def format_sweep(rows: Sequence[dict], launches: int):
    """A rich table: per partner and (delay, precision), alone's line then shared's (medians over launches)."""
    from rich.table import Table

    table = Table(title="Agreement sweep (medians over launches)")
    table.caption = (
        "stereo: triangulated by own fusion; 1st / 1st stereo: first (triangulated) warning after "
        "launch; /CRLB: launch error over the joint geometry's bound"
    )
    for col in (
        "partner",
        "delay s",
        "prec m",
        "view",
        "seen",
        "stereo",
        "1st s",
        "1st stereo s",
        "launch km",
        "/CRLB",
        "az °",
        "impact km",
    ):
        table.add_column(col, justify="left" if col in ("partner", "view") else "right")
    for r in rows:
        shared = r["view"] == "shared"
        table.add_row(
            "" if shared else r["partner"],
            "" if shared else f"{r['delay_s']:g}",
            "" if shared else f"{r['precision_m']:g}",
            r["view"],
            f"{r['events_seen']}/{launches}",
            str(r["triangulated"]),
            _fmt(r["first_warning_latency_s"], ".1f"),
            _fmt(r["first_triangulated_latency_s"], ".1f"),
            _fmt(r["launch_error_km"], ".3f"),
            _fmt(r["launch_error_crlb"], ".2f"),
            _fmt(r["azimuth_error_deg"], ".2f"),
            _fmt(r["impact_error_km"], ".1f"),
            end_section=shared,
        )
    return table
