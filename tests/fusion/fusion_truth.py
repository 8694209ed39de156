"""Independent truth for the fusion tests: an analytic boost, a scipy-integrated coast, fixed sensors.

Boost: flat-Earth (site ENU plane) point mass at the rocket-equation speed
``v(t) = -ve ln(1 - t/τ) - g ∫cos γ`` along a flight-path angle that is vertical for ``VERTICAL_S`` then
tilts linearly towards the azimuth (a gravity-turn-like profile, not a polynomial in time). Coast: two-body
+ J2 in the rotating frame integrated with scipy's DOP853 (not the fusion code's integrator).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import cumulative_trapezoid, solve_ivp

from vigil.frames import (
    GM_EARTH_M3_S2,
    J2_EARTH,
    OMEGA_EARTH_RAD_S,
    WGS84_A_M,
    ecef_to_geodetic,
    enu_basis,
    geodetic_to_ecef,
)
from vigil.records import ObservationBatch

VE_M_S = 2500.0
TAU_S = 160.0
G0 = 9.80665
VERTICAL_S = 10.0
VISIBLE_ALT_M = 10_000.0
GEO_RADIUS_M = 42_164_000.0


@dataclass
class Truth:
    t_s: np.ndarray
    r: np.ndarray
    v: np.ndarray
    launch_time_s: float
    lat_rad: float
    lon_rad: float
    azimuth_rad: float
    burnout_time_s: float

    def state(self, t):
        r = np.stack([np.interp(t, self.t_s, self.r[:, k]) for k in range(3)], -1)
        v = np.stack([np.interp(t, self.t_s, self.v[:, k]) for k in range(3)], -1)
        return r, v


def boost_truth(lat_deg=45.0, lon_deg=63.3, az_deg=40.0, t0=100.0, burn_s=130.0, tilt_deg=55.0, dt=0.01):
    lat, lon, az = np.radians([lat_deg, lon_deg, az_deg])
    tau = np.arange(0.0, burn_s + dt / 2, dt)
    gamma = np.radians(tilt_deg) * np.clip((tau - VERTICAL_S) / (burn_s - VERTICAL_S), 0, 1)
    grav_loss = cumulative_trapezoid(G0 * np.cos(gamma), tau, initial=0.0)
    speed = -VE_M_S * np.log(1 - tau / TAU_S) - grav_loss
    e, n, u = enu_basis(lat, lon)
    direction = np.sin(gamma)[:, None] * (np.sin(az) * e + np.cos(az) * n) + np.cos(gamma)[:, None] * u
    v = speed[:, None] * direction
    r = geodetic_to_ecef(lat, lon, 0.0) + cumulative_trapezoid(v, tau, axis=0, initial=0.0)
    return Truth(tau + t0, r, v, t0, lat, lon, az, t0 + burn_s)


def coast_rhs(_t, y):
    r, v = y[:3], y[3:]
    r2 = r @ r
    k = -GM_EARTH_M3_S2 / r2**1.5
    f = 1.5 * J2_EARTH * WGS84_A_M**2 / r2
    zz = 5 * r[2] ** 2 / r2
    g = np.array(
        [k * r[0] * (1 + f * (1 - zz)), k * r[1] * (1 + f * (1 - zz)), k * r[2] * (1 + f * (3 - zz))]
    )
    w = np.array([0.0, 0.0, OMEGA_EARTH_RAD_S])
    return np.concatenate([v, g - 2 * np.cross(w, v) - np.cross(w, np.cross(w, r))])


def coast_impact(r0, v0, t0):
    """Impact (time s, lat rad, lon rad) of a coast state, by DOP853 to geodetic altitude 0."""

    def ground(_t, y):
        return ecef_to_geodetic(y[:3])[2]

    ground.terminal, ground.direction = True, -1
    sol = solve_ivp(
        coast_rhs, (0, 7200), np.concatenate([r0, v0]), method="DOP853", events=ground, rtol=1e-11, atol=1e-6
    )
    y = sol.y_events[0][0]
    lat, lon, _ = ecef_to_geodetic(y[:3])
    return t0 + sol.t_events[0][0], float(lat), float(lon)


def sensors(lat_deg=45.0, lon_deg=63.3, count=4):
    """2 GEO + 2 HEO-like fixed ECEF positions watching the site (id, partner, position)."""
    geo = [geodetic_to_ecef(0.0, np.radians(lon_deg + d), GEO_RADIUS_M - WGS84_A_M) for d in (-35.0, 30.0)]
    heo = [geodetic_to_ecef(np.radians(63.0), np.radians(lon_deg + d), 35_000e3) for d in (-50.0, 45.0)]
    out = [
        ("geo-a", "north", geo[0]),
        ("geo-b", "east", geo[1]),
        ("heo-a", "north", heo[0]),
        ("heo-b", "east", heo[1]),
    ]
    return out[:count]


def noisy_los(truth_r, sensor_pos, sigma, rng):
    d = truth_r - sensor_pos
    u = d / np.linalg.norm(d, axis=-1, keepdims=True)
    helper = np.array([0.0, 0.0, 1.0])
    e1 = np.cross(helper, u)
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    e2 = np.cross(u, e1)
    noise = rng.normal(0, sigma, (len(u), 2))
    u = u + noise[:, :1] * e1 + noise[:, 1:] * e2
    return u / np.linalg.norm(u, axis=-1, keepdims=True)


def observe(truths, sensor_list, rng, sigma=20e-6, frame_s=1.0, t_end=None, clutter_per_frame=0.0):
    """ObservationBatch of the truths' visible boost (alt ≥ 10 km) from each sensor, async frames."""
    t_end = t_end if t_end is not None else max(tr.t_s[-1] for tr in truths) + 30.0
    rows = []
    for sid, pid, pos in sensor_list:
        frames = np.arange(rng.uniform(0, frame_s), t_end, frame_s)
        for tr in truths:
            inside = (frames >= tr.t_s[0]) & (frames <= tr.t_s[-1])
            t = frames[inside]
            r, _ = tr.state(t)
            vis = ecef_to_geodetic(r)[2] >= VISIBLE_ALT_M
            t, r = t[vis], r[vis]
            rows.append((sid, pid, pos, t, noisy_los(r, pos, sigma, rng), np.searchsorted(frames, t)))
        n_clutter = rng.poisson(clutter_per_frame * len(frames))
        if n_clutter:
            k = rng.integers(0, len(frames), n_clutter)
            rows.append((sid, pid, pos, frames[k], clutter_los(pos, n_clutter, rng), k))
    return _batch(rows, sigma)


def clutter_los(pos, n, rng):
    """LOS to uniformly random points on the sphere cap visible from ``pos``."""
    out = []
    while len(out) < n:
        p = rng.normal(size=3)
        p = WGS84_A_M * p / np.linalg.norm(p)
        if (pos - p) @ p > 0:
            out.append((p - pos) / np.linalg.norm(p - pos))
    return np.array(out)


def _batch(rows, sigma):
    m = sum(len(r[3]) for r in rows)
    sid = np.concatenate([np.full(len(r[3]), r[0], dtype=object) for r in rows]) if m else np.zeros(0, object)
    b = ObservationBatch(
        "2026-03-01T12:00:00Z",
        np.arange(m),
        sid,
        np.concatenate([np.full(len(r[3]), r[1], dtype=object) for r in rows]) if m else np.zeros(0, object),
        np.concatenate([r[3] for r in rows]) if m else np.zeros(0),
        np.concatenate([np.broadcast_to(r[2], (len(r[3]), 3)) for r in rows]) if m else np.zeros((0, 3)),
        np.concatenate([r[4].reshape(-1, 3) for r in rows]) if m else np.zeros((0, 3)),
        np.full(m, sigma),
        np.full(m, 20.0),
        np.full(m, 1e5),
        np.concatenate([r[5] for r in rows]).astype(np.int64) if m else np.zeros(0, np.int64),
    )
    return b.sorted_by_time()
