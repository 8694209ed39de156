"""Fusion throughput: observations fused per second for N simultaneous launches on one core.

Usage: ``python bench/bench_fusion.py [N_LAUNCHES] [SEED] [--repeat R] [--no-freeze]`` (default 100, 1, 5). Launch sites are spread on a
grid over a 40°×60° region so that every launch is seen by the same 2 GEO + 2 HEO fixed sensors; the
truth and observation generator are the test helpers (tests/fusion/fusion_truth.py); every sensor has one
frame clock (all launches in its frames) and 0.01 false alarms per frame.

A warm-up salvo of the same size on another seed runs first, so that every compiled kernel the timed run uses
is loaded from the numba cache before the clock starts (as in a running service); a smaller warm-up can miss
kernels that only crowded frames need. After the warm-up the process's start-up objects (numba, llvmlite, scipy: ~1.5·10⁵ tracked objects) are moved out
of the garbage collector's view (:func:`gc.freeze`, as a long-running service does after start-up): a full
collection otherwise walks them once per ~0.8 s run (~7 % of it). ``--no-freeze`` measures without it.

The salvo is then fused ``R`` times, each by a new engine (no state carried over), and the median is the figure
(each run printed too): single runs on this shared machine scatter by several per cent.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fusion"))

from fusion_truth import boost_truth, observe, sensors  # noqa: E402

from vigil.fusion import FusionEngine  # noqa: E402
from vigil.records import ObservationBatch  # noqa: E402


def scenario(n: int, seed: int) -> ObservationBatch:
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    truths = []
    for k in range(n):
        lat = 25.0 + 40.0 * (k // side) / max(side - 1, 1)
        lon = 35.0 + 60.0 * (k % side) / max(side - 1, 1)
        truths.append(boost_truth(lat_deg=lat, lon_deg=lon, az_deg=float(rng.uniform(0, 360)),
                                  t0=100.0 + rng.uniform(0, 30)))
    return observe(truths, sensors(45.0, 63.3), rng, clutter_per_frame=0.01)  # one frame clock per sensor


def main() -> None:
    args = sys.argv[1:]
    repeat = 5
    if "--repeat" in args:
        k = args.index("--repeat")
        repeat = int(args[k + 1])
        del args[k:k + 2]
    args = [a for a in args if a != "--no-freeze"]
    n = int(args[0]) if args else 100
    seed = int(args[1]) if len(args) > 1 else 1
    batch = scenario(n, seed)
    list(FusionEngine().run(scenario(n, seed + 1)))  # load every compiled kernel the run uses (numba cache) first:
    # a salvo of the same size on another seed (a 9-launch warm-up left the linker's component solve, which only
    # crowded frames need, to load inside the timed run: ~15 ms)
    if "--no-freeze" not in sys.argv:
        gc.freeze()
    rates = []
    for _ in range(max(repeat, 1)):
        engine = FusionEngine()
        start, cpu = time.perf_counter(), time.process_time()
        issued = sum(len(ws) for _, ws in engine.run(batch))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        rates.append(len(batch) / elapsed)
        print(f"launches={n} observations={len(batch)} events={len(engine.events)} warnings={issued} "
              f"seconds={elapsed:.3f} cpu_seconds={cpu:.3f} obs_per_s={len(batch) / elapsed:.0f} "
              f"obs_per_cpu_s={len(batch) / cpu:.0f}")
    print(f"median of {len(rates)} runs: obs_per_s={statistics.median(rates):.0f} "
          f"(min {min(rates):.0f}, max {max(rates):.0f})")

if __name__ == "__main__":
    main()
