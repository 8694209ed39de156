"""Helpers for the simulator tests: GEO satellites over chosen longitudes, synthetic flights, OMM records."""

from __future__ import annotations

import datetime as dt

import numpy as np
from testkit.orbits import SIDEREAL_DAY_MIN, constellation, satrec

from vigil.flight.trajectory import Trajectory
from vigil.frames import enu_basis, geodetic_to_ecef, gmst82_rad
from vigil.sensors.model import SensorModel
from vigil.sensors.signal import SignalModel
from vigil.sim.scenario import Partner
from vigil.timescale import TimeGrid

EPOCH = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
SATREC_EPOCH = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)  # the epoch testkit.orbits gives sgp4init


def _gmst_deg(when: dt.datetime) -> float:
    g = TimeGrid.from_offsets(when, [0.0])
    return float(np.degrees(gmst82_rad(g.jd_ut1_whole, g.jd_ut1_fraction))[0])


def geo_over(num: int, lon_deg: float):
    """A near-GEO satellite whose sub-satellite longitude is ``lon_deg`` (mean longitude = lon + GMST)."""
    return satrec(num, 0.0001, 0.0, 0.01, (lon_deg + _gmst_deg(SATREC_EPOCH)) % 360.0, SIDEREAL_DAY_MIN, 0.0)


def geo_partner(pid: str, lons, **signal) -> Partner:
    sensor_keys = {"frame_s", "los_sigma_urad", "min_elevation_deg", "field_of_regard_deg"}
    sensor = SensorModel(**{k: v for k, v in signal.items() if k in sensor_keys})
    sig = SignalModel(**{k: v for k, v in signal.items() if k not in sensor_keys})
    sats = [geo_over(100 + i, lon) for i, lon in enumerate(lons)]
    return Partner(pid, constellation(pid, sats), sensor, sig)


def rising_flight(
    launch_id: str,
    lat_deg: float,
    lon_deg: float,
    t0_s: float,
    burn_s: float = 200.0,
    coast_s: float = 100.0,
    intensity_w_sr: float = 1e6,
    step_s: float = 1.0,
) -> Trajectory:
    """A synthetic ascent: up 15 τ² m and east 8 τ² m from the site (τ s after lift-off), lit until burnout."""
    east, _north, up = enu_basis(np.radians(lat_deg), np.radians(lon_deg))
    tau = np.arange(0.0, burn_s + coast_s + step_s / 2, step_s)
    r0 = geodetic_to_ecef(np.radians(lat_deg), np.radians(lon_deg), 0.0)
    r = r0 + np.outer(15.0 * tau**2, up) + np.outer(8.0 * tau**2, east)
    v = np.outer(30.0 * tau, up) + np.outer(16.0 * tau, east)
    a = np.tile(30.0 * up + 16.0 * east, (len(tau), 1))
    lit = tau <= burn_s
    return Trajectory(
        launch_id=launch_id,
        kind="ballistic",
        t_s=t0_s + tau,
        r_ecef_m=r,
        v_ecef_m_s=v,
        a_ecef_m_s2=a,
        stage=np.where(lit, 0, -1),
        intensity_w_sr=np.where(lit, intensity_w_sr, 0.0),
        events={"liftoff": t0_s, "burnout": t0_s + burn_s},
    )


def omm_record(num: int, lon_deg: float) -> dict:
    """An OMM JSON record of :func:`geo_over` (same elements), for scenario files."""
    return {
        "OBJECT_NAME": f"GEO {num}",
        "OBJECT_ID": f"2026-001{chr(64 + num % 26)}",
        "EPOCH": "2026-03-01T00:00:00",
        "MEAN_MOTION": 1440.0 / SIDEREAL_DAY_MIN,
        "ECCENTRICITY": 0.0001,
        "INCLINATION": 0.01,
        "RA_OF_ASC_NODE": 0.0,
        "ARG_OF_PERICENTER": 0.0,
        "MEAN_ANOMALY": (lon_deg + _gmst_deg(SATREC_EPOCH)) % 360.0,
        "NORAD_CAT_ID": 90000 + num,
        "BSTAR": 0.0,
        "MEAN_MOTION_DOT": 0.0,
        "MEAN_MOTION_DDOT": 0.0,
        "EPHEMERIS_TYPE": 0,
        "CLASSIFICATION_TYPE": "U",
        "ELEMENT_SET_NO": 999,
        "REV_AT_EPOCH": 1,
    }
