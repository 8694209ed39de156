"""Regenerate the reference scenario's constellation files (geo.json, heo.json, CelesTrak OMM JSON).

Notional satellites, epoch 2026-03-01T12:30:00Z (the middle of the reference scenario's hour):

* two geostationary satellites over 75° W and 70° E (i = 0.05°, e = 1e-4): the mean anomaly is chosen so
  that the sub-satellite longitude at the epoch is the stated one (RAAN = ω = 0, so the right ascension
  is the mean anomaly; longitude = RA − GMST, IAU-82 GMST from :func:`vigil.frames.gmst82_rad`);
* two Molniya orbits (12 h, e = 0.72, i = 63.4° critical inclination, ω = 270°: apogee over the
  northern hemisphere) both *at apogee* at the epoch (mean anomaly 180°), over 70° E and 95° W: each GEO
  has a high HEO partner over its own half of the northern hemisphere for the whole hour.

Catalogue numbers 81201–81204 lie in Space-Track's analyst range (80000–89999). Run from the repository
root: ``.venv/bin/python bench/reference/make_constellations.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from vigil.frames import gmst82_rad

HERE = Path(__file__).parent
EPOCH = "2026-03-01T12:30:00.000000"
EPOCH_JD = (2461100.5, 12.5 / 24.0)  # 2026-03-01T00:00Z = JD 2461100.5 (UTC taken as UT1: < 1 s, < 0.005°)
GEO_MEAN_MOTION = 1.00273790935  # rev/day, one sidereal day
MOLNIYA_MEAN_MOTION = 2.0054758187  # rev/day, half a sidereal day
GEO_LONGITUDES_DEG = {"REF GEO-W": -75.0, "REF GEO-E": 70.0}
HEO_APOGEE_LONGITUDES_DEG = {"REF HEO-E": 70.0, "REF HEO-W": -95.0}


def _omm(
    name: str,
    norad: int,
    mean_motion: float,
    ecc: float,
    incl: float,
    raan: float,
    argp: float,
    mean_anomaly: float,
) -> dict:
    return {
        "OBJECT_NAME": name,
        "OBJECT_ID": f"2026-912{chr(ord('A') + norad % 10 - 1)}",
        "CENTER_NAME": "EARTH",
        "REF_FRAME": "TEME",
        "TIME_SYSTEM": "UTC",
        "MEAN_ELEMENT_THEORY": "SGP4",
        "EPOCH": EPOCH,
        "MEAN_MOTION": mean_motion,
        "ECCENTRICITY": ecc,
        "INCLINATION": incl,
        "RA_OF_ASC_NODE": round(raan % 360.0, 4),
        "ARG_OF_PERICENTER": argp,
        "MEAN_ANOMALY": round(mean_anomaly % 360.0, 4),
        "EPHEMERIS_TYPE": 0,
        "CLASSIFICATION_TYPE": "U",
        "NORAD_CAT_ID": norad,
        "ELEMENT_SET_NO": 999,
        "REV_AT_EPOCH": 0,
        "BSTAR": 0.0,
        "MEAN_MOTION_DOT": 0.0,
        "MEAN_MOTION_DDOT": 0.0,
    }


def main() -> None:
    gmst_deg = math.degrees(float(gmst82_rad(*EPOCH_JD)))
    geo = [
        _omm(name, 81201 + i, GEO_MEAN_MOTION, 1e-4, 0.05, 0.0, 0.0, lon + gmst_deg)
        for i, (name, lon) in enumerate(GEO_LONGITUDES_DEG.items())
    ]
    # apogee (u = ω + ν = 90°) has right ascension RAAN + 90°: RAAN = lon + GMST − 90°
    heo = [
        _omm(name, 81203 + i, MOLNIYA_MEAN_MOTION, 0.72, 63.4, lon + gmst_deg - 90.0, 270.0, 180.0)
        for i, (name, lon) in enumerate(HEO_APOGEE_LONGITUDES_DEG.items())
    ]
    for fname, sats in (("geo.json", geo), ("heo.json", heo)):
        (HERE / fname).write_text(json.dumps(sats, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
