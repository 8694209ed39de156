"""Figures of issue 3 part 1: flight timings, burnout, ranges, targeting misses, invariants, replays.

Run: ``.venv/bin/python bench/bench_flight.py`` (one pass, ~15 s on one core).
"""

from __future__ import annotations

import math
import time
from importlib import resources

import numpy as np

from vigil.flight import EomOptions, coast, fly, fly_to_target, jacobi_energy, replay, summarize
from vigil.frames import (
    ecef_to_geodetic,
    enu_basis,
    geodetic_to_ecef,
    great_circle_destination,
    great_circle_distance_m,
)

SITE = (45.0, 63.3)
PADS = {
    "spacex-crs-8": (28.5618, -80.5772, 45.0),
    "thaicom-8": (28.5618, -80.5772, 90.0),
    "echostar-23": (28.6083, -80.6041, 90.0),
    "jason-3": (34.6321, -120.6106, 150.4),
    "iridium-next-6": (34.6321, -120.6106, 175.6),
}


def vehicles() -> None:
    for name in [
        "notional-srbm-1stage",
        "notional-irbm-2stage",
        "notional-icbm-3stage",
        "notional-launcher-2stage",
    ]:
        t0 = time.perf_counter()
        tr = (
            fly(name, *SITE, 0.0, 40.0) if "launcher" not in name else fly(name, 28.5618, -80.5772, 0.0, 90.0)
        )
        dt = time.perf_counter() - t0
        s = summarize(tr)
        print(
            f"{name:26s} {dt * 1e3:5.0f} ms  burnout {s['burnout_time_s']:5.1f} s at {s['burnout_alt_km']:5.0f} km,"
            f" {s['burnout_speed_rel_km_s']:.2f} km/s rel / {s['burnout_speed_inertial_km_s']:.2f} inertial;"
            f" range {s['range_km']:7.0f} km; perigee {s['perigee_alt_km']:.0f} km; {len(tr.t_s)} samples"
        )


def targeting() -> None:
    for name, dist in [("notional-icbm-3stage", 10_000e3), ("notional-srbm-1stage", 800e3)]:
        lat, lon = great_circle_destination(
            math.radians(SITE[0]), math.radians(SITE[1]), math.radians(20.0), dist
        )
        t0 = time.perf_counter()
        tr = fly_to_target(name, SITE, 0.0, math.degrees(lat), math.degrees(lon))
        ilat, ilon, _ = ecef_to_geodetic(tr.r_ecef_m[-1])
        miss = great_circle_distance_m(ilat, ilon, lat, lon)
        print(
            f"target {dist / 1e3:.0f} km with {name}: miss {miss:.1f} m ({100 * miss / dist:.4f} %),"
            f" {time.perf_counter() - t0:.1f} s"
        )


def invariants() -> None:
    east, north, up = enu_basis(math.radians(SITE[0]), math.radians(SITE[1]))
    r0 = geodetic_to_ecef(math.radians(SITE[0]), math.radians(SITE[1]), 0.0)
    v0 = 200.0 * (math.cos(math.radians(45)) * north + math.sin(math.radians(45)) * up)
    tr = coast(
        r0,
        v0,
        600.0,
        EomOptions(rotating=False, drag=False, gravity="uniform", g_uniform_m_s2=tuple(-9.80665 * up)),
    )
    err = np.linalg.norm(tr.r_ecef_m[-1] - r0) / (200.0**2 / 9.80665) - 1.0
    print(f"vacuum flat range vs v² sin2γ/g (γ=45°): relative error {err:.2e}")
    r1 = geodetic_to_ecef(math.radians(SITE[0]), math.radians(SITE[1]), 300e3)
    v1 = 6800.0 * (
        math.cos(math.radians(25)) * (0.64 * east + 0.77 * north) + math.sin(math.radians(25)) * up
    )
    tr = coast(r1, v1, 1800.0, EomOptions(drag=False))
    e = jacobi_energy(tr.r_ecef_m, tr.v_ecef_m_s)
    print(f"Jacobi energy drift over 1800 s (rotating, J2, no drag): {np.max(np.abs(e / e[0] - 1)):.2e}")


def replays() -> None:
    for name, (lat, lon, az) in PADS.items():
        csv = resources.files("vigil") / "data" / "telemetry" / f"{name}.csv"
        out = []
        for at_alt in (True, False):
            tr = replay(csv, lat, lon, 0.0, az, downrange_at_altitude=at_alt)
            s = summarize(tr)
            out.append(f"{s['perigee_alt_km']:.0f} x {s['apogee_alt_km']:.0f} km")
        la, lo, h = ecef_to_geodetic(tr.r_ecef_m)
        k = int(np.argmin(np.abs(h - 60e3)))
        e, n, _ = enu_basis(la[k], lo[k])
        heading = math.degrees(math.atan2(tr.v_ecef_m_s[k] @ e, tr.v_ecef_m_s[k] @ n))
        print(
            f"replay {name:15s} orbit {out[0]} (surface-arc reading: {out[1]}); heading at 60 km "
            f"{heading:.2f}° (error {heading - az:+.2f}°)"
        )


if __name__ == "__main__":
    vehicles()
    targeting()
    invariants()
    replays()
