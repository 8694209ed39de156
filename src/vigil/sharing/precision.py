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
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..frames import WGS84_A_M, WGS84_B_M, WGS84_E2, ecef_to_geodetic

VELOCITY_CELL_S = (
    60.0  # a released velocity is on a grid of precision_m / 60 s: it moves a position cell a minute
)
SNR_STEP_DB = 1.0  # released SNR in whole decibels: with ±0.5 dB the range it implies is uncertain by ±6 %
WITHHELD_OBSERVATION_FIELDS = ("intensity_w_sr",)  # the sender's intensity estimate with the SNR gives range
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


_SEAM_TOL_DEG = 1e-9  # longitudes this close to ±180 are the same meridian


def snap_latlon(lat_deg: float, lon_deg: float, precision_m: float) -> tuple[float, float]:
    """Geodetic point (deg) snapped to the grid of ``precision_m`` (module docstring)."""
    q_lat = lat_step_deg(precision_m)
    k = round(lat_deg / q_lat)
    if abs(k * q_lat) > 90.0:
        k -= int(math.copysign(1, k))
    lat_s = k * q_lat
    step = lon_step(lat_s, _lon_q_deg(precision_m), 180.0)
    lon_s = round(lon_deg / step) * step
    # One representative for the meridian ±180: rounding can land a hair either side of it, and a value just
    # below +180 would snap again to just above it and wrap; the grid point there is always written -180.
    if lon_s >= 180.0 - _SEAM_TOL_DEG:
        lon_s -= 360.0
    elif lon_s < -180.0 - _SEAM_TOL_DEG:
        lon_s += 360.0
    return lat_s, lon_s


def latlon_on_grid(lat_deg: float, lon_deg: float, precision_m: float) -> bool:
    if not _on_grid(lat_deg, lat_step_deg(precision_m)):
        return False
    return _on_grid(lon_deg, lon_step(lat_deg, _lon_q_deg(precision_m), 180.0))


def ellipsoid_hit(r_m: Sequence[float] | np.ndarray, u: Sequence[float] | np.ndarray) -> float | None:
    """Distance (m) along unit ``u`` from ``r_m`` (ECEF, outside the Earth) to the WGS84 ellipsoid, or None.

    Scales ECEF by (1/a, 1/a, 1/b) so that the ellipsoid is the unit sphere, then solves the quadratic
    for the nearer root; None when the line misses or the ellipsoid lies behind the sensor.
    (Plain floats: on one 3-vector, ``math`` is ~10x faster than numpy.)
    """
    px, py, pz = r_m[0] / WGS84_A_M, r_m[1] / WGS84_A_M, r_m[2] / WGS84_B_M
    dx, dy, dz = u[0] / WGS84_A_M, u[1] / WGS84_A_M, u[2] / WGS84_B_M
    aa = dx * dx + dy * dy + dz * dz
    bb = 2.0 * (px * dx + py * dy + pz * dz)
    cc = px * px + py * py + pz * pz - 1.0
    disc = bb * bb - 4.0 * aa * cc
    if disc < 0.0:
        return None
    t = (-bb - math.sqrt(disc)) / (2.0 * aa)
    return float(t) if t > 0.0 else None


def height_m(r_m: Sequence[float]) -> float:
    """Height (m) above the WGS84 ellipsoid of ECEF ``r_m`` (3,)."""
    return float(ecef_to_geodetic(np.asarray(r_m, dtype=float))[2])


def heights_m(r_m: np.ndarray) -> np.ndarray:
    """Heights (m) above the WGS84 ellipsoid of ECEF positions ``(N, 3)``: one vectorised call per batch."""
    return np.asarray(ecef_to_geodetic(np.asarray(r_m, dtype=float).reshape(-1, 3))[2], dtype=float)


def earth_range_m(r_m: Sequence[float], u: Sequence[float], floor_m: float | None = None) -> float:
    """Range (m) used for the line-of-sight quantum: to the ellipsoid, or to closest approach on a miss;
    never below ``floor_m``, the height of ``r_m`` (computed when not given)."""
    hit = ellipsoid_hit(r_m, u)
    if floor_m is None:
        floor_m = height_m(r_m)
    if hit is not None:
        return max(hit, floor_m)
    along = r_m[0] * u[0] + r_m[1] * u[1] + r_m[2] * u[2]
    closest_m = -along if along < 0.0 else math.hypot(r_m[0], r_m[1], r_m[2])  # pointing away: to the centre
    return float(max(closest_m, floor_m))


def _snap_unit(u: Sequence[float], q: float) -> list[float]:
    el, az = _snap_angle_pair(math.atan2(u[2], math.hypot(u[0], u[1])), math.atan2(u[1], u[0]), q, math.pi)
    return [math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)]


def coarsen_los(
    r_m: Sequence[float], u: Sequence[float], precision_m: float, floor_m: float | None = None
) -> tuple[np.ndarray, float]:
    """Line of sight ``u`` (3,) from the coarsened sensor position ``r_m`` rounded to precision_m / range.

    Returns the rounded unit vector and its quantum ``q`` (rad) with ``q >= precision_m / range(rounded)``.
    The range depends on the rounded direction, so iterate; if that does not settle, use the sensor
    height (``floor_m``, computed when not given), a lower bound of every range.
    """
    floor_m = height_m(r_m) if floor_m is None else floor_m
    q = precision_m / earth_range_m(r_m, u, floor_m)
    for _ in range(_LOS_ITERATIONS):
        u_s = _snap_unit(u, q)
        needed = precision_m / earth_range_m(r_m, u_s, floor_m)
        if q >= needed:
            return np.array(u_s), q
        q = needed * (1.0 + 1e3 * QUANTUM_REL_TOL)
    q = precision_m / floor_m * (1.0 + 1e3 * QUANTUM_REL_TOL)
    return np.array(_snap_unit(u, q)), q


def los_violation(
    r_m: Sequence[float], u: Sequence[float], q: float, precision_m: float, floor_m: float | None = None
) -> str | None:
    """Why the line of sight ``u`` with quantum ``q`` is finer than ``precision_m``, or None when it is not."""
    needed = precision_m / earth_range_m(r_m, u, floor_m)
    if q < needed * (1.0 - QUANTUM_REL_TOL):
        return f"los_quantum_rad {q:.3e} is finer than precision_m / range = {needed:.3e}"
    el = math.atan2(u[2], math.hypot(u[0], u[1]))
    if not _on_grid(el, q) or not _on_grid(math.atan2(u[1], u[0]), lon_step(el, q, math.pi)):
        return "los_ecef is not on the grid of its los_quantum_rad"
    return None


def _snap_area(area: dict[str, Any], p: float) -> dict[str, Any]:
    """A circle's centre snapped (radius grown by the cell diagonal, so it still holds the area), or a
    polygon's vertices snapped; a polygon the grid collapses becomes the circle that holds it."""
    from ..warning.areas import polygon_centre_and_radius_deg, spherical_polygon_problem

    out = dict(area)
    if area.get("polygon") is None:
        out["lat_deg"], out["lon_deg"] = snap_latlon(area["lat_deg"], area["lon_deg"], p)
        out["radius_km"] = area["radius_km"] + cell_diagonal_km(out["lat_deg"], p)
        return out
    out["polygon"] = [list(snap_latlon(lat, lon, p)[::-1]) for lon, lat in area["polygon"]]
    if spherical_polygon_problem(out["polygon"]) is None:
        return out
    lat, lon, radius_deg = polygon_centre_and_radius_deg(area["polygon"])
    lat_s, lon_s = snap_latlon(lat, lon, p)
    radius_km = math.radians(radius_deg) * WGS84_A_M / 1000.0 + cell_diagonal_km(lat_s, p)
    return {"lat_deg": lat_s, "lon_deg": lon_s, "radius_km": radius_km}


def coarsen_records(
    record_type: str,
    payloads: Sequence[dict[str, Any]],
    precision_m: float,
    offsets: Sequence[Sequence[float]] | None = None,
) -> list[dict[str, Any] | str]:
    """Copies of a batch of *valid* records with every position snapped to the grids of ``precision_m``: each
    coarsened copy, or the reason (str) it cannot be (an observation's sensor not above the ellipsoid). Sensor
    heights are computed in one vectorised call for the whole batch. Uncertainties grow by the variance of
    uniform rounding, step²/12: the track's position covariance diagonal by ``precision_m²/12`` and an
    observation's ``los_sigma_rad`` by ``q²/12`` in quadrature.

    ``offsets`` (one triple per record, each in [-0.5, 0.5) cells) shift a track's position or a warning's
    points before snapping. A releaser draws them once per track or event and keeps them secret, so that
    many releases of one moving object (whose roundings differ) average to the offset point, not to the
    truth: without them, N releases pin a track down to ~precision_m / N (docs/sharing.md). A track's launch
    point is coarsened as a warning's (shifted, snapped, its ellipse grown by the cell diagonal)."""
    if record_type != "observation":
        zero = (0.0, 0.0, 0.0)
        return [
            _coarsen_other(record_type, payload, precision_m, zero if offsets is None else offsets[i])
            for i, payload in enumerate(payloads)
        ]
    if not payloads:
        return []
    p = precision_m
    snapped = np.round(np.array([pl["sensor_pos_ecef_m"] for pl in payloads], dtype=float) / p) * p
    out: list[dict[str, Any] | str] = []
    for payload, r, h in zip(payloads, snapped.tolist(), heights_m(snapped).tolist(), strict=True):
        if not h > 0.0:
            out.append("sensor_pos_ecef_m is not above the WGS84 ellipsoid")
            continue
        u, q = coarsen_los(r, payload["los_ecef"], p, h)
        rec = {k: v for k, v in payload.items() if k not in WITHHELD_OBSERVATION_FIELDS}
        rec["sensor_pos_ecef_m"], rec["los_ecef"], rec["los_quantum_rad"] = r, u.tolist(), float(q)
        if payload.get("los_sigma_rad") is not None:
            rec["los_sigma_rad"] = math.sqrt(payload["los_sigma_rad"] ** 2 + q * q / 12.0)
        if payload.get("snr") is not None:
            rec["snr"] = snap_snr(payload["snr"])
        out.append(rec)
    return out


def snap_snr(snr: float) -> float:
    """SNR rounded to whole :data:`SNR_STEP_DB` decibels (0 stays 0)."""
    if snr <= 0.0:
        return 0.0
    return 10.0 ** (round(10.0 * math.log10(snr) / SNR_STEP_DB) * SNR_STEP_DB / 10.0)


def snr_on_grid(snr: float) -> bool:
    return snr == 0.0 or _on_grid(10.0 * math.log10(snr), SNR_STEP_DB)


def velocity_step_m_s(precision_m: float) -> float:
    return precision_m / VELOCITY_CELL_S


def cell_diagonal_km(lat_deg: float, precision_m: float) -> float:
    """Largest distance (km) a released point can lie from the truth at ``lat_deg``: one cell per axis
    (half a cell of secret offset plus half a cell of rounding), so the cell's diagonal."""
    lat_step_m = lat_step_deg(precision_m) * math.pi / 180.0 * WGS84_A_M
    lon_m = lon_step(lat_deg, _lon_q_deg(precision_m), 180.0) * math.pi / 180.0 * WGS84_A_M
    return math.hypot(lat_step_m, lon_m * math.cos(math.radians(lat_deg))) / 1000.0


def _coarsen_track(payload: dict[str, Any], p: float, offset: Sequence[float]) -> dict[str, Any]:
    out = dict(payload)
    out["pos_ecef_m"] = snap_ecef([x + f * p for x, f in zip(payload["pos_ecef_m"], offset, strict=True)], p)
    qv = velocity_step_m_s(p)
    if payload.get("vel_ecef_m_s") is not None:
        out["vel_ecef_m_s"] = snap_ecef(payload["vel_ecef_m_s"], qv)
    if payload.get("cov") is not None:
        out["cov"] = [list(row) for row in payload["cov"]]
        for i in range(3):  # offset and rounding, each uniform over a cell: 2 × p²/12
            out["cov"][i][i] += p * p / 6.0
            out["cov"][i + 3][i + 3] += qv * qv / 12.0
    if payload.get("launch_lat_deg") is not None:  # the track's launch estimate: as a warning's launch point
        _coarsen_point(payload, out, "launch", p, offset)
    return out


def _coarsen_point(
    payload: dict[str, Any], out: dict[str, Any], key: str, p: float, offset: Sequence[float]
) -> None:
    """``<key>_lat_deg/_lon_deg`` shifted by the offset, snapped, and ``<key>_ellipse`` grown by the cell
    diagonal (written into ``out``)."""
    lat = payload[f"{key}_lat_deg"] + offset[0] * lat_step_deg(p)
    lat = max(-90.0, min(90.0, lat))
    lon = payload[f"{key}_lon_deg"] + offset[1] * lon_step(lat, _lon_q_deg(p), 180.0)
    lat_s, lon_s = snap_latlon(lat, (lon + 180.0) % 360.0 - 180.0, p)
    out[f"{key}_lat_deg"], out[f"{key}_lon_deg"] = lat_s, lon_s
    grow_km = cell_diagonal_km(lat_s, p)  # ellipse ⊕ disk(d) ⊂ ellipse with both semi-axes + d
    bearing, a_km, b_km = payload.get(f"{key}_ellipse") or (0.0, 0.0, 0.0)
    out[f"{key}_ellipse"] = [bearing, a_km + grow_km, b_km + grow_km]


def _coarsen_warning(payload: dict[str, Any], p: float, offset: Sequence[float]) -> dict[str, Any]:
    out = dict(payload)
    for key in ("launch", "impact"):
        if payload.get(f"{key}_lat_deg") is not None:
            _coarsen_point(payload, out, key, p, offset)
    return out


def _coarsen_other(
    record_type: str, payload: dict[str, Any], p: float, offset: Sequence[float]
) -> dict[str, Any]:
    out = dict(payload)
    if record_type == "track":
        out = _coarsen_track(payload, p, offset)
    elif record_type == "warning":
        out = _coarsen_warning(payload, p, offset)
    elif record_type == "notification":
        for key in ("launch_area", "impact_area"):
            if payload.get(key) is not None:
                out[key] = _snap_area(payload[key], p)
    return out


def _area_on_grid(area: dict[str, Any], p: float) -> bool:
    if area.get("polygon") is not None:
        return all(latlon_on_grid(lat, lon, p) for lon, lat in area["polygon"])
    return latlon_on_grid(area["lat_deg"], area["lon_deg"], p)


def precision_violations(
    record_type: str, payloads: Sequence[dict[str, Any]], precision_m: float
) -> list[str | None]:
    """Per *valid* record: None when every position is on the grids of ``precision_m``, else why not (sensor
    heights in one vectorised call for the batch)."""
    p = precision_m
    if record_type != "observation":
        return [_other_violation(record_type, payload, p) for payload in payloads]
    out: list[str | None] = [None] * len(payloads)
    on_grid = []
    for i, payload in enumerate(payloads):
        if not ecef_on_grid(payload["sensor_pos_ecef_m"], p):
            out[i] = f"sensor_pos_ecef_m is finer than the {p:g} m grid"
        elif any(payload.get(k) is not None for k in WITHHELD_OBSERVATION_FIELDS):
            out[i] = "intensity_w_sr is released, and with the SNR it reveals the range"
        elif payload.get("snr") is not None and not snr_on_grid(payload["snr"]):
            out[i] = f"snr is finer than whole {SNR_STEP_DB:g} dB steps"
        elif payload.get("los_quantum_rad") is None:
            out[i] = "los_quantum_rad is missing, so the line of sight may be finer than agreed"
        else:
            on_grid.append(i)
    if on_grid:
        heights = heights_m(
            np.array([payloads[i]["sensor_pos_ecef_m"] for i in on_grid], dtype=float)
        ).tolist()
        for i, h in zip(on_grid, heights, strict=True):
            r, payload = payloads[i]["sensor_pos_ecef_m"], payloads[i]
            out[i] = (
                "sensor_pos_ecef_m is not above the WGS84 ellipsoid"
                if not h > 0.0
                else los_violation(r, payload["los_ecef"], payload["los_quantum_rad"], p, h)
            )
    return out


def _other_violation(record_type: str, payload: dict[str, Any], p: float) -> str | None:
    if record_type == "track":
        if not ecef_on_grid(payload["pos_ecef_m"], p):
            return f"pos_ecef_m is finer than the {p:g} m grid"
        vel = payload.get("vel_ecef_m_s")
        if vel is not None and not ecef_on_grid(vel, velocity_step_m_s(p)):
            return f"vel_ecef_m_s is finer than the {velocity_step_m_s(p):g} m/s grid"
    if record_type in ("track", "warning"):
        for key in ("launch", "impact"):
            lat = payload.get(f"{key}_lat_deg")
            if lat is not None and not latlon_on_grid(lat, payload[f"{key}_lon_deg"], p):
                return f"{key}_lat_deg/{key}_lon_deg are finer than the {p:g} m grid"
        return None
    for key in ("launch_area", "impact_area"):
        if payload.get(key) is not None and not _area_on_grid(payload[key], p):
            return f"{key} is finer than the {p:g} m grid"
    return None
