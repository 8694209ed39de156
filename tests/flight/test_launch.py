"""Integrated flights of the notional vehicles: burnout, range, orbit, and the Trajectory contract."""

import math

import numpy as np
import pytest

from vigil.flight.launch import fly
from vigil.flight.orbit import inertial_velocity, perigee_altitude_m
from vigil.frames import ecef_to_geodetic, great_circle_distance_m

SITE = (45.0, 63.3)


def _range_km(tr):
    lat, lon, _ = ecef_to_geodetic(tr.r_ecef_m[-1])
    return great_circle_distance_m(math.radians(SITE[0]), math.radians(SITE[1]), lat, lon) / 1e3


@pytest.fixture(scope="module")
def icbm():
    return fly("notional-icbm-3stage", *SITE, 100.0, 40.0)


def test_icbm_burnout_and_range_are_icbm_class(icbm):
    t_bo = icbm.events["burnout"] - icbm.events["liftoff"]
    r, v = icbm.state_at(icbm.events["burnout"])
    assert 150.0 <= t_bo <= 300.0
    assert 6000.0 <= np.linalg.norm(inertial_velocity(r, v)) <= 7500.0  # inertial burnout speed
    assert 6000.0 <= np.linalg.norm(v) <= 7500.0  # Earth-relative burnout speed
    assert 9000.0 <= _range_km(icbm) <= 13000.0
    assert icbm.kind == "ballistic" and "impact" in icbm.events


@pytest.mark.parametrize(
    ("name", "lo_km", "hi_km"),
    [("notional-srbm-1stage", 300.0, 1000.0), ("notional-irbm-2stage", 3000.0, 5500.0)],
)
def test_shorter_range_classes(name, lo_km, hi_km):
    tr = fly(name, *SITE, 0.0, 40.0)
    assert lo_km <= _range_km(tr) <= hi_km
    assert abs(ecef_to_geodetic(tr.r_ecef_m[-1])[2]) < 1.0  # ends on the ellipsoid


def test_launcher_reaches_orbit():
    tr = fly("notional-launcher-2stage", 28.5618, -80.5772, 0.0, 90.0)
    assert tr.kind == "space_launch" and "orbit" in tr.events
    assert perigee_altitude_m(tr.r_ecef_m[-1], tr.v_ecef_m_s[-1]) > 150e3
    assert 200e3 <= ecef_to_geodetic(tr.r_ecef_m[-1])[2] <= 400e3


def test_trajectory_contract_sampling_stage_intensity(icbm):
    dt = np.diff(icbm.t_s)
    assert np.all(dt > 0.0)
    burning = icbm.stage[:-1] >= 0
    assert np.all(dt[burning] <= 1.0 + 1e-9) and np.all(dt[~burning] <= 10.0)
    assert np.all((icbm.intensity_w_sr > 0) == (icbm.stage >= 0))
    assert list(np.unique(icbm.stage)) == [-1, 0, 1, 2]
    ev = icbm.events
    assert ev["liftoff"] == 100.0 and icbm.t_s[0] == 100.0
    assert ev["liftoff"] < ev["staging_1"] < ev["staging_2"] < ev["burnout"] < ev["impact"] == icbm.t_s[-1]


def test_sampled_acceleration_is_derivative_of_velocity(icbm):
    high = ecef_to_geodetic(icbm.r_ecef_m)[2] > 100e3  # above the drag, where 5 s central differences hold
    coast = np.flatnonzero((icbm.stage == -1) & high)[1:-1]
    dv = (icbm.v_ecef_m_s[coast + 1] - icbm.v_ecef_m_s[coast - 1]) / (
        icbm.t_s[coast + 1] - icbm.t_s[coast - 1]
    )[:, None]
    assert np.max(np.linalg.norm(dv - icbm.a_ecef_m_s2[coast], axis=1)) < 0.01  # m/s² (central diff. error)
