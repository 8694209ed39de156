"""Fusion throughput: observations fused per second for N simultaneous launches on one core.

Usage: ``python bench/bench_fusion.py [N_LAUNCHES] [SEED]`` (default 100, 1). Launch sites are spread on a
grid over a 40°×60° region so that every launch is seen by the same 2 GEO + 2 HEO fixed sensors; the
truth and observation generator are the test helpers (tests/fusion/fusion_truth.py).
"""

from __future__ import annotations

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
    parts = []
    for k in range(n):
        lat = 25.0 + 40.0 * (k // side) / max(side - 1, 1)
        lon = 35.0 + 60.0 * (k % side) / max(side - 1, 1)
        tr = boost_truth(lat_deg=lat, lon_deg=lon, az_deg=float(rng.uniform(0, 360)), t0=100.0 + rng.uniform(0, 30))
        part = observe([tr], sensors(45.0, 63.3), rng, clutter_per_frame=0.0)
        part.obs_id = part.obs_id + 100_000 * k
        parts.append(part)
    return ObservationBatch.concatenate(parts[0].epoch, parts)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    batch = scenario(n, seed)
    engine = FusionEngine()
    start = time.perf_counter()
    issued = sum(len(ws) for _, ws in engine.run(batch))
    elapsed = time.perf_counter() - start
    print(f"launches={n} observations={len(batch)} events={len(engine.events)} warnings={issued} "
          f"seconds={elapsed:.1f} obs_per_s={len(batch) / elapsed:.0f}")


if __name__ == "__main__":
    main()
