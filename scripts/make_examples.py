"""Write the example constellations ``examples/constellations/north.tle`` and ``east.json``.

Both are notional, built from textbook orbit designs with public descriptions; epoch 2026-03-01T00:00:00Z;
no drag (BSTAR = 0: at these altitudes drag is negligible over days). Elements are SGP4 mean elements
made with python-sgp4's ``Satrec.sgp4init`` and written with ``sgp4.exporter``.

Partner "north" (3-line TLE): a geostationary ring of five satellites 72 deg apart in longitude
(0, 72, 144, -144, -72 deg E), the Earth-staring early-warning geometry of the US Space-Based Infrared
System GEO satellites (public descriptions: US Space Force "Space Based Infrared System" fact sheet;
Lockheed Martin SBIRS GEO pages) and of the older DSP satellites. Five evenly spaced GEO satellites see
every longitude from at least two of them at the equator (each sees about +-81 deg of longitude at the
horizon). Inclination 0.05 deg and eccentricity 0.0002 are typical of station-kept GEO; the mean motion
is tuned (two Newton steps on the SGP4 longitude drift over 10 days) so that the sub-satellite points
stay put to well under 0.1 deg/day despite the J2 and Kozai-vs-Brouwer mean-motion differences.

Partner "east" (CelesTrak OMM JSON): four highly elliptical orbits with apogee over the northern
hemisphere, as the SBIRS HEO payloads and the Soviet/Russian Oko early-warning system use:

- two Molniya-type orbits: period half a sidereal day (n = 2.00547 rev/day), e = 0.72, i = 63.4 deg
  (the critical inclination, where the J2 drift of the argument of perigee vanishes), argument of perigee
  270 deg (apogee at the northernmost point, latitude 63.4 N, altitude about 39 700 km); see Vallado,
  "Fundamentals of Astrodynamics and Applications", 4th ed., sec. 9.6 (critical inclination) and the
  classic Molniya design (Kidder & Vonder Haar, J. Geophys. Res. 95(D1), 1990);
- two Tundra-type orbits: period one sidereal day (n = 1.00273791 rev/day), e = 0.26, i = 63.4 deg,
  argument of perigee 270 deg, as the Sirius radio satellites used (public FCC filings; Bruno & Pernicka,
  J. Spacecraft and Rockets 42(5), 2005).

Each pair sits in planes 180 deg apart in right ascension with mean anomalies 180 deg apart, so at every
instant one satellite of each pair is in the half of its orbit centred on apogee (mean anomaly within
90 deg of 180 deg): at least one "east" satellite is always high over the northern hemisphere.

Run ``python scripts/make_examples.py [OUT_DIR]`` (default ``examples/constellations``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path

from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_omm, export_tle

EPOCH = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
SGP4_EPOCH0 = dt.datetime(1949, 12, 31, tzinfo=dt.UTC)  # sgp4init counts days from 1949-12-31 00:00 UTC
SIDEREAL_DAY_REV_PER_DAY = 1.00273790935  # solar days per sidereal day (IERS; Vallado 4th ed. eq. 3-40)
XPDOTP = 1440.0 / (2.0 * math.pi)  # rev/day per rad/min, as in python-sgp4
DEG = math.pi / 180.0

GEO_LONGITUDES_DEG = (0.0, 72.0, 144.0, -144.0, -72.0)
GEO_INCLINATION_DEG = 0.05
GEO_ECCENTRICITY = 0.0002
HEO_INCLINATION_DEG = 63.4  # critical inclination, arccos(sqrt(1/5)) = 63.43 deg
HEO_ARG_PERIGEE_DEG = 270.0  # apogee at the northernmost point of the orbit
MOLNIYA_ECCENTRICITY = 0.72
TUNDRA_ECCENTRICITY = 0.26
# (name, catalog number, designator, eccentricity, rev/day, RAAN deg, mean anomaly deg)
HEO_SATELLITES = (
    ("EAST HEO-M1", 81101, "26902A", MOLNIYA_ECCENTRICITY, 2 * SIDEREAL_DAY_REV_PER_DAY, 40.0, 0.0),
    ("EAST HEO-M2", 81102, "26902B", MOLNIYA_ECCENTRICITY, 2 * SIDEREAL_DAY_REV_PER_DAY, 220.0, 180.0),
    ("EAST HEO-T1", 81103, "26903A", TUNDRA_ECCENTRICITY, SIDEREAL_DAY_REV_PER_DAY, 100.0, 90.0),
    ("EAST HEO-T2", 81104, "26903B", TUNDRA_ECCENTRICITY, SIDEREAL_DAY_REV_PER_DAY, 280.0, 270.0),
)


def _gmst_rad(when: dt.datetime) -> float:
    """GMST 1982 (rad) at a UTC instant, taking UT1 = UTC (0.1 s here is 0.0004 deg of longitude)."""
    from sgp4.api import jday

    from vigil.frames import gmst82_rad

    jd, fr = jday(when.year, when.month, when.day, when.hour, when.minute, when.second)
    return float(gmst82_rad(jd, fr))


def make_satrec(satnum, designator, ecc, n_rev_day, incl_deg, raan_deg, argp_deg, mean_anom_deg) -> Satrec:
    """An SGP4 element set at :data:`EPOCH` (angles in degrees, mean motion in rev/day)."""
    sat = Satrec()
    epoch_days = (EPOCH - SGP4_EPOCH0).total_seconds() / 86400.0
    sat.sgp4init(
        WGS72, "i", satnum, epoch_days, 0.0, 0.0, 0.0, ecc, argp_deg * DEG, incl_deg * DEG,
        (mean_anom_deg % 360.0) * DEG, n_rev_day / XPDOTP, (raan_deg % 360.0) * DEG,
    )  # fmt: skip
    sat.classification, sat.intldesg, sat.elnum, sat.revnum, sat.ephtype = "U", designator, 999, 0, 0
    return sat


def _geo_longitude_deg(sat: Satrec, days: float) -> float:
    """Sub-satellite longitude (deg, unwrapped near the start) ``days`` after the epoch."""
    e, r, _ = sat.sgp4(sat.jdsatepoch, sat.jdsatepochF + days)
    theta = _gmst_rad(EPOCH + dt.timedelta(days=days))
    return math.degrees(math.atan2(r[1], r[0]) - theta)


def geo_satrec(index: int, lon_deg: float) -> Satrec:
    """A GEO satellite over ``lon_deg`` at the epoch whose mean motion cancels its longitude drift."""
    mean_anom = lon_deg + math.degrees(_gmst_rad(EPOCH))  # RAAN = argp = 0: TEME longitude = M (e ~ 0)
    n = SIDEREAL_DAY_REV_PER_DAY
    for _ in range(2):  # Newton steps on the drift over 10 days (deg/day per rev/day = 360)
        sat = make_satrec(81001 + index, f"26901{'ABCDE'[index]}", GEO_ECCENTRICITY, n, GEO_INCLINATION_DEG,
                          0.0, 0.0, mean_anom)  # fmt: skip
        start = _geo_longitude_deg(sat, 0.0)
        drift = ((_geo_longitude_deg(sat, 10.0) - start + 180.0) % 360.0 - 180.0) / 10.0
        n -= drift / 360.0
        mean_anom += (lon_deg - start + 180.0) % 360.0 - 180.0
    return make_satrec(81001 + index, f"26901{'ABCDE'[index]}", GEO_ECCENTRICITY, n, GEO_INCLINATION_DEG,
                       0.0, 0.0, mean_anom)  # fmt: skip


def north_tle() -> str:
    lines = []
    for i, lon in enumerate(GEO_LONGITUDES_DEG):
        line1, line2 = export_tle(geo_satrec(i, lon))
        lines += [f"NORTH GEO-{i + 1}", line1, line2]
    return "\n".join(lines) + "\n"


def east_json() -> str:
    records = []
    for name, satnum, desig, ecc, n, raan, mean_anom in HEO_SATELLITES:
        sat = make_satrec(satnum, desig, ecc, n, HEO_INCLINATION_DEG, raan, HEO_ARG_PERIGEE_DEG, mean_anom)
        records.append(export_omm(sat, name))
    return json.dumps(records, indent=1) + "\n"


def main(out_dir: str | Path = "examples/constellations") -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "north.tle").write_text(north_tle())
    (out / "east.json").write_text(east_json())


if __name__ == "__main__":
    main(*sys.argv[1:2])
