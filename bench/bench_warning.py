"""Acceptance campaign of the warning chain (issue 4) on the reference scenario, over many seeds.

Usage: ``.venv/bin/python bench/bench_warning.py [--seeds 100] [--first-seed 0] [--workers 2]
[--scenario bench/reference/reference.yaml] [--out out/bench_warning.json]``.

The trajectories are flown ONCE and reused for every seed (``simulate(..., trajectories=...)``); each
seed draws new frame phases, detections, LOS noise and clutter, then the chain is fused, matched and scored
exactly as ``vigil run`` does (:func:`vigil.scoring.score_result`). Seeds run in parallel over
``--workers`` processes. Prints the medians of the acceptance figures as a Markdown block (for
docs/benchmarks.md) and writes every per-seed score to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from vigil.errors import VigilError
from vigil.scoring import score_result
from vigil.sim import load_scenario, simulate
from vigil.sim.engine import fly_launch

_STATE: dict = {}


def _init(scenario_path: str, trajectories: list) -> None:
    _STATE["scenario"] = load_scenario(scenario_path)
    _STATE["trajectories"] = trajectories


def run_seed(seed: int) -> dict:
    """Score one seed of the scenario loaded by :func:`_init`."""
    scenario, trajs = _STATE["scenario"], _STATE["trajectories"]
    result = simulate(scenario, np.random.default_rng(seed), trajectories=trajs)
    try:
        scored = score_result(scenario, result).score
    except VigilError as err:  # a chain failure on one seed is a finding to report, not a reason to stop
        return {"seed": seed, "error": str(err)}
    scored["seed"] = seed
    return scored


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _fmt(value, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def _records(runs: list[dict], stereo_only: bool = True) -> list[dict]:
    out = []
    for run in runs:
        stereo = set(run["stereo_visible"])
        out += [r | {"seed": run["seed"]} for r in run["launches"] if not stereo_only or r["id"] in stereo]
    return out


def _ratio(rec: dict, error: str, bound: str) -> float | None:
    return rec[error] / rec[bound] if rec[error] is not None and rec[bound] else None


def _rms_ratio(recs: list[dict], error: str, bound: str) -> float | None:
    """RMS error / RMS bound over records with both: 1 for an efficient unbiased estimator (the median of
    error / RMS bound is 0.67-0.83 then, from a 1-D to a circular error)."""
    pairs = [(r[error], r[bound]) for r in recs if r[error] is not None and r[bound]]
    if not pairs:
        return None
    return (sum(e * e for e, _ in pairs) / sum(b * b for _, b in pairs)) ** 0.5


def by_class(runs: list[dict]) -> dict:
    """Launch-point and azimuth figures per true class (medians; RMS ratios)."""
    out = {}
    for cls in ("ballistic", "space_launch"):
        found = [r for r in _records(runs) if r["detected"] and r["class_true"] == cls]
        out[cls] = {
            "launches": len(found),
            "launch_error_km": _median([r["launch_error_km"] for r in found]),
            "launch_crlb_km": _median([r["launch_crlb_km"] for r in found]),
            "launch_error_over_crlb": _median([_ratio(r, "launch_error_km", "launch_crlb_km") for r in found]),
            "launch_rms_ratio": _rms_ratio(found, "launch_error_km", "launch_crlb_km"),
            "azimuth_error_deg": _median([r["azimuth_error_deg"] for r in found]),
            "impact_error_over_crlb": _median([_ratio(r, "impact_error_km", "impact_crlb_km") for r in found]),
            "impact_rms_ratio": _rms_ratio(found, "impact_error_km", "impact_crlb_km"),
        }
    return out


def summarize(runs: list[dict]) -> dict:
    """The campaign's acceptance figures (medians over launches × seeds; counts over everything)."""
    recs = _records(runs)
    found = [r for r in recs if r["detected"]]
    dup = {(run["seed"], lid): len(ids) for run in runs for lid, ids in run.get("duplicates", {}).items()}
    events_per_launch = [int(r["detected"]) + dup.get((r["seed"], r["id"]), 0) for r in recs]
    proc = [run["processing"] for run in runs]
    return {
        "seeds": len(runs),
        "stereo_launches": len(recs),
        "detection_rate": len(found) / len(recs) if recs else None,
        "exactly_one_event_rate": sum(n == 1 for n in events_per_launch) / len(recs) if recs else None,
        "events_per_stereo_launch_mean": statistics.fmean(events_per_launch) if recs else None,
        "latency_s": _median([r["latency_s"] for r in found]),
        "latency_from_stereo_s": _median([r["latency_from_stereo_s"] for r in found]),
        "launch_error_km": _median([r["launch_error_km"] for r in found]),
        "launch_crlb_km": _median([r["launch_crlb_km"] for r in found]),
        "launch_error_over_crlb": _median([_ratio(r, "launch_error_km", "launch_crlb_km") for r in found]),
        "launch_rms_ratio": _rms_ratio(found, "launch_error_km", "launch_crlb_km"),
        "azimuth_error_deg": _median([r["azimuth_error_deg"] for r in found]),
        "impact_error_km": _median([r["impact_error_km"] for r in found]),
        "impact_error_over_crlb": _median([_ratio(r, "impact_error_km", "impact_crlb_km") for r in found]),
        "impact_rms_ratio": _rms_ratio(found, "impact_error_km", "impact_crlb_km"),
        "by_class": by_class(runs),
        "classification_rate": (sum(r["class_est"] == r["class_true"] for r in found) / len(found)) if found else None,
        "false_events_total": sum(run["false_events"] for run in runs),
        "runs_with_false_events": sum(run["false_events"] > 0 for run in runs),
        "fusion_wall_s": _median([p["fusion_wall_s"] for p in proc]),
        "simulated_s": _median([p["simulated_s"] for p in proc]),
        "max_step_wall_s": max((p["max_step_wall_s"] for p in proc), default=None),
        "observations": _median([p["observations"] for p in proc]),
    }


def per_launch(runs: list[dict]) -> list[dict]:
    """Per launch id: detection rate, median latency from stereo, launch / azimuth error, class rate."""
    ids = [r["id"] for r in runs[0]["launches"]] if runs else []
    rows = []
    for lid in ids:
        recs = [r for run in runs for r in run["launches"] if r["id"] == lid]
        found = [r for r in recs if r["detected"]]
        rows.append({
            "id": lid, "class_true": recs[0]["class_true"], "detected": len(found) / len(recs),
            "latency_from_stereo_s": _median([r["latency_from_stereo_s"] for r in found]),
            "launch_error_km": _median([r["launch_error_km"] for r in found]),
            "launch_crlb_km": _median([r["launch_crlb_km"] for r in found]),
            "launch_rms_ratio": _rms_ratio(found, "launch_error_km", "launch_crlb_km"),
            "azimuth_error_deg": _median([r["azimuth_error_deg"] for r in found]),
            "impact_error_km": _median([r["impact_error_km"] for r in found]),
            "impact_rms_ratio": _rms_ratio(found, "impact_error_km", "impact_crlb_km"),
            "classified": (sum(r["class_est"] == r["class_true"] for r in found) / len(found)) if found else None,
        })
    return rows


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
        lines.append(f"| {cls} | {c['launches']} | {_fmt(c['launch_error_km'])} ({_fmt(c['launch_crlb_km'])}) | "
                     f"{_fmt(c['launch_error_over_crlb'])} ({_fmt(c['launch_rms_ratio'])}) | "
                     f"{_fmt(c['azimuth_error_deg'])} | {_fmt(c['impact_error_over_crlb'])} "
                     f"({_fmt(c['impact_rms_ratio'])}) |")
    lines += [
        "",
        "| launch | class | detected | latency from stereo s | launch err km (CRLB) | RMS err / RMS CRLB "
        "| azimuth err ° | impact err km (RMS ratio) | classified |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['id']} | {r['class_true']} | {_fmt(r['detected'], '.0%')} | "
                     f"{_fmt(r['latency_from_stereo_s'], '.1f')} | {_fmt(r['launch_error_km'])} "
                     f"({_fmt(r['launch_crlb_km'])}) | {_fmt(r['launch_rms_ratio'])} | {_fmt(r['azimuth_error_deg'])} | "
                     f"{_fmt(r['impact_error_km'], '.1f')} ({_fmt(r['impact_rms_ratio'])}) | "
                     f"{_fmt(r['classified'], '.0%')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(Path(__file__).parent / "reference" / "reference.yaml"))
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="out/bench_warning.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    scenario = load_scenario(args.scenario)
    trajectories = [fly_launch(la) for la in scenario.launches]
    t_fly = time.perf_counter() - t0
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    done = []
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.scenario, trajectories)) as pool:
        for k, run in enumerate(pool.map(run_seed, seeds), start=1):
            done.append(run)
            print(f"\r{k}/{args.seeds} seeds", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    wall = time.perf_counter() - t0
    failed = [r for r in done if "error" in r]
    runs = [r for r in done if "error" not in r]
    summary, rows = summarize(runs), per_launch(runs)
    summary["failed_seeds"] = [{"seed": r["seed"], "error": r["error"]} for r in failed]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "per_launch": rows, "runs": done}, indent=1), encoding="utf-8")
    print(f"{scenario.name}: {len(runs)} seeds scored ({len(failed)} failed), {len(scenario.launches)} launches, trajectories flown once in "
          f"{t_fly:.1f} s; campaign {wall:.0f} s wall on {args.workers} workers; per-seed scores in {out}\n")
    print(markdown(summary, rows))
    for f in summary["failed_seeds"]:
        print(f"\nseed {f['seed']} FAILED in the chain: {f['error']}")


if __name__ == "__main__":
    main()
