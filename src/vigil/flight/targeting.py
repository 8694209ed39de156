"""Minimum-energy targeting: choose loft, thrust cut-off and azimuth so that a flight lands on a target.

The steering family of :mod:`vigil.flight.launch` has two shape parameters: the pitch-over angle ``loft``
and the thrust termination time ``cut_s`` (energy management, as solid missiles do by thrust
termination or energy-wasting manoeuvres). For a given energy (a given ``cut_s``) the loft that
maximises the range is the *minimum-energy* loft for that range; so the minimum-energy trajectory to a
target at ground range R* is the one with the smallest ``cut_s`` whose maximum range reaches R*:

1. ``loft_max``, ``R_max``: maximise range over loft at full burn (:func:`scipy.optimize.minimize_scalar`);
   R* > R_max is out of reach.
2. ``cut_s``: :func:`scipy.optimize.brentq` on ``max_loft R(loft, cut) − R*`` (inner maximisation again
   with ``minimize_scalar``); skipped when R* is within ``FULL_BURN_TOL`` of R_max.
3. Azimuth: the rotating Earth bends the ground track; iterate ``azimuth += bearing(site→target) −
   bearing(site→impact)`` and re-solve ``cut_s`` at fixed loft until the miss is below ``MISS_TOL``·R*.

Ranges are great-circle distances on the sphere of radius a (WGS84), as :mod:`vigil.frames` computes
them. The search flies with a looser ``SEARCH_RTOL``; the returned trajectory is flown at full accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from scipy.optimize import brentq, minimize_scalar

from vigil.errors import ConfigError
from vigil.flight.launch import fly, simulate
from vigil.flight.trajectory import Trajectory
from vigil.flight.vehicle import Vehicle, load_vehicle
from vigil.frames import ecef_to_geodetic, great_circle_distance_m, initial_azimuth_rad

SEARCH_RTOL = 1e-8  # integration tolerance inside the searches (the final flight uses launch.RTOL)
LOFT_BOUNDS_DEG = (0.5, 70.0)  # pitch-over angles searched (deg from vertical)
LOFT_XATOL_DEG = 0.05  # loft resolution of the maximisations (range is flat there)
CUT_XTOL_S = 0.01  # thrust cut-off resolution
FULL_BURN_TOL = 1e-3  # R* within this fraction of R_max: fly the full burn at the optimum loft
MISS_TOL = 1e-4  # stop the azimuth iteration when the miss is below this fraction of R*
MAX_AZIMUTH_ITERATIONS = 8


def _range_m(vehicle: Vehicle, lat: float, lon: float, az: float, loft_deg: float, cut_s: float | None):
    """Ground range (m) and impact (lat, lon) (rad) of one flight; range 0 when it does not come down."""
    f = simulate(vehicle, lat, lon, az, math.radians(loft_deg), cut_s, rtol=SEARCH_RTOL, dense=False)
    if f.outcome != "impact":
        return 0.0, (math.nan, math.nan)
    ilat, ilon, _ = ecef_to_geodetic(f.y_end[:3])
    return float(great_circle_distance_m(lat, lon, ilat, ilon)), (float(ilat), float(ilon))


def max_range(vehicle, lat, lon, az, cut_s, bounds=LOFT_BOUNDS_DEG) -> tuple[float, float]:
    """(loft_deg, range_m) maximising the range at thrust cut-off ``cut_s``."""
    res = minimize_scalar(
        lambda q: -_range_m(vehicle, lat, lon, az, q, cut_s)[0],
        bounds=bounds,
        method="bounded",
        options={"xatol": LOFT_XATOL_DEG},
    )
    return float(res.x), -float(res.fun)


def _site(site) -> tuple[float, float]:
    if isinstance(site, Mapping):
        return float(site["lat_deg"]), float(site["lon_deg"])
    lat, lon = site
    return float(lat), float(lon)


def solve_min_energy(vehicle, site, target_lat_deg: float, target_lon_deg: float) -> dict[str, float]:
    """Loft (deg), thrust cut-off (s after lift-off, or the full burn), azimuth (deg) for the target.

    Returns ``{"loft_deg", "cut_s", "azimuth_deg", "range_max_m", "target_range_m", "miss_m"}``.
    """
    v = load_vehicle(vehicle)
    lat, lon = (math.radians(x) for x in _site(site))
    tlat, tlon = math.radians(target_lat_deg), math.radians(target_lon_deg)
    r_star = float(great_circle_distance_m(lat, lon, tlat, tlon))
    az = float(initial_azimuth_rad(lat, lon, tlat, tlon))
    full = sum(s.burn_time_s + s.coast_after_s for s in v.stages) - v.stages[-1].coast_after_s
    loft, r_max = max_range(v, lat, lon, az, None)
    if r_star > r_max * (1.0 + FULL_BURN_TOL):
        raise ConfigError(
            f"target {target_lat_deg:g}, {target_lon_deg:g}: {r_star / 1e3:.0f} km is beyond "
            f"the {r_max / 1e3:.0f} km reach of {v.name}"
        )
    cut = None
    if r_star < r_max * (1.0 - FULL_BURN_TOL):
        cut_lo = v.vertical_rise_s + v.pitch_over_s + 1.0
        lofts = {}

        def excess(c):
            lofts[c] = max_range(v, lat, lon, az, c)
            return lofts[c][1] - r_star

        if excess(cut_lo) >= 0.0:
            raise ConfigError(
                f"target {target_lat_deg:g}, {target_lon_deg:g}: {r_star / 1e3:.0f} km is "
                f"closer than the shortest controlled flight of {v.name}"
            )
        cut = brentq(excess, cut_lo, full, xtol=CUT_XTOL_S)
        loft = lofts[cut][0] if cut in lofts else max_range(v, lat, lon, az, cut)[0]
    return _correct_azimuth(v, lat, lon, tlat, tlon, az, loft, cut, full, r_star, r_max)


def _solve_cut(v, lat, lon, az, loft, full, r_star) -> float | None:
    """Thrust cut-off (s) at fixed loft and azimuth that reaches ``r_star``; None: the full burn."""

    def short(c):
        return _range_m(v, lat, lon, az, loft, c)[0] - r_star

    if short(full) <= 0.0:
        return None
    return brentq(short, v.vertical_rise_s + v.pitch_over_s + 1.0, full, xtol=CUT_XTOL_S)


def _correct_azimuth(v, lat, lon, tlat, tlon, az, loft, cut, full, r_star, r_max) -> dict[str, float]:
    """Iterate the azimuth (and the cut-off at fixed loft) until the impact lands on the target."""
    bearing = float(initial_azimuth_rad(lat, lon, tlat, tlon))
    miss = math.inf
    for _ in range(MAX_AZIMUTH_ITERATIONS):
        rng, (ilat, ilon) = _range_m(v, lat, lon, az, loft, cut)
        miss = float(great_circle_distance_m(ilat, ilon, tlat, tlon))
        if miss < MISS_TOL * r_star:
            break
        d_az = bearing - float(initial_azimuth_rad(lat, lon, ilat, ilon))
        az += (d_az + math.pi) % (2.0 * math.pi) - math.pi
        if cut is not None:
            cut = _solve_cut(v, lat, lon, az, loft, full, r_star)
    return {
        "loft_deg": loft,
        "cut_s": math.nan if cut is None else cut,
        "azimuth_deg": math.degrees(az) % 360.0,
        "range_max_m": r_max,
        "target_range_m": r_star,
        "miss_m": miss,
    }


def fly_to_target(
    vehicle, site, launch_time_s: float, target_lat_deg: float, target_lon_deg: float, launch_id: str = ""
) -> Trajectory:
    """Minimum-energy flight of ``vehicle`` from ``site`` ((lat_deg, lon_deg) or a mapping) to the target.

    The solution is in ``trajectory.events`` only through its times; :func:`solve_min_energy` returns the
    loft, cut-off and azimuth themselves.
    """
    v = load_vehicle(vehicle)
    sol = solve_min_energy(v, site, target_lat_deg, target_lon_deg)
    lat, lon = _site(site)
    cut = None if math.isnan(sol["cut_s"]) else sol["cut_s"]
    return fly(
        v, lat, lon, launch_time_s, sol["azimuth_deg"], sol["loft_deg"], cut_s=cut, launch_id=launch_id
    )
