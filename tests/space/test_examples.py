"""The shipped example constellations: reproducible from their script, and the orbits they claim to be."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np

from vigil.frames import WGS84_A_M, ecef_to_geodetic
from vigil.space.elements import load_constellation
from vigil.space.propagation import propagate_ecef
from vigil.timescale import TimeGrid

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "constellations"
EPOCH = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
GEO_ALTITUDE_M = 42164.17e3 - WGS84_A_M  # radius of a sidereal-day circular orbit (GM = 398600.4418 km^3/s^2)


def _two_days() -> TimeGrid:
    return TimeGrid.span(EPOCH, 2 * 86400.0, 600.0)


def test_script_regenerates_the_committed_files_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_examples.py"), str(tmp_path)], check=True,
                   timeout=120)  # fmt: skip
    for name in ("north.tle", "east.json"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def test_north_is_a_geostationary_ring_72_degrees_apart():
    const = load_constellation(EXAMPLES / "north.tle")
    assert const.name == "north" and len(const) == 5 and set(const.epochs) == {EPOCH}
    lat, lon, alt = ecef_to_geodetic(propagate_ecef(const, _two_days(), workers=1).r_ecef_m)
    want = np.radians([0.0, 72.0, 144.0, -144.0, -72.0])
    lon_err_deg = np.degrees(np.abs((lon - want + np.pi) % (2 * np.pi) - np.pi))
    assert lon_err_deg.max() < 0.1  # inside a +-0.1 deg station-keeping box over two days
    assert np.degrees(np.abs(lat)).max() < 0.06  # inclination 0.05 deg
    assert np.abs(alt - GEO_ALTITUDE_M).max() < 30e3  # SGP4 mean vs osculating radius, e = 0.0002


def test_east_always_has_a_satellite_high_over_the_northern_hemisphere():
    const = load_constellation(EXAMPLES / "east.json")
    assert const.name == "east" and len(const) == 4 and set(const.epochs) == {EPOCH}
    lat, _lon, alt = ecef_to_geodetic(propagate_ecef(const, _two_days(), workers=1).r_ecef_m)
    high_north = (alt > 20000e3) & (lat > np.radians(30.0))
    assert high_north.any(axis=1).all()
    # apogee at the northernmost point: the highest altitude is reached within 2 deg of latitude 63.4 N
    apogee_lat_deg = np.degrees(lat[alt.argmax(axis=0), np.arange(4)])
    assert np.all(np.abs(apogee_lat_deg - 63.4) < 2.0), apogee_lat_deg
    molniya_apogee_km = alt[:, :2].max() / 1e3
    tundra_apogee_km = alt[:, 2:].max() / 1e3
    assert 39000 < molniya_apogee_km < 40500 and 46000 < tundra_apogee_km < 47500
