"""Shared makings for the agreement / releaser / receiver / audit tests, and independent truths.

The truths here deliberately avoid the code under test: point-in-polygon by ray casting (not shapely),
the Earth intersection of a line of sight by bisection on geodetic height (not the quadratic).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vigil.frames import ecef_to_geodetic, geodetic_to_ecef
from vigil.sharing.agreement import Agreement, parse_agreement
from vigil.sharing.keys import KeyRegistry, Signer

T0 = 1_780_000_000.0  # 2026-05-28T20:26:40Z, inside every test agreement's validity
GEO_ALT_M = 35_786_000.0  # geostationary altitude, km 35 786 (IAU / any textbook)
OBS_TIME_S = T0 - 12.5  # the data's own times: a little before the release at T0, as a node releases them
TRACK_TIME_S = T0 - 30.0
NORTH, EAST, THIRD = Signer.generate("north"), Signer.generate("east"), Signer.generate("third")


def registry() -> KeyRegistry:
    return KeyRegistry.from_signers(NORTH, EAST, THIRD)


def agreement(
    types: list[str] | None = None,
    region: Any = "global",
    precision_m: float = 1000.0,
    delay_s: float = 0.0,
    back: dict[str, Any] | None = None,
    **top: Any,
) -> Agreement:
    """north->east with the given clauses (east->north only when ``back`` is given)."""
    directions = {
        "north->east": {
            "types": types or ["observation", "track", "warning", "notification"],
            "region": region,
            "precision_m": precision_m,
            "delay_s": delay_s,
        }
    }
    if back is not None:
        directions["east->north"] = back
    data = {
        "name": "test",
        "parties": ["north", "east"],
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2030-01-01T00:00:00Z",
        "directions": directions,
    } | top
    return parse_agreement(data, "test agreement")


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]],
    }


def ecef(lat_deg: float, lon_deg: float, alt_m: float = 0.0) -> np.ndarray:
    return geodetic_to_ecef(math.radians(lat_deg), math.radians(lon_deg), alt_m)


def observation(
    sat: tuple[float, float, float] = (45.0, 60.0, GEO_ALT_M),
    target: tuple[float, float] = (45.3, 63.3),
    **extra: Any,
) -> dict[str, Any]:
    """A detection by a satellite at ``sat`` (lat, lon deg, alt m) looking at ground ``target`` (lat, lon)."""
    r = ecef(*sat)
    u = ecef(*target) - r
    u /= np.linalg.norm(u)
    return {
        "obs_id": 7,
        "sensor_id": "north-1",
        "partner_id": "north",
        "time": OBS_TIME_S,
        "sensor_pos_ecef_m": r.tolist(),
        "los_ecef": u.tolist(),
        "los_sigma_rad": 2e-5,
        "snr": 9.5,
        "intensity_w_sr": 1.5e6,
        "frame_id": 42,
    } | extra


def track(lat: float = 45.3, lon: float = 63.3, alt_m: float = 80e3) -> dict[str, Any]:
    return {
        "track_id": "T1",
        "time": TRACK_TIME_S,
        "pos_ecef_m": ecef(lat, lon, alt_m).tolist(),
        "vel_ecef_m_s": [1000.0, 2000.0, 3000.0],
        "cov": np.diag([1e4] * 3 + [25.0] * 3).tolist(),
        "phase": "boost",
        "sensor_ids": ["north-1"],
        "partner_ids": ["north"],
    }


def warning(
    launch: tuple[float, float] = (45.3, 63.3), impact: tuple[float, float] | None = (60.0, 90.0)
) -> dict:
    out: dict[str, Any] = {
        "event_id": "E1",
        "version": 1,
        "class": "ballistic",
        "launch_lat_deg": launch[0],
        "launch_lon_deg": launch[1],
        "launch_ellipse": [30.0, 5.0, 2.0],
        "confidence": 0.9,
        "sources": ["north-1"],
    }
    if impact is not None:
        out |= {"impact_lat_deg": impact[0], "impact_lon_deg": impact[1]}
    return out


def notification(lat: float = 45.3, lon: float = 63.3) -> dict[str, Any]:
    return {
        "notification_id": "N1",
        "partner_id": "north",
        "window_start": "2026-06-01T00:00:00Z",
        "window_end": "2026-06-02T00:00:00Z",
        "class": "space_launch",
        "launch_area": {"lat_deg": lat, "lon_deg": lon, "radius_km": 20.0},
        "impact_area": {"polygon": [[lon + 10, lat], [lon + 12, lat], [lon + 11, lat + 2]]},
        "group": False,
    }


def ray_cast_inside(lat: float, lon: float, ring: list[list[float]]) -> bool:
    """Even-odd rule on a lon/lat ring (W. R. Franklin's PNPOLY), trying lon, lon ± 360."""
    for x in (lon, lon + 360.0, lon - 360.0):
        inside = False
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y1 > lat) != (y2 > lat) and x < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
                inside = not inside
        if inside:
            return True
    return False


def bisect_earth_hit(r: np.ndarray, u: np.ndarray, far_m: float = 1e8) -> np.ndarray | None:
    """Earth intersection of the ray r + t u by stepping then bisecting on geodetic height; None if it misses."""
    ts = np.linspace(0.0, far_m, 200_001)
    h = ecef_to_geodetic(r + ts[:, None] * u)[2]
    below = np.nonzero(h <= 0.0)[0]
    if below.size == 0:
        return None
    lo, hi = ts[below[0] - 1], ts[below[0]]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ecef_to_geodetic(r + mid * u)[2] > 0 else (lo, mid)
    return r + 0.5 * (lo + hi) * u
