"""Robustness set through the full chain (simulate → fuse → score): class timeline, azimuth, launch error.

Usage: ``.venv/bin/python bench/bench_classify_chain.py [--seeds 10] [--urad 20 40] [--heo-only]
[--out out/bench_chain.json]``.

Each run is one scenario (two partners: the example GEO and HEO constellations, both at ``--urad``; with
``--heo-only`` the east HEO constellation alone: launches seen only from highly elliptical orbits) of
:data:`CASES_PER_RUN` launches 30 s apart at sites 11° of longitude apart:

* the five shipped Falcon 9 profiles with their telemetry cut 0, 30, 60 and 90 s before the end of the file
  (a truncated copy, its cutoff event dropped: the plume ends there), pads 5°–63° and azimuths 35°–200°
  rotated by the seed;
* the notional launcher (a ~250 km insertion) and the same vehicle with a 30 s coast between its stages;
* the notional ICBM at its nominal loft (apogee ~1,400 km) and depressed (loft 48°), the IRBM nominal and
  depressed (loft 20°), the SRBM nominal and depressed (loft 30°).

Per launch: the class of its event's latest version issued by truth burnout + 0 / 30 / 60 s and the final one
(the event is the scorer's match, :func:`vigil.scoring.metrics.score`), azimuth error, launch error / CRLB.
Prints the confusion matrices and medians as Markdown for docs/benchmarks.md, and the azimuth error by case
(median / max over seeds, with the class of the final version: the azimuth path depends on it).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from vigil.scoring.metrics import issued_s, versions_by_event
from vigil.scoring.pipeline import score_scenario
from vigil.sim.scenario import load_scenario
from vigil.timescale import parse_utc

ROOT = Path(__file__).resolve().parents[1]
TELEMETRY = sorted((ROOT / "src/vigil/data/telemetry").glob("*.csv"))
PADS_DEG = (5.0, 28.5, 45.0, 63.0)
AZIMUTHS_DEG = (35.0, 90.0, 140.0, 200.0)
CUTS_S = (0.0, 30.0, 60.0, 90.0)
MISSILES = (
    ("notional-icbm-3stage", None),
    ("notional-icbm-3stage", 48.0),
    ("notional-irbm-2stage", None),
    ("notional-irbm-2stage", 20.0),
    ("notional-srbm-1stage", None),
    ("notional-srbm-1stage", 30.0),
)
AFTER_S = (0.0, 30.0, 60.0)
CASES_PER_RUN = len(TELEMETRY) * len(CUTS_S) + 2 + len(MISSILES)


def cut_profile(src: Path, cut_s: float, folder: Path) -> Path:
    """A copy of ``src`` without its last ``cut_s`` seconds (events after the new end dropped)."""
    lines = src.read_text().splitlines()
    rows = [k for k, line in enumerate(lines) if line and line[0].isdigit()]
    t_end = float(lines[rows[-1]].split(",")[0]) - cut_s
    out = []
    for k, line in enumerate(lines):
        if line.startswith("# events_s:"):
            items = [i.strip() for i in line.split(":", 1)[1].split(",")]
            line = "# events_s: " + ", ".join(i for i in items if float(i.split("=")[1]) < t_end)
        elif k in rows and float(line.split(",")[0]) > t_end:
            continue
        out.append(line)
    path = folder / f"{src.stem}-cut{int(cut_s)}.csv"
    path.write_text("\n".join(out) + "\n")
    return path


def coast_vehicle(folder: Path, coast_s: float = 30.0) -> Path:
    """The notional launcher with ``coast_s`` between its stages (a vehicle file in ``folder``)."""
    spec = yaml.safe_load((ROOT / "src/vigil/data/vehicles/notional-launcher-2stage.yaml").read_text())
    spec["name"] = "launcher-coast"
    spec["stages"][0]["coast_after_s"] = coast_s
    path = folder / "launcher-coast.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def scenario_file(
    seed: int, urad: float, folder: Path, heo_only: bool = False
) -> tuple[Path, dict[str, str]]:
    """The run's scenario YAML and launch id → case label."""
    launches, labels = [], {}
    combos = [(lat, az) for lat in PADS_DEG for az in AZIMUTHS_DEG]

    def add(label: str, **spec) -> None:
        i = len(launches)
        lat = spec.pop("lat")
        spec = {
            "id": f"C{i:02d}",
            "site": {"lat_deg": lat, "lon_deg": -160.0 + 11.0 * i},
            "time": f"2026-03-01T12:{(30 * i) // 60:02d}:{(30 * i) % 60:02d}Z",
            **spec,
        }
        launches.append(spec)
        labels[spec["id"]] = label

    for j, src in enumerate(TELEMETRY):
        for cut in CUTS_S:
            lat, az = combos[(seed * 7 + j * 4 + int(cut / 30)) % len(combos)]
            add(
                f"F9 {src.stem} cut {cut:.0f} s",
                lat=lat,
                azimuth_deg=az,
                telemetry=str(cut_profile(src, cut, folder)),
            )
    lat, az = combos[(seed * 3 + 1) % len(combos)]
    add("launcher 250 km", lat=lat, azimuth_deg=az, vehicle="notional-launcher-2stage")
    add("launcher coast 30 s", lat=lat, azimuth_deg=az, vehicle=str(coast_vehicle(folder)))
    for k, (veh, loft) in enumerate(MISSILES):
        lat, az = combos[(seed * 5 + k) % len(combos)]
        add(
            f"{veh.split('-')[1]} {'nominal' if loft is None else f'loft {loft:.0f}'}",
            lat=lat,
            azimuth_deg=az,
            vehicle=veh,
            **({} if loft is None else {"loft_deg": loft}),
        )
    sensor = {"frame_s": 1.0, "los_sigma_urad": urad, "false_alarms_per_frame": 0.01}
    partners = [
        {"id": "north", "constellation": str(ROOT / "examples/constellations/north.tle"), "sensor": sensor},
        {"id": "east", "constellation": str(ROOT / "examples/constellations/east.json"), "sensor": sensor},
    ]
    doc = {
        "name": f"chain-{seed}-{urad:g}",
        "epoch": "2026-03-01T12:00:00Z",
        "duration_s": 30 * len(launches) + 900,
        "seed": 1000 + seed,
        "launches": launches,
        "partners": partners[1:] if heo_only else partners,
    }
    path = folder / f"chain-{seed}-{urad:g}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path, labels


def run_one(seed: int, urad: float, heo_only: bool = False) -> list[dict]:
    """Per-launch records of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        path, labels = scenario_file(seed, urad, Path(tmp), heo_only)
        scenario = load_scenario(path)
        scored = score_scenario(scenario, np.random.default_rng(scenario.seed))
    epoch = parse_utc(scored.result.epoch, "epoch")
    by_event = versions_by_event(scored.versions)
    truths = {str(t["id"]): t for t in scored.result.truth}
    out = []
    for rec in scored.score["launches"]:
        truth = truths[str(rec["id"])]
        versions = by_event.get(scored.score["matches"].get(str(rec["id"]), ""), [])
        t_bo = float(truth["burnout"]["time_s"])
        at = {}
        for dt in AFTER_S:
            seen = [w for w in versions if issued_s(w, epoch) <= t_bo + dt + 1e-6]
            at[f"{dt:g}"] = seen[-1].class_ if seen else "none"
        out.append(
            {
                "seed": seed,
                "urad": urad,
                "case": labels[str(rec["id"])],
                "truth": truth["class"],
                "at": at,
                "final": versions[-1].class_ if versions else "none",
                "flips": sum(a.class_ != b.class_ for a, b in zip(versions, versions[1:], strict=False)),
                "ever": sorted({w.class_ for w in versions}),
                "mono": bool(versions and versions[-1].mono),
                "azimuth_error_deg": rec.get("azimuth_error_deg"),
                "launch_error_km": rec.get("launch_error_km"),
                "launch_crlb_km": rec.get("launch_crlb_km"),
            }
        )
    out[0]["run_events"] = {
        "duplicates": scored.score["duplicate_events"],
        "false": scored.score["false_events"],
    }
    return out


def summary(records: list[dict]) -> str:
    lines = []
    for urad in sorted({r["urad"] for r in records}):
        rs = [r for r in records if r["urad"] == urad]
        for when in (*(f"{dt:g}" for dt in AFTER_S), "final"):
            calls = Counter((r["truth"], r["final"] if when == "final" else r["at"][when]) for r in rs)
            det = [r for r in rs if (r["final"] if when == "final" else r["at"][when]) != "none"]
            und = calls["space_launch", "unknown"] + calls["ballistic", "unknown"]
            decided = len(det) - und
            correct = calls["space_launch", "space_launch"] + calls["ballistic", "ballistic"]
            lines.append(
                f"| {urad:g} µrad | burnout + {when} s | SL→BM {calls['space_launch', 'ballistic']} | "
                f"BM→SL {calls['ballistic', 'space_launch']} | correct among decided "
                f"{100 * correct / max(decided, 1):.1f} % ({correct}/{decided}) | undetermined "
                f"{100 * und / max(len(det), 1):.1f} % ({und}/{len(det)}) | no warning yet {len(rs) - len(det)} |"
            )
        az = [r["azimuth_error_deg"] for r in rs if r["azimuth_error_deg"] is not None]
        ratio = [
            r["launch_error_km"] / r["launch_crlb_km"]
            for r in rs
            if r["launch_error_km"] is not None and r["launch_crlb_km"]
        ]
        lines.append(
            f"| {urad:g} µrad | azimuth median {np.median(np.abs(az)):.2f}° (p90 "
            f"{np.percentile(np.abs(az), 90):.2f}°, n {len(az)}) | launch error / CRLB median "
            f"{np.median(ratio):.2f} (n {len(ratio)}) | class changes {sum(r['flips'] for r in rs)} | "
            f"SL ever called BM {sum(r['truth'] == 'space_launch' and 'ballistic' in r['ever'] for r in rs)}"
            f" ({Counter(r['case'] for r in rs if r['truth'] == 'space_launch' and 'ballistic' in r['ever'])})"
            f" | BM ever called SL {sum(r['truth'] == 'ballistic' and 'space_launch' in r['ever'] for r in rs)} |"
        )
        runs = [r["run_events"] for r in rs if "run_events" in r]
        lines.append(
            f"|   | duplicate events {sum(x['duplicates'] for x in runs)}, false events "
            f"{sum(x['false'] for x in runs)} in {len(runs)} runs |"
        )
        lines += azimuth_by_case(rs)
        wrong = Counter(r["case"] for r in rs if r["final"] not in (r["truth"], "none", "unknown"))
        undecided = Counter(r["case"] for r in rs if r["final"] == "unknown")
        lines.append(f"final wrong: {dict(wrong)}; final undetermined: {dict(undecided)}")
    return "\n".join(lines)


def case_group(case: str) -> str:
    """A case without its Falcon 9 profile name (``F9 jason-3 cut 30 s`` → ``F9 cut 30 s``)."""
    return " ".join(w for k, w in enumerate(case.split()) if not (case.startswith("F9") and k == 1))


def azimuth_by_case(rs: list[dict]) -> list[str]:
    """Azimuth error by case group: median / max (n) and the final classes."""
    out = []
    for group in sorted({case_group(r["case"]) for r in rs}):
        sel = [r for r in rs if case_group(r["case"]) == group]
        az = np.abs([r["azimuth_error_deg"] for r in sel if r["azimuth_error_deg"] is not None])
        fin = Counter(r["final"] for r in sel)
        text = "no azimuth" if az.size == 0 else f"{np.median(az):.2f}° / {az.max():.2f}° (n {az.size})"
        out.append(f"|   | {group} | azimuth {text} | finals {dict(fin)} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--urad", type=float, nargs="+", default=[20.0, 40.0])
    ap.add_argument("--heo-only", action="store_true", help="the east HEO constellation alone")
    ap.add_argument("--out", default="out/bench_chain.json")
    args = ap.parse_args()
    records: list[dict] = []
    t0 = time.perf_counter()
    for urad in args.urad:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            t1 = time.perf_counter()
            records += run_one(seed, urad, args.heo_only)
            print(f"seed {seed} {urad:g} µrad: {time.perf_counter() - t1:.0f} s", flush=True)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(records, indent=1))
    print(summary(records))
    print(f"{len(records)} launches, wall {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
