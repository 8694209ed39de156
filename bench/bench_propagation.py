"""Propagation throughput: vigil (SGP4 → ECEF) vs raw SatrecArray (TEME only) vs Skyfield (→ ITRS).

Same satellites, same instants, same run. Prints satellite-instants per second (median of 5) and ratios.
Run: ``.venv/bin/python bench/bench_propagation.py [--sats 1000] [--times 1440]``
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from sgp4.api import SatrecArray
from skyfield.api import EarthSatellite, load
from skyfield.framelib import itrs

sys.path.insert(0, os.path.dirname(__file__))
from common import median_time, population  # noqa: E402
from vigil.space.constellation import Constellation  # noqa: E402
from vigil.space.propagation import propagate_ecef  # noqa: E402
from vigil.timescale import TimeGrid, parse_utc  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sats", type=int, default=1000)
    ap.add_argument("--times", type=int, default=1440)
    ap.add_argument("--skyfield-sats", type=int, default=50, help="Skyfield is timed on a subset and scaled")
    args = ap.parse_args()
    sats = population(args.sats)
    const = Constellation("bench", tuple(sats), tuple(map(str, range(len(sats)))), tuple(range(len(sats))))
    grid = TimeGrid.from_offsets(parse_utc("2026-03-01T00:00:00Z"), np.arange(args.times) * 60.0)
    work = args.sats * args.times
    array = SatrecArray(sats)

    t_raw = median_time(lambda: array.sgp4(grid.jd_utc_whole, grid.jd_utc_fraction))
    t_v1 = median_time(lambda: propagate_ecef(const, grid, workers=1))
    t_vigil = median_time(lambda: propagate_ecef(const, grid))
    ts = load.timescale(builtin=True)
    t_sky_time = grid.skyfield()
    subset = [EarthSatellite.from_satrec(s, ts) for s in sats[: args.skyfield_sats]]
    t_sky = median_time(lambda: [s.at(t_sky_time).frame_xyz(itrs) for s in subset], repeats=3)
    t_sky *= args.sats / len(subset)

    print(
        f"{args.sats} satellites × {args.times} instants = {work:,} satellite-instants; cpus={os.cpu_count()}"
    )
    rows = [
        ("raw SatrecArray (TEME)", t_raw),
        ("vigil ECEF, 1 process", t_v1),
        ("vigil ECEF, default", t_vigil),
        (f"Skyfield ITRS (scaled from {len(subset)} sats)", t_sky),
    ]
    for label, t in rows:
        print(f"  {label:<40} {t:8.3f} s  {work / t / 1e6:8.2f} M sat-instants/s")
    print(f"  vigil / raw SatrecArray throughput: {t_raw / t_vigil:.2f}×   (goal ≥ 1.0×)")
    print(f"  vigil / Skyfield throughput:        {t_sky / t_vigil:.2f}×   (goal ≥ 2.5×)")


if __name__ == "__main__":
    main()
