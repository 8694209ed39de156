"""Minimum-energy targeting lands on targets at 10,000 km (ICBM) and 800 km (SRBM)."""

import math

import pytest

from vigil.errors import ConfigError
from vigil.flight.targeting import fly_to_target
from vigil.frames import ecef_to_geodetic, great_circle_destination, great_circle_distance_m

SITE = (45.0, 63.3)


def _target(distance_m, bearing_deg):
    lat, lon = great_circle_destination(
        math.radians(SITE[0]), math.radians(SITE[1]), math.radians(bearing_deg), distance_m
    )
    return math.degrees(lat), math.degrees(lon)


@pytest.mark.parametrize(
    ("vehicle", "distance_m", "bearing_deg"),
    [("notional-icbm-3stage", 10_000e3, 20.0), ("notional-srbm-1stage", 800e3, 250.0)],
)
def test_min_energy_flight_lands_within_one_percent(vehicle, distance_m, bearing_deg):
    tlat, tlon = _target(distance_m, bearing_deg)
    tr = fly_to_target(vehicle, SITE, 0.0, tlat, tlon)
    lat, lon, alt = ecef_to_geodetic(tr.r_ecef_m[-1])
    miss = great_circle_distance_m(lat, lon, math.radians(tlat), math.radians(tlon))
    assert tr.kind == "ballistic" and abs(alt) < 1.0
    assert miss < 0.01 * distance_m


def test_target_beyond_reach_is_a_config_error():
    tlat, tlon = _target(3000e3, 0.0)
    with pytest.raises(ConfigError, match="beyond the .* reach of notional-srbm-1stage"):
        fly_to_target("notional-srbm-1stage", SITE, 0.0, tlat, tlon)
