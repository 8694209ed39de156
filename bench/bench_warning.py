"""Acceptance campaign of the warning chain (issue 4) on the reference scenario, over many seeds: a thin
call of ``vigil campaign`` (:mod:`vigil.campaign`) with one variant.

Usage: ``.venv/bin/python bench/bench_warning.py [--seeds 100] [--first-seed 0] [--workers 2]
[--scenario bench/reference/reference.yaml] [--dir out/bench_warning] [--fresh] [--out out/bench_warning.json]
[--late FRACTION MIN_S MAX_S]``.

Each seed is one campaign task (:func:`vigil.campaign.run_task`): the trajectories are flown once per worker
and reused; each seed draws new frame phases, detections, LOS noise and clutter, then the chain is fused,
matched and scored exactly as ``vigil run`` does. Tasks run on a Dask LocalCluster of ``--workers``
processes and are stored under ``--dir`` (a rerun resumes; ``--fresh`` starts over). Prints the medians of
the acceptance figures as a Markdown block (for docs/benchmarks.md) and writes every per-seed score to
``--out``.

``--late 0.3 5 60`` adds a second arm, variant ``late``: the same seeds with a random 30 % of the observations
reaching the engine 5–60 s late (uniform), delivered in arrival order (:class:`vigil.campaign.spec.LateSpec`);
the in-order arm is the same tasks as without it. Both blocks are printed, then each accuracy figure of the late
arm against the in-order one (the issue-11 acceptance: ≤ 10 % worse, no events lost).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from vigil.campaign import expand, parse_campaign, run_campaign
from vigil.campaign.commands import campaign_progress
from vigil.campaign.figures import per_launch, summarize
from vigil.campaign.store import TaskStore


def _fmt(value, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def markdown(s: dict, rows: list[dict]) -> str:
    """The figures as the Markdown that docs/benchmarks.md carries."""
    rt = s["simulated_s"] / s["fusion_wall_s"] if s["fusion_wall_s"] else None
    lines = [
        "| figure (median over stereo-visible launches × seeds) | value | goal |",
        "|---|---|---|",
        f"| detection rate | {_fmt(s['detection_rate'], '.1%')} | 100 % |",
        f"| exactly one event per launch | {_fmt(s['exactly_one_event_rate'], '.1%')} "
        f"(mean {_fmt(s['events_per_stereo_launch_mean'], '.3f')} events) | 100 % |",
        f"| first warning after launch | {_fmt(s['latency_s'], '.1f')} s | — |",
        f"| first warning after stereo visibility | {_fmt(s['latency_from_stereo_s'], '.1f')} s | ≤ 3 s |",
        f"| launch-point error | {_fmt(s['launch_error_km'])} km (CRLB {_fmt(s['launch_crlb_km'])} km) | ≤ 2 km |",
        f"| launch-point error / CRLB | {_fmt(s['launch_error_over_crlb'])} "
        f"(RMS error / RMS CRLB {_fmt(s['launch_rms_ratio'])}) | ≤ 1.3 |",
        f"| azimuth error | {_fmt(s['azimuth_error_deg'])}° | ≤ 1° |",
        f"| impact error at burnout + 60 s | {_fmt(s['impact_error_km'], '.1f')} km | — |",
        f"| impact error / CRLB | {_fmt(s['impact_error_over_crlb'])} "
        f"(RMS error / RMS CRLB {_fmt(s['impact_rms_ratio'])}) | ≤ 1.5 |",
        f"| classification | {_fmt(s['classification_rate'], '.1%')} | ≥ 99 % |",
        f"| false events | {s['false_events_total']} in {s['seeds']} runs "
        f"({s['runs_with_false_events']} runs with any) | 0 |",
        f"| fusion wall time per run | {_fmt(s['fusion_wall_s'])} s for {_fmt(s['simulated_s'], '.0f')} s simulated "
        f"({_fmt(rt, '.0f')}× real time; longest 1 s step {_fmt(s['max_step_wall_s'], '.3f')} s) | not the bottleneck |",
        "",
        "| class | launches | launch err km (CRLB) | err / CRLB median (RMS ratio) | azimuth err ° "
        "| impact err / CRLB median (RMS ratio) |",
        "|---|---|---|---|---|---|",
    ]
    for cls, c in s["by_class"].items():
        lines.append(
            f"| {cls} | {c['launches']} | {_fmt(c['launch_error_km'])} ({_fmt(c['launch_crlb_km'])}) | "
            f"{_fmt(c['launch_error_over_crlb'])} ({_fmt(c['launch_rms_ratio'])}) | "
            f"{_fmt(c['azimuth_error_deg'])} | {_fmt(c['impact_error_over_crlb'])} "
            f"({_fmt(c['impact_rms_ratio'])}) |"
        )
    lines += [
        "",
        "| launch | class | detected | latency from stereo s | launch err km (CRLB) | RMS err / RMS CRLB "
        "| azimuth err ° | impact err km (RMS ratio) | classified |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['id']} | {r['class_true']} | {_fmt(r['detected'], '.0%')} | "
            f"{_fmt(r['latency_from_stereo_s'], '.1f')} | {_fmt(r['launch_error_km'])} "
            f"({_fmt(r['launch_crlb_km'])}) | {_fmt(r['launch_rms_ratio'])} | {_fmt(r['azimuth_error_deg'])} | "
            f"{_fmt(r['impact_error_km'], '.1f')} ({_fmt(r['impact_rms_ratio'])}) | "
            f"{_fmt(r['classified'], '.0%')} |"
        )
    return "\n".join(lines)


LATE_FIGURES = (
    "detection_rate",
    "exactly_one_event_rate",
    "launch_error_km",
    "launch_error_over_crlb",
    "azimuth_error_deg",
    "impact_error_over_crlb",
    "classification_rate",
    "latency_from_stereo_s",
)


def run_reference(
    scenario: str, seeds: int, first_seed: int, workers: int, folder: Path, late: list[float] | None = None
) -> tuple[list[dict], float]:
    """Every seed's record (task order) of the campaign (one variant, or with ``late`` the in-order one and the
    late one), and the campaign's wall seconds."""
    doc = {
        "name": "reference",
        "scenario": str(Path(scenario).resolve()),
        "seeds": seeds,
        "first_seed": first_seed,
    }
    if late:
        doc["variants"] = [
            {"name": "baseline"},
            {"name": "late", "late": {"fraction": late[0], "min_s": late[1], "max_s": late[2]}},
        ]
    campaign = parse_campaign(doc, folder / "campaign.yaml")
    with campaign_progress("seeds") as update:
        run = run_campaign(campaign, folder, workers=workers, progress=update)
    return list(TaskStore(folder / "tasks").records([t.key for t in expand(campaign)])), run.wall_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(Path(__file__).parent / "reference" / "reference.yaml"))
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", default="out/bench_warning", help="campaign folder (per-task records)")
    ap.add_argument("--fresh", action="store_true", help="delete --dir first (no resumed tasks)")
    ap.add_argument("--out", default="out/bench_warning.json")
    ap.add_argument(
        "--late",
        nargs=3,
        type=float,
        metavar=("FRACTION", "MIN_S", "MAX_S"),
        help="add the late arm: FRACTION of the observations late by MIN_S..MAX_S s",
    )
    args = ap.parse_args()
    folder = Path(args.dir)
    if args.fresh:
        shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    records, wall = run_reference(args.scenario, args.seeds, args.first_seed, args.workers, folder, args.late)
    if args.late:
        late_records = [r for r in records if r["variant"] == "late"]
        records = [r for r in records if r["variant"] != "late"]
    failed = [r for r in records if r["status"] != "ok"]
    runs = [r["score"] for r in records if r["status"] == "ok"]
    summary, rows = summarize(runs), per_launch(runs)
    summary["failed_seeds"] = [{"seed": r["seed"], "error": r["error"]} for r in failed]
    done = runs + [{"seed": r["seed"], "error": r["error"]} for r in failed]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"summary": summary, "per_launch": rows, "runs": done}, indent=1), encoding="utf-8"
    )
    print(
        f"reference: {len(runs)} seeds scored ({len(failed)} failed); campaign {wall:.0f} s wall "
        f"({time.perf_counter() - t0:.0f} s in all) on {args.workers} workers; per-seed scores in {out}\n"
    )
    print(markdown(summary, rows))
    for f in summary["failed_seeds"]:
        print(f"\nseed {f['seed']} FAILED in the chain: {f['error']}")
    if args.late:
        late_runs = [r["score"] for r in late_records if r["status"] == "ok"]
        late_summary = summarize(late_runs)
        print(
            f"\n## late arm: {args.late[0]:.0%} of the observations late by {args.late[1]:g}–{args.late[2]:g} s "
            f"({len(late_runs)} seeds scored, {len(late_records) - len(late_runs)} failed)\n"
        )
        print(markdown(late_summary, per_launch(late_runs)))
        print("\n| figure | in order | late | late / in order |\n|---|---|---|---|")
        for key in LATE_FIGURES:
            a, b = summary.get(key), late_summary.get(key)
            ratio = b / a if a and b is not None else None
            print(f"| {key} | {_fmt(a, '.4f')} | {_fmt(b, '.4f')} | {_fmt(ratio, '.3f')} |")
        print(f"| events (total) | {_events(runs)} | {_events(late_runs)} | |")
        print(f"| false events | {summary['false_events_total']} | {late_summary['false_events_total']} | |")
        out.with_name(out.stem + "_late.json").write_text(
            json.dumps({"summary": late_summary, "runs": late_runs}, indent=1), encoding="utf-8"
        )


def _events(runs: list[dict]) -> int:
    """Events of all seeds (the scorer's count)."""
    return sum(int(r.get("events", 0) or 0) for r in runs)


if __name__ == "__main__":
    main()
