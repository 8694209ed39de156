"""Area geometry against analytic spherical truths (arc lengths, great-circle latitude, ellipse extents)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vigil.frames import WGS84_A_M
from vigil.warning.areas import circle_gap_km, ellipse_polygon_km, polygon_gap_km, sector_gap_deg

KM_PER_DEG = WGS84_A_M / 1000.0 * math.pi / 180.0  # arc length of 1° of a great circle on the model sphere
ONE_METRE_KM = 1e-3


def test_circle_gap_of_a_point_is_arc_length_minus_radius():
    assert circle_gap_km(0.0, 0.0, None, 0.0, 1.0, 100.0) == pytest.approx(
        KM_PER_DEG - 100.0, abs=ONE_METRE_KM
    )
    assert circle_gap_km(10.0, 20.0, None, 12.0, 20.0, 500.0) == 0.0


@pytest.mark.parametrize(("bearing_deg", "expected_km"), [(90.0, 0.0), (0.0, KM_PER_DEG - 100.0 - 5.0)])
def test_circle_gap_shrinks_by_the_ellipse_extent_toward_the_centre(bearing_deg, expected_km):
    # ellipse a=20 km, b=5 km; the circle centre lies due east: major axis east reaches 20 km, north only 5 km
    gap = circle_gap_km(0.0, 0.0, (bearing_deg, 20.0, 5.0), 0.0, 1.0, 100.0)
    assert gap == pytest.approx(max(expected_km, 0.0), abs=0.01)


def test_ellipse_polygon_has_its_semi_axes_along_the_bearing():
    pts = ellipse_polygon_km((30.0, 10.0, 4.0))
    major = np.array([math.sin(math.radians(30.0)), math.cos(math.radians(30.0))])
    assert np.max(pts @ major) == pytest.approx(10.0, rel=1e-9)
    assert np.max(pts @ np.array([major[1], -major[0]])) == pytest.approx(4.0, rel=1e-4)


def test_polygon_edges_are_great_circles():
    # The great circle through (lon -10, lat 60) and (lon 10, lat 60) crosses lon 0 at tan(lat) = tan 60 / cos 10
    arc_lat = math.degrees(math.atan(math.tan(math.radians(60.0)) / math.cos(math.radians(10.0))))
    poly = [[-10.0, 50.0], [10.0, 50.0], [10.0, 60.0], [-10.0, 60.0]]
    assert polygon_gap_km(arc_lat - 0.01, 0.0, None, poly) == 0.0  # north of lat 60, still inside
    assert polygon_gap_km(arc_lat + 0.01, 0.0, None, poly) == pytest.approx(0.01 * KM_PER_DEG, rel=1e-3)


def test_polygon_across_the_antimeridian_contains_both_sides():
    poly = [[175.0, -5.0], [-175.0, -5.0], [-175.0, 5.0], [175.0, 5.0]]
    assert polygon_gap_km(0.0, 179.9, None, poly) == 0.0
    assert polygon_gap_km(0.0, -179.9, None, poly) == 0.0
    assert polygon_gap_km(0.0, 170.0, None, poly) == pytest.approx(5.0 * KM_PER_DEG, rel=1e-3)
    assert polygon_gap_km(0.0, 0.0, None, poly) > 10000.0  # the far side of the Earth: a positive bound


def test_polygon_gap_with_ellipse_reaching_the_edge():
    poly = [[1.0, -1.0], [2.0, -1.0], [2.0, 1.0], [1.0, 1.0]]
    assert polygon_gap_km(0.0, 0.0, (90.0, KM_PER_DEG + 1.0, 1.0), poly) == 0.0
    assert polygon_gap_km(0.0, 0.0, (90.0, KM_PER_DEG - 1.0, 1.0), poly) == pytest.approx(1.0, abs=0.01)
    # gnomonic plane scale error 1/cos²(1°) - 1 = 3e-4 away from the estimate (documented in areas.py)
    assert polygon_gap_km(0.0, 0.0, (0.0, KM_PER_DEG + 1.0, 1.0), poly) == pytest.approx(
        KM_PER_DEG - 1.0, rel=5e-4
    )


@pytest.mark.parametrize(
    ("azimuth", "expected"),
    [(355.0, 0.0), (0.0, 0.0), (10.0, 0.0), (12.5, 2.5), (340.0, 10.0), (180.0, 170.0)],
)
def test_sector_gap_wraps_through_north(azimuth, expected):
    assert sector_gap_deg(azimuth, 350.0, 10.0) == pytest.approx(expected)
