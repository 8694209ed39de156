"""Earth frames: WGS84 ellipsoid, geodetic <-> ECEF (ITRS), local ENU, elevation, TEME -> ECEF.

This module owns every frame conversion in Vigil. Inputs and outputs are SI (m, rad, s) and
vectors are ``(..., 3)``. The TEME -> ECEF rotation is the one of Vallado et al., "Revisiting
Spacetrack Report #3", AIAA 2006-6753, Appendix C: a rotation about z by GMST 1982 evaluated at UT1
(polar motion neglected, < 15 m at the Earth's surface and the same for every satellite; Skyfield's
``frame_xyz(itrs)`` without loaded polar motion is the same rotation, which the tests check to < 1 m).
"""

from __future__ import annotations

import math

import numpy as np

WGS84_A_M = 6378137.0  # semi-major axis, NIMA TR8350.2 table 3.1
WGS84_F = 1.0 / 298.257223563  # flattening, NIMA TR8350.2 table 3.1
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared
WGS84_EP2 = WGS84_E2 / (1.0 - WGS84_E2)  # second eccentricity squared
OMEGA_EARTH_RAD_S = 7.292115e-5  # Earth rotation rate, NIMA TR8350.2 table 3.1
GM_EARTH_M3_S2 = 3.986004418e14  # WGS84 GM, NIMA TR8350.2 table 3.1
J2_EARTH = 1.08262982e-3  # WGS84 J2 (from C20 = -4.84166774985e-4), NIMA TR8350.2 table 5.1
C_LIGHT_M_S = 299792458.0  # exact, SI definition
DAY_S = 86400.0


def geodetic_to_ecef(lat_rad, lon_rad, alt_m=0.0):
    """ECEF position (m), shape ``(..., 3)``, of geodetic latitude/longitude (rad) and height (m) on WGS84."""
    lat = np.asarray(lat_rad, dtype=float)
    lon = np.asarray(lon_rad, dtype=float)
    alt = np.asarray(alt_m, dtype=float)
    sin_lat = np.sin(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    x = (n + alt) * np.cos(lat) * np.cos(lon)
    y = (n + alt) * np.cos(lat) * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + alt) * sin_lat
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(r_ecef_m):
    """Geodetic ``(lat_rad, lon_rad, alt_m)`` of ECEF positions ``(..., 3)`` (m).

    Bowring's method with two refinements; sub-millimetre from the surface to beyond GEO. One finite point,
    ``(3,)`` or ``(1, 3)``, takes :func:`_bowring` (the same bits and types, 2x faster: the array path's cost on
    one point is ~50 numpy calls' overhead; on two rows already about that of two points).
    """
    r = np.asarray(r_ecef_m, dtype=float)
    if r.shape == (3,) or r.shape == (1, 3):
        x, y, z = (r if r.ndim == 1 else r[0]).tolist()
        if x * x + y * y + z * z < _POINT_MAX_R2_M2:  # (False for NaN and inf: the array path below)
            lat, lon, alt = _bowring(x, y, z, r.ndim == 2)
            if r.ndim == 1:
                return np.float64(lat), np.float64(lon), np.float64(alt)
            return np.array([lat]), np.array([lon]), np.array([alt])
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    lon = np.arctan2(y, x)
    p = np.hypot(x, y)
    beta = np.arctan2(z, p * (1.0 - WGS84_F))
    for _ in range(3):
        lat = np.arctan2(
            z + WGS84_EP2 * WGS84_B_M * np.sin(beta) ** 3, p - WGS84_E2 * WGS84_A_M * np.cos(beta) ** 3
        )
        beta = np.arctan2((1.0 - WGS84_F) * np.sin(lat), np.cos(lat))
    sin_lat = np.sin(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    alt = p * np.cos(lat) + z * sin_lat - WGS84_A_M**2 / n
    return lat, lon, alt


_POINT_MAX_R2_M2 = 1e200  # |r|² bound of the fast paths: no overflow (where the array path would warn) below
_ONE_MINUS_F = 1.0 - WGS84_F
_EP2_B = WGS84_EP2 * WGS84_B_M
_E2_A = WGS84_E2 * WGS84_A_M
_A2 = WGS84_A_M**2


def _bowring(x: float, y: float, z: float, array_powers: bool) -> tuple[float, float, float]:
    """:func:`ecef_to_geodetic`'s numbers for one finite point, its operations in its order on floats.

    Why exact: ``sin``, ``cos`` and ``sqrt`` of numpy (arrays and scalars) give the bits of ``math``, and
    ``+ - * /`` are IEEE. Not so ``arctan2``, ``hypot`` (numpy's SIMD / libm functions) and the powers: a
    ``(3,)`` point's array path takes numpy *scalars*, whose ``**`` is C ``pow`` as Python's; arrays' ``** 3`` is
    numpy's SIMD power and ``** 2`` a square (``array_powers``: the row of a ``(1, 3)`` input). Those stay numpy
    calls (elementwise: the same bits for any array length), on one-element arrays (no scalar conversions: ~60 %
    of a call's cost), the longitude with the first ``beta``, the cubes of ``sin`` and ``cos`` together, the
    unused last ``beta`` skipped (tests/fusion/test_geodetic_point.py checks the bits)."""
    p = float(np.hypot(x, y))
    lon, beta = np.arctan2(np.array((y, z)), np.array((x, p * _ONE_MINUS_F))).tolist()
    num, den, out = np.empty(1), np.empty(1), np.empty(1)  # (an output aliasing an input costs a copy)
    if array_powers:
        sin_cos, cubes = np.empty(2), np.empty(2)
    for i in range(3):
        if array_powers:
            sin_cos[0], sin_cos[1] = math.sin(beta), math.cos(beta)
            np.power(sin_cos, 3, cubes)
            sin3, cos3 = cubes.tolist()
        else:
            sin3, cos3 = math.sin(beta) ** 3, math.cos(beta) ** 3
        num[0], den[0] = z + _EP2_B * sin3, p - _E2_A * cos3
        np.arctan2(num, den, out)
        lat = out.item()
        if i < 2:
            num[0], den[0] = _ONE_MINUS_F * math.sin(lat), math.cos(lat)
            np.arctan2(num, den, out)
            beta = out.item()
    sin_lat = math.sin(lat)
    n = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * (sin_lat * sin_lat if array_powers else sin_lat**2))
    return lat, lon, p * math.cos(lat) + z * sin_lat - _A2 / n


def up_vector(lat_rad, lon_rad):
    """Unit geodetic 'up' (ellipsoid normal) in ECEF, shape ``(..., 3)``."""
    lat = np.asarray(lat_rad, dtype=float)
    lon = np.asarray(lon_rad, dtype=float)
    return np.stack(
        np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), axis=-1
    )


def enu_basis(lat_rad, lon_rad):
    """East, north, up unit vectors in ECEF at geodetic lat/lon: three arrays of shape ``(..., 3)``."""
    lat = np.asarray(lat_rad, dtype=float)
    lon = np.asarray(lon_rad, dtype=float)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    zero = np.zeros_like(sl * so)
    east = np.stack(np.broadcast_arrays(-so, co, zero), axis=-1)
    north = np.stack(np.broadcast_arrays(-sl * co, -sl * so, cl), axis=-1)
    up = np.stack(np.broadcast_arrays(cl * co, cl * so, sl), axis=-1)
    return east, north, up


def elevation_rad(r_point_ecef_m, up_unit, r_sat_ecef_m):
    """Elevation (rad) of satellites above the local horizon of points (broadcast ``(..., 3)``)."""
    d = np.asarray(r_sat_ecef_m) - np.asarray(r_point_ecef_m)
    rng = np.linalg.norm(d, axis=-1)
    return np.arcsin(np.clip(np.einsum("...i,...i->...", d, up_unit) / rng, -1.0, 1.0))


def gmst82_rad(jd_ut1_whole, jd_ut1_fraction=0.0):
    """Greenwich mean sidereal time, IAU 1982 (rad, in [0, 2π)), from a UT1 Julian date split in two.

    Vallado et al. AIAA 2006-6753 eq. (C-5); the same expression as Skyfield's ``theta_GMST1982``.
    """
    whole = np.asarray(jd_ut1_whole, dtype=float)
    frac = np.asarray(jd_ut1_fraction, dtype=float)
    t = (whole - 2451545.0 + frac) / 36525.0
    g = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * t) * t) * t
    return ((whole % 1.0) + frac + (g / DAY_S) % 1.0) % 1.0 * 2.0 * np.pi


def teme_to_ecef(r_teme, theta_rad, v_teme=None):
    """Rotate TEME vectors ``(T, ..., 3)`` into ECEF by GMST angles ``theta_rad`` of shape ``(T,)``.

    Units are those of the input. With ``v_teme`` also returns the ECEF velocity, which includes the
    transport term ``-ω × r``.
    """
    r = np.asarray(r_teme, dtype=float)
    c = np.cos(theta_rad).reshape((-1,) + (1,) * (r.ndim - 2))
    s = np.sin(theta_rad).reshape(c.shape)
    out = np.empty_like(r)
    out[..., 0] = c * r[..., 0] + s * r[..., 1]
    out[..., 1] = -s * r[..., 0] + c * r[..., 1]
    out[..., 2] = r[..., 2]
    if v_teme is None:
        return out
    v = np.asarray(v_teme, dtype=float)
    vout = np.empty_like(v)
    vout[..., 0] = c * v[..., 0] + s * v[..., 1] + OMEGA_EARTH_RAD_S * out[..., 1]
    vout[..., 1] = -s * v[..., 0] + c * v[..., 1] - OMEGA_EARTH_RAD_S * out[..., 0]
    vout[..., 2] = v[..., 2]
    return out, vout


def unit(v):
    """Unit vectors along ``v`` ``(..., 3)``."""
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def great_circle_destination(lat_rad, lon_rad, azimuth_rad, distance_m, radius_m=WGS84_A_M):
    """Point reached from (lat, lon) along initial ``azimuth_rad`` after ``distance_m`` on a sphere."""
    d = np.asarray(distance_m, dtype=float) / radius_m
    lat2 = np.arcsin(np.sin(lat_rad) * np.cos(d) + np.cos(lat_rad) * np.sin(d) * np.cos(azimuth_rad))
    lon2 = lon_rad + np.arctan2(
        np.sin(azimuth_rad) * np.sin(d) * np.cos(lat_rad), np.cos(d) - np.sin(lat_rad) * np.sin(lat2)
    )
    return lat2, (lon2 + np.pi) % (2 * np.pi) - np.pi


def great_circle_distance_m(lat1_rad, lon1_rad, lat2_rad, lon2_rad, radius_m=WGS84_A_M):
    """Haversine great-circle distance (m) on a sphere of ``radius_m``."""
    dlat = np.asarray(lat2_rad) - lat1_rad
    dlon = np.asarray(lon2_rad) - lon1_rad
    h = np.sin(dlat / 2) ** 2 + np.cos(lat1_rad) * np.cos(lat2_rad) * np.sin(dlon / 2) ** 2
    return 2 * radius_m * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def initial_azimuth_rad(lat1_rad, lon1_rad, lat2_rad, lon2_rad):
    """Initial great-circle azimuth (rad, clockwise from north, in [0, 2π)) from point 1 to point 2."""
    dlon = np.asarray(lon2_rad) - lon1_rad
    y = np.sin(dlon) * np.cos(lat2_rad)
    x = np.cos(lat1_rad) * np.sin(lat2_rad) - np.sin(lat1_rad) * np.cos(lat2_rad) * np.cos(dlon)
    return np.arctan2(y, x) % (2 * np.pi)
