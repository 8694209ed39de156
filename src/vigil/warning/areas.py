"""Geometry of notified areas against estimated points with error ellipses (numeric kernels, km / deg).

Everything here answers one question: how far (km) is an *estimate region* (a point, or a point with
its error ellipse at its stated containment) from a notified *area* (a circle or a polygon)? The answer
is a **gap**: 0 when the two regions intersect, else the shortest distance between them. The matcher
accepts an area when ``gap_km <= tolerance_km``.

Model (a sphere of radius :data:`vigil.frames.WGS84_A_M`, as :func:`vigil.frames.great_circle_distance_m`):

* a **circle** ``(lat, lon, radius_km)`` is a spherical cap; the point test is the exact great-circle
  distance. With an ellipse, the circle centre is placed in the azimuthal-equidistant plane of the
  estimate (exact distance and bearing from the estimate), so ``gap = dist(centre, ellipse) - radius``.
* a **polygon** ``[[lon, lat], ...]`` has great-circle edges (the shorter arc between consecutive
  vertices, so a polygon may cross the antimeridian). Its vertices are placed in the *gnomonic* plane
  centred on the estimate, where great circles are straight lines (Snyder, "Map Projections — A Working
  Manual", USGS PP 1395, 1987, §22), so the even-odd point-in-polygon test there is exact on the sphere.
  Ellipse vertices are placed at their exact gnomonic radius ``R·tan(r/R)``, so *whether* an ellipse
  meets a polygon is exact; the gap of a point is exact (inverted through ``atan``); the gap of an
  ellipse is measured in the gnomonic plane, whose scale grows as 1/cos²(δ/R) with the distance δ from
  the estimate (< 0.1 % under 200 km).
* an **ellipse** ``(bearing_deg, a_km, b_km)`` (semi-axes, major axis bearing from north) is drawn in the
  local east/north plane as a polygon of :data:`ELLIPSE_VERTICES` vertices (inscribed, so it is smaller
  than the true ellipse by at most ``a·(1 − cos(π/N))`` = 4e-5·a).
"""

from __future__ import annotations

import math

import numpy as np

from ..frames import WGS84_A_M, enu_basis, great_circle_distance_m, initial_azimuth_rad, up_vector

EARTH_RADIUS_KM = WGS84_A_M / 1000.0  # the sphere of frames.great_circle_distance_m
ELLIPSE_VERTICES = 360  # polygon approximation of an error ellipse (inscribed; 4e-5 relative error)
MAX_POLYGON_RADIUS_DEG = 40.0  # notified polygons must fit a 40° cap (~4450 km) so gnomonic planes hold them
_MAX_ELLIPSE_ARC_RAD = 1.4  # ~80°: an ellipse larger than this is clipped (it announces nothing anyway)
_MIN_GNOMONIC_COS = 0.05  # vertices beyond ~87° from the estimate cannot be projected; use a bound instead


def unit_vectors(lat_deg, lon_deg) -> np.ndarray:
    """Unit vectors ``(..., 3)`` of spherical latitude/longitude (deg)."""
    return up_vector(np.radians(lat_deg), np.radians(lon_deg))


def polygon_centre_and_radius_deg(polygon_lonlat) -> tuple[float, float, float]:
    """(lat_deg, lon_deg, radius_deg) of the vertex-mean direction and the largest vertex angle from it."""
    poly = np.asarray(polygon_lonlat, dtype=float)
    v = unit_vectors(poly[:, 1], poly[:, 0])
    c = v.mean(axis=0)
    c = c / np.linalg.norm(c)
    radius = np.degrees(np.arccos(np.clip(v @ c, -1.0, 1.0))).max()
    lat = float(np.degrees(np.arcsin(np.clip(c[2], -1.0, 1.0))))
    return lat, float(np.degrees(np.arctan2(c[1], c[0]))), float(radius)


def ellipse_polygon_km(ellipse, n: int = ELLIPSE_VERTICES) -> np.ndarray:
    """Vertices ``(n, 2)`` east/north (km) of the ellipse ``(bearing_deg, a_km, b_km)`` centred at 0."""
    bearing, a_km, b_km = (float(x) for x in ellipse)
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    major, minor = a_km * np.cos(t), b_km * np.sin(t)
    beta = np.radians(bearing)
    # major axis along bearing (east = sin, north = cos); minor axis 90° clockwise from it
    east = major * np.sin(beta) + minor * np.cos(beta)
    north = major * np.cos(beta) - minor * np.sin(beta)
    return np.stack([east, north], axis=-1)


def point_in_polygon(points, polygon) -> np.ndarray:
    """Even-odd test of points ``(m, 2)`` against a closed polygon ``(n, 2)``; boolean ``(m,)``."""
    p = np.atleast_2d(np.asarray(points, dtype=float))[:, None, :]
    a = np.asarray(polygon, dtype=float)
    b = np.roll(a, -1, axis=0)
    crosses = (a[:, 1] > p[..., 1]) != (b[:, 1] > p[..., 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = a[:, 0] + (p[..., 1] - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return (np.count_nonzero(crosses & (p[..., 0] < x_at), axis=-1) % 2) == 1


def points_to_edges_km(points, polygon) -> float:
    """Shortest distance from any of ``points`` ``(m, 2)`` to any edge of closed ``polygon`` ``(n, 2)``."""
    p = np.atleast_2d(np.asarray(points, dtype=float))[:, None, :]
    a = np.asarray(polygon, dtype=float)
    d = np.roll(a, -1, axis=0) - a
    length2 = np.maximum(np.einsum("ij,ij->i", d, d), 1e-300)
    s = np.clip(np.einsum("mnj,nj->mn", p - a, d) / length2, 0.0, 1.0)
    nearest = a + s[..., None] * d
    return float(np.linalg.norm(p - nearest, axis=-1).min())


def _edges_cross(pa, pb) -> bool:
    """True when any edge of closed polygon ``pa`` properly crosses any edge of closed polygon ``pb``."""
    a0, a1 = pa[:, None, :], np.roll(pa, -1, axis=0)[:, None, :]
    b0, b1 = pb[None, :, :], np.roll(pb, -1, axis=0)[None, :, :]

    def orient(p, q, r):
        u, v = q - p, r - p
        return np.sign(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0])

    a_splits_b = orient(a0, a1, b0) * orient(a0, a1, b1) < 0
    b_splits_a = orient(b0, b1, a0) * orient(b0, b1, a1) < 0
    return bool(np.any(a_splits_b & b_splits_a))


def region_gap_km(region, polygon) -> float:
    """Gap (km) between a point ``(1, 2)`` or polygon ``(m, 2)`` and polygon ``(n, 2)``; 0 when they meet."""
    region = np.atleast_2d(region)
    if point_in_polygon(region, polygon).any():
        return 0.0
    if len(region) >= 3 and (point_in_polygon(polygon, region).any() or _edges_cross(region, polygon)):
        return 0.0
    gap = points_to_edges_km(region, polygon)
    if len(region) >= 3:
        gap = min(gap, points_to_edges_km(polygon, region))
    return gap


def _estimate_region(ellipse) -> np.ndarray:
    if ellipse is None or float(ellipse[1]) <= 0.0:
        return np.zeros((1, 2))
    return ellipse_polygon_km(ellipse)


def circle_gap_km(lat_deg, lon_deg, ellipse, centre_lat_deg, centre_lon_deg, radius_km) -> float:
    """Gap (km) between the estimate (point + optional ellipse) and the cap of ``radius_km`` at the centre."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    lc, oc = np.radians(centre_lat_deg), np.radians(centre_lon_deg)
    d_km = float(great_circle_distance_m(la, lo, lc, oc)) / 1000.0
    region = _estimate_region(ellipse)
    if len(region) == 1 or d_km == 0.0:
        return max(0.0, d_km - radius_km)
    beta = float(initial_azimuth_rad(la, lo, lc, oc))
    centre = np.array([[d_km * np.sin(beta), d_km * np.cos(beta)]])
    if point_in_polygon(centre, region)[0]:
        return 0.0
    return max(0.0, points_to_edges_km(centre, region) - radius_km)


def gnomonic_km(lat0_deg, lon0_deg, lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray]:
    """Gnomonic east/north (km) ``(n, 2)`` about (lat0, lon0), and cos of each point's angle from it."""
    east, north, up = enu_basis(np.radians(lat0_deg), np.radians(lon0_deg))
    v = unit_vectors(lat_deg, lon_deg)
    cos = v @ up
    safe = np.where(cos > _MIN_GNOMONIC_COS, cos, 1.0)
    return EARTH_RADIUS_KM * np.stack([v @ east / safe, v @ north / safe], axis=-1), cos


def polygon_gap_km(lat_deg, lon_deg, ellipse, polygon_lonlat) -> float:
    """Gap (km) between the estimate (point + optional ellipse) and a polygon ``[[lon, lat], ...]`` (deg)."""
    poly = np.asarray(polygon_lonlat, dtype=float)
    plane, cos = gnomonic_km(lat_deg, lon_deg, poly[:, 1], poly[:, 0])
    if np.any(cos <= _MIN_GNOMONIC_COS):
        # far away: a lower bound on the distance, from the polygon's enclosing cap
        c_lat, c_lon, r_deg = polygon_centre_and_radius_deg(poly)
        extent_km = 0.0 if ellipse is None else float(ellipse[1])
        d_km = circle_gap_km(lat_deg, lon_deg, None, c_lat, c_lon, np.radians(r_deg) * EARTH_RADIUS_KM)
        return max(d_km - extent_km, 1e-3)
    region = _estimate_region(ellipse)
    if len(region) == 1:
        # the gnomonic radius of the centre's nearest point is R·tan(δ/R), monotonic in δ: invert it exactly
        return EARTH_RADIUS_KM * math.atan(region_gap_km(region, plane) / EARTH_RADIUS_KM)
    # ellipse vertices at arc distance r along their bearing sit at gnomonic radius R·tan(r/R)
    r = np.linalg.norm(region, axis=-1, keepdims=True)
    stretch = (
        EARTH_RADIUS_KM * np.tan(np.minimum(r / EARTH_RADIUS_KM, _MAX_ELLIPSE_ARC_RAD)) / np.maximum(r, 1e-12)
    )
    return region_gap_km(region * stretch, plane)


def sector_gap_deg(azimuth_deg, from_deg, to_deg) -> float:
    """Angular gap (deg) of ``azimuth_deg`` outside the clockwise sector ``from_deg → to_deg`` (0 inside)."""
    width = (to_deg - from_deg) % 360.0
    if (azimuth_deg - from_deg) % 360.0 <= width:
        return 0.0
    return float(min((azimuth_deg - to_deg) % 360.0, (from_deg - azimuth_deg) % 360.0))


def angular_difference_deg(a_deg, b_deg) -> float:
    """Smallest absolute difference (deg, in [0, 180]) between two bearings."""
    return float(abs((a_deg - b_deg + 180.0) % 360.0 - 180.0))


def spherical_polygon_problem(polygon_lonlat) -> str | None:
    """Why a polygon ``[[lon, lat], ...]`` (deg, great-circle edges, ring open or closed) is unusable, or None.

    The ring is placed in the gnomonic plane about its vertex-mean direction, where great-circle edges are
    straight lines, so shapely's planar validity (no self-intersection, non-zero area) is the validity on the
    sphere; this holds across the antimeridian and around a pole, as long as the ring fits a
    :data:`MAX_POLYGON_RADIUS_DEG` cap.
    """
    import shapely
    from shapely.geometry import Polygon

    poly = np.asarray(polygon_lonlat, dtype=float)
    if len(poly) > 1 and np.array_equal(poly[0], poly[-1]):
        poly = poly[:-1]
    lat0, lon0, radius = polygon_centre_and_radius_deg(poly)
    if radius > MAX_POLYGON_RADIUS_DEG:
        return f"polygon reaches {radius:.1f}° from its centre (limit {MAX_POLYGON_RADIUS_DEG:g}°)"
    if len({(float(lon), float(lat)) for lon, lat in poly}) < 3:
        return "polygon needs >= 3 distinct [lon, lat] vertices"
    plane, _ = gnomonic_km(lat0, lon0, poly[:, 1], poly[:, 0])
    ring = Polygon(plane)
    if not ring.is_valid or ring.area <= 0.0:
        return f"polygon is not a simple ring on the sphere ({shapely.is_valid_reason(ring)})"
    return None


def spherical_polygon_centre(polygon_lonlat) -> tuple[float, float]:
    """(lat_deg, lon_deg) of the area centroid of a valid spherical polygon (gnomonic plane, then back)."""
    from shapely.geometry import Polygon

    poly = np.asarray(polygon_lonlat, dtype=float)
    if len(poly) > 1 and np.array_equal(poly[0], poly[-1]):
        poly = poly[:-1]
    lat0, lon0, _ = polygon_centre_and_radius_deg(poly)
    plane, _ = gnomonic_km(lat0, lon0, poly[:, 1], poly[:, 0])
    cx, cy = Polygon(plane).centroid.coords[0]
    east, north, up = enu_basis(np.radians(lat0), np.radians(lon0))
    v = up + (cx * east + cy * north) / EARTH_RADIUS_KM
    v = v / np.linalg.norm(v)
    return float(np.degrees(np.arcsin(np.clip(v[2], -1.0, 1.0)))), float(np.degrees(np.arctan2(v[1], v[0])))
