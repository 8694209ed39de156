"""Coverage kernel throughput (satellite·point·time checks per second) vs a numpy baseline.

The baseline is the straightforward numpy formulation written here: one ``U @ S.T`` per time step
(``U`` the unit 'up' of every cell, ``S`` the satellites' positions), elevation test by broadcasting.
Also times the whole ``compute_coverage`` (propagation included) on a global 1° grid, 24 h at 60 s,
10 satellites. Run: ``.venv/bin/python bench/bench_coverage.py``
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import median_time, population  # noqa: E402
from vigil.coverage.analysis import Partner, compute_coverage  # noqa: E402
from vigil.coverage.grid import Grid  # noqa: E402
from vigil.coverage.kernel import access_counts  # noqa: E402
from vigil.sensors.model import SensorModel  # noqa: E402
from vigil.space.constellation import Constellation  # noqa: E402
from vigil.space.propagation import propagate_ecef  # noqa: E402
from vigil.timescale import TimeGrid, parse_utc  # noqa: E402

START = parse_utc("2026-03-01T00:00:00Z")


def numpy_baseline(r_sat, pts, up, sin_e):
    """Counts seen by ≥1 / ≥2 per cell: one ``U @ S.T`` per time step."""
    c1 = np.einsum("ij,ij->i", pts, up)[:, None]
    n1 = np.zeros(len(pts), np.int64)
    n2 = np.zeros(len(pts), np.int64)
    for s in r_sat:  # (N, 3) at one instant
        a = up @ s.T - c1  # (P, N): (s - p)·up
        rng = np.sqrt(np.sum(s**2, 1)[None, :] - 2 * pts @ s.T + np.sum(pts**2, 1)[:, None])
        count = np.sum(a >= sin_e * rng, axis=1)
        n1 += count >= 1
        n2 += count >= 2
    return n1, n2


def main() -> None:
    sats = population(12)[2::4][:3] + population(40)[2::4][:7]  # 10 high orbits (GEO and HEO)
    const = Constellation("b", tuple(sats), tuple(map(str, range(10))), tuple(range(10)))
    grid = Grid.global_(1.0)
    pts, up = grid.points_ecef_m()
    times = TimeGrid.from_offsets(START, np.arange(240) * 60.0)
    r = propagate_ecef(const, times).r_ecef_m
    sin_e = np.sin(np.radians(5.0))
    checks = r.shape[0] * r.shape[1] * len(pts)
    group = np.zeros(10, np.int64)
    t_kernel = median_time(lambda: access_counts(r, group, 1, pts, up, np.array([sin_e]), np.array([-1.0])))
    t_numpy = median_time(lambda: numpy_baseline(r, pts, up, sin_e), repeats=3)
    k1, k2, *_ = access_counts(r, group, 1, pts, up, np.array([sin_e]), np.array([-1.0]))
    b1, b2 = numpy_baseline(r, pts, up, sin_e)
    agree = np.mean(k1[0] == b1) * 100
    print(
        f"kernel check: {r.shape[1]} sats × {len(pts)} cells × {r.shape[0]} instants = {checks:,} checks; "
        f"cells agreeing with baseline: {agree:.3f} %"
    )
    print(f"  vigil kernel   {t_kernel:7.3f} s  {checks / t_kernel / 1e6:9.1f} M checks/s")
    print(f"  numpy baseline {t_numpy:7.3f} s  {checks / t_numpy / 1e6:9.1f} M checks/s")
    print(f"  speed-up: {t_numpy / t_kernel:.1f}×   (goal ≥ 3×)")
    partners = [Partner("b", const, SensorModel(min_elevation_deg=5.0))]
    walls = []
    for _ in range(3):
        t0 = time.perf_counter()
        compute_coverage(partners, grid, START, 86400.0, 60.0)
        walls.append(time.perf_counter() - t0)
    print(
        f"compute_coverage, 1° grid, 24 h at 60 s, 10 satellites: median {np.median(walls):.2f} s wall "
        f"(goal < 5 s; runs {', '.join(f'{w:.2f}' for w in walls)})"
    )


if __name__ == "__main__":
    main()
