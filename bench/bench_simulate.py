"""Benchmark of observation generation: 10 sensors, 1 s frames, 1 h, 100 launches.

Flights are synthetic (a 240 s quadratic ascent, 1 s samples) so that the figure measures the simulator,
not the flight integrator. Satellites: 10 near-GEO satellites every 36° of longitude. Prints the median
of 3 runs of :func:`vigil.sim.engine.observe_all` (SGP4 propagation, light time, Pd, noise, clutter,
sorting and the first-visibility summary included).

    .venv/bin/python bench/bench_simulate.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import numpy as np
from sgp4.api import WGS72, Satrec

from vigil.flight.trajectory import Trajectory
from vigil.frames import enu_basis, geodetic_to_ecef, gmst82_rad
from vigil.sensors.model import SensorModel
from vigil.sensors.signal import SignalModel
from vigil.sim.engine import observe_all
from vigil.sim.scenario import Partner
from vigil.space.constellation import Constellation
from vigil.timescale import TimeGrid

EPOCH = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
SIDEREAL_DAY_MIN = 86164.0905 / 60.0
N_SENSORS, FRAME_S, DURATION_S, N_LAUNCHES, RUNS = 10, 1.0, 3600.0, 100, 3


def geo_constellation(n: int) -> Constellation:
    epoch0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    g = TimeGrid.from_offsets(epoch0, [0.0])
    gmst_deg = float(np.degrees(gmst82_rad(g.jd_ut1_whole, g.jd_ut1_fraction))[0])
    sats = []
    for i in range(n):
        s = Satrec()
        m = np.radians((i * 360.0 / n + gmst_deg) % 360.0)
        s.sgp4init(
            WGS72,
            "i",
            1000 + i,
            27819.0,
            0.0,
            0.0,
            0.0,
            1e-4,
            0.0,
            np.radians(0.01),
            m,
            2 * np.pi / SIDEREAL_DAY_MIN,
            0.0,
        )
        sats.append(s)
    return Constellation(
        "bench", tuple(sats), tuple(f"GEO-{i}" for i in range(n)), tuple(range(1000, 1000 + n))
    )


def synthetic_flight(i: int, rng) -> Trajectory:
    lat, lon = rng.uniform(-50, 50), rng.uniform(-180, 180)
    t0 = rng.uniform(0, DURATION_S - 300)
    east, north, up = enu_basis(np.radians(lat), np.radians(lon))
    az = rng.uniform(0, 2 * np.pi)
    h = np.sin(az) * east + np.cos(az) * north
    tau = np.arange(0.0, 301.0)
    r = (
        geodetic_to_ecef(np.radians(lat), np.radians(lon), 0.0)
        + np.outer(12 * tau**2, up)
        + np.outer(10 * tau**2, h)
    )
    v = np.outer(24 * tau, up) + np.outer(20 * tau, h)
    lit = tau <= 240
    return Trajectory(
        f"L{i}",
        "ballistic",
        t0 + tau,
        r,
        v,
        np.tile(24 * up + 20 * h, (len(tau), 1)),
        np.where(lit, 0, -1),
        np.where(lit, 2e6, 0.0),
        {"liftoff": t0, "burnout": t0 + 240},
    )


def main() -> None:
    rng = np.random.default_rng(0)
    trajs = [synthetic_flight(i, rng) for i in range(N_LAUNCHES)]
    partner = Partner("bench", geo_constellation(N_SENSORS), SensorModel(frame_s=FRAME_S), SignalModel())
    times, n_obs = [], 0
    for run in range(RUNS):
        t = time.perf_counter()
        res = observe_all(
            EPOCH, DURATION_S, [partner], trajs, [x.launch_id for x in trajs], np.random.default_rng(run)
        )
        times.append(time.perf_counter() - t)
        n_obs = len(res.observations)
    med = statistics.median(times)
    print(
        f"{N_SENSORS} sensors, {FRAME_S:g} s frames, {DURATION_S:g} s, {N_LAUNCHES} launches: "
        f"{n_obs} observations in {med:.2f} s (median of {RUNS}) = {n_obs / med:,.0f} observations/s; "
        f"runs {', '.join(f'{x:.2f}' for x in times)} s"
    )


if __name__ == "__main__":
    main()
