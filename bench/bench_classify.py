"""Robustness set of the classifier (issue 14): the k-σ EnergyClassifier against the threshold baseline.

Usage: ``.venv/bin/python bench/bench_classify.py [--seeds 10] [--out out/bench_classify.json]``.

Cases, built from shipped data and never tuned one by one:

* space launches: the five shipped Falcon 9 telemetry profiles (src/vigil/data/telemetry) replayed from pads
  at 5°, 28.5°, 45° and 63° latitude along 35°, 90°, 140° and 200°, cut 0–90 s (step 15 s) before the end of
  their plume, plus the notional two-stage launcher;
* missiles: the notional ICBM, IRBM and SRBM (src/vigil/data/vehicles) at their nominal pitch-over, lofted
  (kick 3°, 5°) and depressed (kick 20°, 30°), from 5°, 35° and 63° along 35°, 120° and 200°; flights whose
  plume ends below :data:`MIN_BURNOUT_ALT_M` (they hit the ground under thrust) are counted and left out.

Each truth state at the end of the plume gets ``--seeds`` Gaussian draws of a burnout covariance scaled to
the sensor noise: :data:`SIGMA_R_M` / :data:`SIGMA_V_M_S` at 20 µrad (the burnout bound from GEO quoted in
fusion/coast/classify.py), twice that at 40 µrad; both classifiers see the same draws. Prints the confusion matrices
(rows truth, columns call) and the share decided correctly, as Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from vigil.flight.launch import fly
from vigil.flight.replay import replay
from vigil.frames import ecef_to_geodetic
from vigil.fusion.coast.classify import AscentCues, ThresholdEnergyClassifier
from vigil.fusion.coast.classify_sigma import EnergyClassifier

TELEMETRY = sorted((Path(__file__).parents[1] / "src/vigil/data/telemetry").glob("*.csv"))
PADS_DEG = (5.0, 28.5, 45.0, 63.0)
AZIMUTHS_DEG = (35.0, 90.0, 140.0, 200.0)
CUTS_S = (0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0)
MISSILES = ("notional-icbm-3stage", "notional-irbm-2stage", "notional-srbm-1stage")
KICKS_DEG = (None, 3.0, 5.0, 20.0, 30.0, 48.0)
MIN_BURNOUT_ALT_M = 30e3
SIGMA_R_M, SIGMA_V_M_S = 1000.0, 100.0  # at 20 µrad; linear in the LOS noise
SIGMA_BURN_S = 3.0  # launch-time σ at 20 µrad (the fused launch time: 1–3 s); the burn seen is last − launch
CLASSES = ("ballistic", "space_launch", "unknown")


def _end_state(tr, cut_s: float = 0.0):
    lit = np.nonzero(tr.intensity_w_sr > 0)[0]
    i = int(np.searchsorted(tr.t_s, tr.t_s[lit[-1]] - cut_s))
    return tr.r_ecef_m[i], tr.v_ecef_m_s[i]


def _end(tr, cut_s: float = 0.0):
    """``(x6, burn_s)`` at the end of the plume less ``cut_s``."""
    r, v = _end_state(tr, cut_s)
    lit = np.nonzero(tr.intensity_w_sr > 0)[0]
    return np.concatenate([r, v]), float(tr.t_s[lit[-1]] - cut_s - tr.t_s[0])


def truth_cases() -> tuple[list[tuple[str, dict, np.ndarray]], int]:
    """``[(truth class, labels, x6, burn s)]`` and the number of missile flights left out (burnout underground)."""
    cases = []
    for path in TELEMETRY:
        for lat in PADS_DEG:
            for az in AZIMUTHS_DEG:
                tr = replay(path, lat, 0.0, 0.0, az)
                for cut in CUTS_S:
                    x, burn = _end(tr, cut)
                    cases.append(
                        ("space_launch", {"src": path.stem, "lat": lat, "az": az, "cut_s": cut}, x, burn)
                    )
    for lat in PADS_DEG:
        x, burn = _end(fly("notional-launcher-2stage", lat, 0.0, 0.0, 90.0))
        cases.append(("space_launch", {"src": "notional-launcher-2stage", "lat": lat}, x, burn))
    skipped = 0
    for veh in MISSILES:
        for kick in KICKS_DEG:
            for lat in (5.0, 35.0, 63.0):
                for az in (35.0, 120.0, 200.0):
                    x, burn = _end(fly(veh, lat, 0.0, 0.0, az, kick))
                    if ecef_to_geodetic(x[:3])[2] < MIN_BURNOUT_ALT_M:
                        skipped += 1
                        continue
                    cases.append(("ballistic", {"src": veh, "kick": kick, "lat": lat, "az": az}, x, burn))
    return cases, skipped


def run(seeds: int) -> dict:
    cases, skipped = truth_cases()
    new, base = EnergyClassifier(), ThresholdEnergyClassifier()
    out: dict = {"cases": len(cases), "missiles_left_out": skipped, "draws": 0, "sensors": {}}
    for urad in (20, 40):
        s = urad / 20.0
        cov = np.diag([(SIGMA_R_M * s) ** 2] * 3 + [(SIGMA_V_M_S * s) ** 2] * 3)
        conf = {"new": Counter(), "baseline": Counter()}
        unknown_by_cut: Counter = Counter()
        for seed in range(seeds):
            rng = np.random.default_rng(1000 * urad + seed)
            for truth, labels, x, burn in cases:
                xs = rng.multivariate_normal(x, cov)
                cues = AscentCues(burn + rng.normal(0.0, SIGMA_BURN_S * s), SIGMA_BURN_S * s)
                c_new = new.decide(xs[:3], xs[3:], cov, cues).class_
                conf["new"][truth, c_new] += 1
                conf["baseline"][truth, base.classify(xs[:3], xs[3:])] += 1
                if c_new == "unknown":
                    unknown_by_cut[labels.get("cut_s", labels.get("kick", "nominal"))] += 1
        out["sensors"][urad] = {k: {f"{t}->{c}": n for (t, c), n in v.items()} for k, v in conf.items()}
        out["sensors"][urad]["unknown_by_cut_or_kick"] = {str(k): n for k, n in unknown_by_cut.items()}
    out["draws"] = len(cases) * seeds
    return out


def _markdown(res: dict) -> str:
    lines = [
        f"{res['cases']} truth states x seeds = {res['draws']} draws per sensor noise "
        f"({res['missiles_left_out']} missile flights left out: plume ends below 30 km)",
        "",
    ]
    for urad, block in res["sensors"].items():
        for name in ("new", "baseline"):
            m = block[name]

            def get(t, c, m=m):
                return m.get(f"{t}->{c}", 0)

            decided = sum(
                get(t, c) for t in ("ballistic", "space_launch") for c in ("ballistic", "space_launch")
            )
            correct = get("ballistic", "ballistic") + get("space_launch", "space_launch")
            total = sum(m.values())
            und = sum(get(t, "unknown") for t in ("ballistic", "space_launch"))
            lines.append(
                f"| {urad} µrad | {name} | SL→BM {get('space_launch', 'ballistic')} | "
                f"BM→SL {get('ballistic', 'space_launch')} | correct among decided "
                f"{100 * correct / max(decided, 1):.2f} % | unknown {100 * und / total:.1f} % "
                f"(SL {get('space_launch', 'unknown')}, BM {get('ballistic', 'unknown')}) |"
            )
        lines.append(f"unknown by cut (s) or kick (deg): {block['unknown_by_cut_or_kick']}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--out", default="out/bench_classify.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = run(args.seeds)
    res["wall_s"] = time.perf_counter() - t0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(_markdown(res))
    print(f"wall {res['wall_s']:.1f} s")


if __name__ == "__main__":
    main()
