"""Value of an agreement on the two-partner demo: per partner, alone vs shared, against the joint fusion.

Usage: ``python bench/bench_sharing_value.py [AGREEMENT_YAML] [--seed S]`` (default: the shipped
examples/agreements/north-east.yaml, the scenario's seed). Runs the scenario once through one engine with
every partner's detections (the *joint* reference: its launch errors, their Cramér–Rao bounds from the joint
geometry, and each launch's first joint stereo instant, the simulator's truth), then every partner as a node
(vigil.sharing.network.run_network) with the agreement, and prints per partner: launches triangulated,
median launch error, median error / joint CRLB, and the median delay of the first shared warning after
joint stereo (the latency the agreement's ``delay_s`` should add to). ``--per-launch`` adds each launch's
alone / shared error against the joint CRLB; ``--pooled-seeds N`` instead fuses, per seed 0..N-1, each
partner's detections alone and all of them in one engine (exact data, no network): how often pooling a partner
that adds little information is worse on one realisation by noise alone (docs/benchmarks.md, "Sharing never
worse"). ``--ellipse-seeds N`` instead runs the nodes with the agreement on seeds 0..N-1 and reports, per partner,
how often the true launch point lies inside the final warnings' 95 % launch ellipse and their mean NEES (2 dof:
2 when consistent), alone and in the shared view, its versions that name a partner (where the partner released no
observations: fused track-to-track with its warning by covariance intersection, vigil.sharing.view) apart from the rest (docs/benchmarks.md, issue 11, "Track-to-track").
``--types DIRECTION=TYPES`` (repeatable) replaces one direction's ``types`` in the agreement, e.g.
``--types north->east=track --types east->north=`` (an empty list removes the direction): the track-to-track
arm, where east gets north's tracks only (docs/benchmarks.md, "Track-to-track fusion"); ``--delay-s D`` sets
every direction's delay.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import time
from pathlib import Path

import numpy as np

from vigil.config import read_yaml
from vigil.scoring.pipeline import score_result
from vigil.sharing.agreement import parse_agreement
from vigil.sharing.network import launch_view, run_network
from vigil.sim import load_scenario, simulate

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("agreement", nargs="?", default=str(ROOT / "examples/agreements/north-east.yaml"))
    ap.add_argument("--scenario", default=str(ROOT / "examples/scenarios/two-partner.yaml"))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument(
        "--pooled-seeds",
        type=int,
        default=0,
        metavar="N",
        help="instead: for seeds 0..N-1, each partner's own detections alone vs every partner's in one "
        "engine (exact data, no agreement): per seed median launch error and CRLB",
    )
    ap.add_argument(
        "--per-launch",
        action="store_true",
        help="also print, per partner and launch, alone / shared error and their ratio to the joint CRLB",
    )
    ap.add_argument(
        "--ellipse-seeds",
        type=int,
        default=0,
        metavar="N",
        help="instead: for seeds 0..N-1, the nodes with the agreement; coverage and NEES of the final launch "
        "ellipses against the truth, per partner, alone / shared view fused by CI / shared view not fused",
    )
    ap.add_argument(
        "--types",
        action="append",
        default=[],
        metavar="DIRECTION=TYPES",
        help="replace a direction's types, e.g. north->east=track (comma-separated; empty: no direction)",
    )
    ap.add_argument("--delay-s", type=float, default=None, help="replace every direction's delay_s")
    args = ap.parse_args()
    scenario = load_scenario(args.scenario)
    agreement = with_types(Path(args.agreement), args.types, args.delay_s)
    if args.ellipse_seeds:
        ellipse_seeds(scenario, agreement, args.ellipse_seeds)
        return
    if args.pooled_seeds:
        pooled_seeds(scenario, args.pooled_seeds)
        return
    sim = simulate(scenario, np.random.default_rng(scenario.seed if args.seed is None else args.seed))
    joint = {row["id"]: row for row in score_result(scenario, sim).score["launches"]}
    stereo = {la["id"]: la["first_stereo_visible_s"] for la in sim.summary["launches"]}
    start = time.perf_counter()
    result = run_network(scenario, simulation=sim, agreements=[agreement])
    wall = time.perf_counter() - start
    truths = list(sim.truth)
    med = statistics.median
    errs = [r["launch_error_km"] for r in joint.values() if r["launch_error_km"] is not None]
    ratio = [
        r["launch_error_km"] / r["launch_crlb_km"]
        for r in joint.values()
        if r["launch_error_km"] is not None and r["launch_crlb_km"]
    ]
    print(
        f"joint (one engine): launches {len(truths)}, stereo {sum(v is not None for v in stereo.values())}, "
        f"launch error median {med(errs):.3f} km, error/CRLB median {med(ratio):.2f}"
    )
    for pid, part in result.partners.items():
        for name, warnings in (("alone", part.alone), ("shared", part.shared)):
            view = launch_view(warnings, truths, result.epoch)
            tri = sum(r["triangulated"] for r in view.values())
            e = [r["launch_error_km"] for r in view.values() if r["launch_error_km"] is not None]
            q = [
                view[k]["launch_error_km"] / joint[k]["launch_crlb_km"]
                for k in view
                if view[k]["launch_error_km"] is not None and joint[k]["launch_crlb_km"]
            ]
            truth_t = {str(t["id"]): float(t["launch_time_s"]) for t in truths}
            lag = [
                view[k]["triangulated_latency_s"] + truth_t[k] - stereo[k]
                for k in view
                if view[k]["triangulated_latency_s"] is not None and stereo.get(k) is not None
            ]
            first = [r["latency_s"] for r in view.values() if r["latency_s"] is not None]
            az = [r["azimuth_error_deg"] for r in view.values() if r["azimuth_error_deg"] is not None]
            imp = [r["impact_error_km"] for r in view.values() if r["impact_error_km"] is not None]
            print(
                f"{pid:>6} {name:>6}: triangulated {tri}/{len(truths)}, launch error median "
                f"{med(e) if e else float('nan'):.3f} km, /joint CRLB median {med(q) if q else float('nan'):.2f}, "
                f"azimuth {med(az) if az else float('nan'):.2f} deg, impact {med(imp) if imp else float('nan'):.1f} km, "
                f"first triangulated warning - joint stereo median {med(lag) if lag else float('nan'):.1f} s "
                f"(max {max(lag) if lag else float('nan'):.1f} s), first warning latency median "
                f"{med(first) if first else float('nan'):.1f} s"
            )
        if args.per_launch:
            _per_launch(pid, part, truths, result.epoch, joint)
        c = part.counts
        print(
            f"{pid:>6} counts: received {c.fused_received}, late {c.late}, too late {c.too_late}, "
            f"duplicates {c.duplicate}, copies {c.copies}, unnamed {c.unknown_sensor}, received warnings "
            f"{len(part.received)}, received tracks {len(part.received_tracks)}"
        )
    print(f"network wall {wall:.1f} s")


def with_types(path: Path, overrides: list[str], delay_s: float | None = None):
    """The agreement at ``path`` with each ``DIRECTION=TYPES`` override applied (empty TYPES: no direction) and,
    when given, every direction's ``delay_s`` replaced."""
    data = read_yaml(path, "agreement")
    for item in overrides:
        direction, _, types = item.partition("=")
        if not types:
            data["directions"].pop(direction, None)
        else:
            data["directions"].setdefault(direction, {"region": "global", "precision_m": 1000.0})
            data["directions"][direction]["types"] = types.split(",")
    for clauses in data["directions"].values():
        if delay_s is not None:
            clauses["delay_s"] = delay_s
    return parse_agreement(data, str(path))


def pooled_seeds(scenario, seeds: int) -> None:
    """What pooling can give at best: per seed, each partner's detections alone and every partner's in one
    engine (the exact, unrounded, in-time data the shared view approximates), medians of launch error and of
    the CRLB; a consistent estimator adding little information is worse on some seeds by noise alone."""
    med = statistics.median
    pooled: dict[str, list[float]] = {}
    worse: dict[str, int] = {}
    for seed in range(seeds):
        sim = simulate(scenario, np.random.default_rng(seed))
        runs = {"joint": sim}
        for pid in sorted(set(sim.observations.partner_id.astype(str))):
            keep = sim.observations.partner_id.astype(str) == pid
            runs[pid] = dataclasses.replace(
                sim,
                observations=sim.observations.take(keep),
                truth_launch=sim.truth_launch[keep],
                t_emit_s=sim.t_emit_s[keep],
            )
        stats = {}
        for name, run in runs.items():
            rows = score_result(scenario, run).score["launches"]
            e = [r["launch_error_km"] for r in rows if r["launch_error_km"] is not None]
            c = [r["launch_crlb_km"] for r in rows if r["launch_crlb_km"]]
            pooled.setdefault(name, []).extend(e)
            stats[name] = (med(e) if e else math.nan, med(c) if c else math.nan)
        for name in runs:
            worse[name] = worse.get(name, 0) + (name != "joint" and stats["joint"][0] > stats[name][0])
        print(
            f"seed {seed}: " + ", ".join(f"{k} {v[0]:.3f} km (CRLB {v[1]:.3f})" for k, v in stats.items()),
            flush=True,
        )
    rms = {k: math.sqrt(sum(x * x for x in v) / len(v)) for k, v in pooled.items() if v}
    print(
        "over seeds: "
        + ", ".join(f"{k} median {med(v):.3f} rms {rms[k]:.3f} km" for k, v in pooled.items() if v)
    )
    print(
        "seeds where the joint median is above the partner's alone median: "
        + ", ".join(f"{k} {n}/{seeds}" for k, n in worse.items() if k != "joint")
    )


def ellipse_seeds(scenario, agreement, seeds: int) -> None:
    """Per partner, over seeds and launches: the final launch ellipses' coverage of the true launch point (95 %)
    and mean NEES, alone and in the shared view (versions naming a partner — its detections or, by CI, its warning — and the others)."""
    from vigil.fusion.partners.trackfusion import ellipse_cov_km2, tangent_km
    from vigil.scoring import assign_events, final_versions

    nees: dict[tuple[str, str], list[float]] = {}
    for seed in range(seeds):
        sim = simulate(scenario, np.random.default_rng(seed))
        result = run_network(scenario, simulation=sim, agreements=[agreement])
        truth = {str(t["id"]): t["site"] for t in sim.truth}
        for pid, part in result.partners.items():
            for view, warnings in (("alone", part.alone), ("shared", part.shared)):
                finals = final_versions(warnings)
                for lid, eid in assign_events(finals, list(sim.truth)).event_of.items():
                    w = next(f for f in finals if f.event_id == eid)
                    if w.launch_ellipse is None:
                        continue
                    fused = view == "shared" and w.sources.sensors and set(w.sources.partners) - {pid}
                    key = (
                        pid,
                        "alone" if view == "alone" else "shared, w/ partner" if fused else "shared, own only",
                    )
                    e = tangent_km(
                        truth[lid]["lat_deg"], truth[lid]["lon_deg"], w.launch_lat_deg, w.launch_lon_deg
                    )
                    nees.setdefault(key, []).append(
                        float(e @ np.linalg.solve(ellipse_cov_km2(w.launch_ellipse, w.containment), e))
                    )
        print(f"seed {seed} done", flush=True)
    k95 = -2.0 * math.log(0.05)
    for (pid, view), d in sorted(nees.items()):
        x = np.array(d)
        print(
            f"{pid:>6} {view:>17}: n {x.size}, inside the 95 % ellipse {np.mean(x <= k95):.2f}, "
            f"mean NEES {x.mean():.2f} (2 if consistent), median {np.median(x):.2f}"
        )


def _per_launch(pid: str, part, truths: list, epoch, joint: dict) -> None:
    """Per launch: alone and shared launch error (km), each / the joint CRLB, shared − alone."""
    alone, shared = launch_view(part.alone, truths, epoch), launch_view(part.shared, truths, epoch)
    print(f"{pid:>6} per launch: id, joint CRLB km, alone km (/CRLB), shared km (/CRLB), shared - alone km")
    for k in alone:
        a, s, c = alone[k]["launch_error_km"], shared[k]["launch_error_km"], joint[k]["launch_crlb_km"]
        fa = "-" if a is None else f"{a:.3f} ({a / c:.2f})" if c else f"{a:.3f}"
        fs = "-" if s is None else f"{s:.3f} ({s / c:.2f})" if c else f"{s:.3f}"
        diff = "-" if a is None or s is None else f"{s - a:+.3f}"
        print(f"{pid:>6}   {k:>8} {c if c is None else round(c, 3)!s:>7} {fa:>16} {fs:>16} {diff:>8}")


if __name__ == "__main__":
    main()
