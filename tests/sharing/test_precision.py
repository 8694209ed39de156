"""Coarsening grids: cells are never smaller than precision_m, snapping is idempotent, checks are exact."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vigil.frames import WGS84_A_M, WGS84_B_M
from vigil.sharing.precision import (
    coarsen_los,
    earth_range_m,
    ecef_on_grid,
    ellipsoid_hit,
    lat_step_deg,
    latlon_on_grid,
    lon_step,
    los_violation,
    snap_ecef,
    snap_latlon,
)

from .policykit import GEO_ALT_M, bisect_earth_hit, ecef

one_mm = 1e-3
lats = st.floats(-90, 90)
lons = st.floats(-180, 180)
precisions = st.floats(1.0, 200_000.0)


@given(st.lists(st.floats(-5e7, 5e7), min_size=3, max_size=3), precisions)
def test_ecef_snap_moves_at_most_half_a_cell_and_lands_on_the_grid(r, p):
    s = snap_ecef(r, p)
    assert ecef_on_grid(s, p)
    assert np.all(np.abs(np.subtract(s, r)) <= p / 2 + 1e-6)
    assert snap_ecef(s, p) == s


@given(lats, lons, precisions)
@example(lat=15.0, lon=180.0, p=113940.0)  # once snapped to +180 - ε, then to -180 + ε on the second pass
@settings(max_examples=300)
def test_latlon_cells_are_at_least_precision_wide_on_the_ellipsoid(lat, lon, p):
    lat_s, lon_s = snap_latlon(lat, lon, p)
    assert latlon_on_grid(lat_s, lon_s, p)
    again = snap_latlon(lat_s, lon_s, p)
    assert abs(again[0] - lat_s) < 1e-9 and abs(again[1] - lon_s) < 1e-9
    assert abs(lat_s - lat) <= lat_step_deg(p) / 2 * (1 + 1e-9) or abs(lat_s) > 90 - lat_step_deg(p)
    # neighbours on the grid, measured as chords between WGS84 surface points (independent of the grid maths)
    q_lat = lat_step_deg(p)
    if abs(lat_s) + q_lat <= 90:
        north = lat_s + q_lat if lat_s + q_lat <= 90 else lat_s - q_lat
        chord = np.linalg.norm(ecef(north, lon_s) - ecef(lat_s, lon_s))
        assert chord >= p * (1 - 1e-4)  # chord vs arc: (p/R)²/24 < 1e-5 relative up to 200 km
    step = lon_step(lat_s, p * 180 / (math.pi * WGS84_A_M), 180.0)
    if step < 360:
        parallel_radius_m = math.hypot(*ecef(lat_s, lon_s)[:2])
        assert parallel_radius_m * math.radians(step) >= p * (1 - 1e-9)  # arc along the parallel
        assert abs(360 / step - round(360 / step)) < 1e-6  # whole cells around the parallel: no seam at ±180


def test_latlon_grid_rejects_a_point_a_micro_degree_off():
    lat_s, lon_s = snap_latlon(51.5, -0.12, 1000.0)
    assert latlon_on_grid(lat_s, lon_s, 1000.0)
    assert not latlon_on_grid(lat_s + 1e-6, lon_s, 1000.0)
    assert not latlon_on_grid(lat_s, lon_s + 1e-6, 1000.0)
    assert not latlon_on_grid(lat_s, lon_s, 500.0 * 1.37)  # a grid of another size


def test_ellipsoid_hit_is_the_height_at_nadir_on_both_axes():
    h = 500e3
    assert abs(ellipsoid_hit(np.array([WGS84_A_M + h, 0, 0]), np.array([-1.0, 0, 0])) - h) < one_mm
    assert abs(ellipsoid_hit(np.array([0, 0, WGS84_B_M + h]), np.array([0, 0, -1.0])) - h) < one_mm
    assert ellipsoid_hit(np.array([WGS84_A_M + h, 0, 0]), np.array([1.0, 0, 0])) is None  # looking away
    assert ellipsoid_hit(np.array([WGS84_A_M + h, 0, 0]), np.array([0, 1.0, 0])) is None  # above the limb


@given(st.floats(-60, 60), st.floats(-180, 180), st.floats(-8, 8), st.floats(-8, 8))
@settings(max_examples=25, deadline=None)
def test_ellipsoid_hit_matches_bisection_on_geodetic_height(lat, lon, dlat, dlon):
    r = ecef(lat, lon, GEO_ALT_M)
    u = ecef(lat + dlat, lon + dlon) - r
    u /= np.linalg.norm(u)
    truth = bisect_earth_hit(r, u)
    t = ellipsoid_hit(r, u)
    assert truth is not None and t is not None
    assert np.linalg.norm(r + t * u - truth) < 0.01  # 1 cm


@given(st.floats(-60, 60), st.floats(-180, 180), st.floats(-8, 8), st.floats(-8, 8), precisions)
@settings(max_examples=200)
def test_coarsened_los_passes_its_own_check_and_the_raw_one_does_not(lat, lon, dlat, dlon, p):
    r = np.array(snap_ecef(ecef(lat, lon, GEO_ALT_M).tolist(), p))
    u = ecef(lat + dlat, lon + dlon) - r
    u /= np.linalg.norm(u)
    u_s, q = coarsen_los(r, u, p)
    assert los_violation(r, u_s, q, p) is None
    assert q * earth_range_m(r, u_s) >= p * (1 - 1e-9)
    assert abs(np.linalg.norm(u_s) - 1) < 1e-12
    # the rounding moves the direction by less than one cell
    assert math.atan2(np.linalg.norm(np.cross(u, u_s)), u @ u_s) <= q
    nudged = u_s + np.array([0.0, 0.0, 1e-3 * q])  # a thousandth of a cell
    nudged /= np.linalg.norm(nudged)
    assert los_violation(r, nudged, q, p) is not None


def test_los_quantum_finer_than_agreed_is_named():
    r = np.array(snap_ecef(ecef(0, 0, GEO_ALT_M).tolist(), 1000.0))
    u_s, q = coarsen_los(r, -r / np.linalg.norm(r), 1000.0)
    assert "finer than precision_m / range" in los_violation(r, u_s, q / 2, 1000.0)
    assert abs(q * GEO_ALT_M - 1000.0) < 1.0  # at nadir the range is the altitude
