"""Coarsening grids for released records, and the checks that a record is no finer than agreed.

Three grids, each chosen so that the receiver can check *exactly* (up to float rounding, tolerance
:data:`GRID_TOL`) that a value lies on it, from the released numbers alone:

* **ECEF positions** (m): every component is a multiple of ``precision_m`` (a cubic grid).
* **Geodetic points** (deg): latitude on multiples of ``precision_m / M0`` degrees, where
  ``M0 = a (1 - e²) π/180`` is the shortest length of one degree of latitude on WGS84 (at the equator),
  so a latitude step is ≥ ``precision_m`` everywhere; longitude on ``360 / n`` degrees with
  ``n = floor(2π a cos(lat) / precision_m)`` (≥ 1): an integer number of cells per parallel, each at
  least ``precision_m`` wide (the parallel's radius ``N cos(lat)`` is ≥ ``a cos(lat)``).
* **Lines of sight** (unit ECEF vectors): ECEF elevation ``atan2(z, hypot(x, y))`` on multiples of an angle
  ``q`` and ECEF azimuth on ``2π / n`` with ``n = floor(2π cos(el) / q)``, the same scheme on the unit sphere.
  ``q = precision_m / range`` where *range* is the distance from the (coarsened) sensor position along
  the (coarsened) line of sight to the WGS84 ellipsoid; when the line misses the Earth, the distance to its
  point of closest approach to the Earth's centre. Neither is ever below the sensor's height above the
  ellipsoid, which bounds ``q`` and ends the fixed-point search in :func:`coarsen_los`. The chosen
  ``q`` travels with the record (``los_quantum_rad``) and the receiver checks ``q >= precision_m / range``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..frames import WGS84_A_M, WGS84_B_M, WGS84_E2, ecef_to_geodetic

GRID_TOL = 1e-6  # allowed distance from a grid node, in grid steps (float rounding is ~1e-8 steps at GEO)
QUANTUM_REL_TOL = 1e-9  # relative slack when comparing los_quantum_rad with precision / range
M_PER_DEG_LAT_MIN = WGS84_A_M * (1.0 - WGS84_E2) * math.pi / 180.0  # meridian degree at the equator, m
_LOS_ITERATIONS = 6  # fixed-point steps before falling back to the height bound


def _on_grid(value: float, step: float) -> bool:
    k = value / step
    return abs(k - round(k)) <= GRID_TOL


def snap_ecef(r_m: list[float], precision_m: float) -> list[float]:
    """Position ``r_m`` (3,) snapped to the cubic grid of ``precision_m``."""
    return [round(x / precision_m) * precision_m for x in r_m]


def ecef_on_grid(r_m: list[float], precision_m: float) -> bool:
    return all(_on_grid(x, precision_m) for x in r_m)


def _snap_angle_pair(el: float, az: float, q: float, half_turn: float) -> tuple[float, float]:
    """Snap (elevation-like, azimuth-like) angles on the sphere grid; ``half_turn`` is 180 (deg) or π (rad)."""
    k = round(el / q)
    if abs(k * q) > half_turn / 2:
        k -= int(math.copysign(1, k))
    el_s = k * q
    step = lon_step(el_s, q, half_turn)
    az_s = round(az / step) * step
    if az_s > half_turn:
        az_s -= 2 * half_turn
    elif az_s < -half_turn:
        az_s += 2 * half_turn
    return el_s, az_s


def lon_step(el: float, q: float, half_turn: float) -> float:
    """Azimuth step at elevation (latitude) ``el`` for a grid of ``q``: 2·half_turn / n, n ≥ 1 cells."""
    cos_el = math.cos(math.radians(el) if half_turn == 180.0 else el)
    n = max(1, math.floor(2 * half_turn * max(cos_el, 0.0) / q))
    return 2 * half_turn / n


def lat_step_deg(precision_m: float) -> float:
    """Latitude grid step (deg) for ``precision_m``."""
    return precision_m / M_PER_DEG_LAT_MIN


def _lon_q_deg(precision_m: float) -> float:
    # q such that lon_step = 360 / floor(2π a cos(lat) / precision_m): 360 cos / (q) = 2π a cos / p
    return precision_m * 180.0 / (math.pi * WGS84_A_M)


def snap_latlon(lat_deg: float, lon_deg: float, precision_m: float) -> tuple[float, float]:
    """Geodetic point (deg) snapped to the grid of ``precision_m`` (module docstring)."""
    q_lat = lat_step_deg(precision_m)
    k = round(lat_deg / q_lat)
    if abs(k * q_lat) > 90.0:
        k -= int(math.copysign(1, k))
    lat_s = k * q_lat
    step = lon_step(lat_s, _lon_q_deg(precision_m), 180.0)
    lon_s = round(lon_deg / step) * step
    if lon_s > 180.0:
        lon_s -= 360.0
    elif lon_s < -180.0:
        lon_s += 360.0
    return lat_s, lon_s


def latlon_on_grid(lat_deg: float, lon_deg: float, precision_m: float) -> bool:
    if not _on_grid(lat_deg, lat_step_deg(precision_m)):
        return False
    return _on_grid(lon_deg, lon_step(lat_deg, _lon_q_deg(precision_m), 180.0))


def ellipsoid_hit(r_m: np.ndarray, u: np.ndarray) -> float | None:
    """Distance (m) along unit ``u`` from ``r_m`` (ECEF, outside the Earth) to the WGS84 ellipsoid, or None.

    Scales ECEF by (1/a, 1/a, 1/b) so that the ellipsoid is the unit sphere, then solves the quadratic
    for the nearer root; None when the line misses or the ellipsoid lies behind the sensor.
    """
    s = np.array([1.0 / WGS84_A_M, 1.0 / WGS84_A_M, 1.0 / WGS84_B_M])
    p, d = r_m * s, u * s
    aa, bb, cc = d @ d, 2.0 * (p @ d), p @ p - 1.0
    disc = bb * bb - 4.0 * aa * cc
    if disc < 0.0:
        return None
    t = (-bb - math.sqrt(disc)) / (2.0 * aa)
    return t if t > 0.0 else None


def height_m(r_m: np.ndarray) -> float:
    """Height (m) above the WGS84 ellipsoid of ECEF ``r_m`` (3,)."""
    return float(ecef_to_geodetic(r_m)[2])


def earth_range_m(r_m: np.ndarray, u: np.ndarray) -> float:
    """Range (m) used for the line-of-sight quantum: to the ellipsoid, or to closest approach on a miss."""
    hit = ellipsoid_hit(r_m, u)
    floor_m = height_m(r_m)
    if hit is not None:
        return max(hit, floor_m)
    along = float(r_m @ u)
    closest_m = -along if along < 0.0 else float(np.linalg.norm(r_m))  # pointing away: to the centre
    return max(closest_m, floor_m)


def _snap_unit(u: np.ndarray, q: float) -> np.ndarray:
    el, az = _snap_angle_pair(math.atan2(u[2], math.hypot(u[0], u[1])), math.atan2(u[1], u[0]), q, math.pi)
    return np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])


def coarsen_los(r_m: np.ndarray, u: np.ndarray, precision_m: float) -> tuple[np.ndarray, float]:
    """Line of sight ``u`` (3,) from the coarsened sensor position ``r_m`` rounded to precision_m / range.

    Returns the rounded unit vector and its quantum ``q`` (rad) with ``q >= precision_m / range(rounded)``.
    The range depends on the rounded direction, so iterate; if that does not settle, use the sensor
    height, a lower bound of every range.
    """
    q = precision_m / earth_range_m(r_m, u)
    for _ in range(_LOS_ITERATIONS):
        u_s = _snap_unit(u, q)
        needed = precision_m / earth_range_m(r_m, u_s)
        if q >= needed:
            return u_s, q
        q = needed * (1.0 + 1e3 * QUANTUM_REL_TOL)
    q = precision_m / height_m(r_m) * (1.0 + 1e3 * QUANTUM_REL_TOL)
    return _snap_unit(u, q), q


def los_violation(r_m: np.ndarray, u: np.ndarray, q: float, precision_m: float) -> str | None:
    """Why the line of sight ``u`` with quantum ``q`` is finer than ``precision_m``, or None when it is not."""
    needed = precision_m / earth_range_m(r_m, u)
    if q < needed * (1.0 - QUANTUM_REL_TOL):
        return f"los_quantum_rad {q:.3e} is finer than precision_m / range = {needed:.3e}"
    el = math.atan2(u[2], math.hypot(u[0], u[1]))
    if not _on_grid(el, q) or not _on_grid(math.atan2(u[1], u[0]), lon_step(el, q, math.pi)):
        return "los_ecef is not on the grid of its los_quantum_rad"
    return None


def _snap_area(area: dict[str, Any], p: float) -> dict[str, Any]:
    out = dict(area)
    if area.get("polygon") is not None:
        out["polygon"] = [list(snap_latlon(lat, lon, p)[::-1]) for lon, lat in area["polygon"]]
    else:
        out["lat_deg"], out["lon_deg"] = snap_latlon(area["lat_deg"], area["lon_deg"], p)
    return out


def coarsen_record(record_type: str, payload: dict[str, Any], precision_m: float) -> dict[str, Any]:
    """A copy of a *valid* record with every position snapped to the grids of ``precision_m``.

    Uncertainties grow by the variance of uniform rounding, step²/12: the track's position covariance
    diagonal by ``precision_m²/12`` and an observation's ``los_sigma_rad`` by ``q²/12`` in quadrature.
    Raises ValueError when an observation's sensor is not above the ellipsoid.
    """
    out = dict(payload)
    p = precision_m
    if record_type == "observation":
        r = np.asarray(snap_ecef(payload["sensor_pos_ecef_m"], p))
        if height_m(r) <= 0.0:
            raise ValueError("sensor_pos_ecef_m is not above the WGS84 ellipsoid")
        u, q = coarsen_los(r, np.asarray(payload["los_ecef"], dtype=float), p)
        out["sensor_pos_ecef_m"], out["los_ecef"], out["los_quantum_rad"] = r.tolist(), u.tolist(), float(q)
        if payload.get("los_sigma_rad") is not None:
            out["los_sigma_rad"] = math.sqrt(payload["los_sigma_rad"] ** 2 + q * q / 12.0)
    elif record_type == "track":
        out["pos_ecef_m"] = snap_ecef(payload["pos_ecef_m"], p)
        if payload.get("cov") is not None:
            out["cov"] = [list(row) for row in payload["cov"]]
            for i in range(3):
                out["cov"][i][i] += p * p / 12.0
    elif record_type == "warning":
        for key in ("launch", "impact"):
            if payload.get(f"{key}_lat_deg") is not None:
                lat_lon = snap_latlon(payload[f"{key}_lat_deg"], payload[f"{key}_lon_deg"], p)
                out[f"{key}_lat_deg"], out[f"{key}_lon_deg"] = lat_lon
    elif record_type == "notification":
        for key in ("launch_area", "impact_area"):
            if payload.get(key) is not None:
                out[key] = _snap_area(payload[key], p)
    return out


def _area_on_grid(area: dict[str, Any], p: float) -> bool:
    if area.get("polygon") is not None:
        return all(latlon_on_grid(lat, lon, p) for lon, lat in area["polygon"])
    return latlon_on_grid(area["lat_deg"], area["lon_deg"], p)


def precision_violation(record_type: str, payload: dict[str, Any], precision_m: float) -> str | None:
    """None when every position of a *valid* record is on the grids of ``precision_m``; else why not."""
    p = precision_m
    if record_type == "observation":
        r = np.asarray(payload["sensor_pos_ecef_m"], dtype=float)
        if not ecef_on_grid(payload["sensor_pos_ecef_m"], p):
            return f"sensor_pos_ecef_m is finer than the {p:g} m grid"
        if height_m(r) <= 0.0:
            return "sensor_pos_ecef_m is not above the WGS84 ellipsoid"
        if payload.get("los_quantum_rad") is None:
            return "los_quantum_rad is missing, so the line of sight may be finer than agreed"
        return los_violation(r, np.asarray(payload["los_ecef"], dtype=float), payload["los_quantum_rad"], p)
    if record_type == "track":
        return None if ecef_on_grid(payload["pos_ecef_m"], p) else f"pos_ecef_m is finer than the {p:g} m grid"
    if record_type == "warning":
        for key in ("launch", "impact"):
            lat = payload.get(f"{key}_lat_deg")
            if lat is not None and not latlon_on_grid(lat, payload[f"{key}_lon_deg"], p):
                return f"{key}_lat_deg/{key}_lon_deg are finer than the {p:g} m grid"
        return None
    for key in ("launch_area", "impact_area"):
        if payload.get(key) is not None and not _area_on_grid(payload[key], p):
            return f"{key} is finer than the {p:g} m grid"
    return None
