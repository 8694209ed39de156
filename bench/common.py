"""Helpers shared by the benchmarks: repeat-and-median timing, and a synthetic satellite population."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
from sgp4.api import WGS72, Satrec

EPOCH_DAYS_1949 = 27819.0  # 2026-03-01T00:00:00Z for sgp4init


def median_time(fn: Callable[[], object], repeats: int = 5) -> float:
    """Median wall time (s) of ``repeats`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def population(n: int, seed: int = 1) -> list[Satrec]:
    """``n`` satellites mixing LEO, MEO, GEO and HEO orbits (deterministic for ``seed``)."""
    rng = np.random.default_rng(seed)
    sats = []
    for i in range(n):
        kind = i % 4
        period_min, ecc, incl = {
            0: (95.0, 0.001, 53.0),
            1: (720.0, 0.01, 55.0),
            2: (1436.1, 0.0002, 0.05),
            3: (718.0, 0.72, 63.4),
        }[kind]
        s = Satrec()
        s.sgp4init(
            WGS72,
            "i",
            i + 1,
            EPOCH_DAYS_1949,
            1e-5 if kind == 0 else 0.0,
            0.0,
            0.0,
            ecc,
            np.radians(270.0 if kind == 3 else rng.uniform(0, 360)),
            np.radians(incl),
            np.radians(rng.uniform(0, 360)),
            2 * np.pi / period_min,
            np.radians(rng.uniform(0, 360)),
        )
        sats.append(s)
    return sats
