"""Satellites built from chosen elements with sgp4init (independent of the shipped example files)."""

from __future__ import annotations

import numpy as np
from sgp4.api import WGS72, Satrec

from vigil.space.constellation import Constellation

EPOCH_DAYS_1949 = 27819.0  # 2026-03-01T00:00:00Z in days since 1949-12-31 00:00 UT (sgp4init's epoch)
SIDEREAL_DAY_MIN = 86164.0905 / 60.0


def satrec(num, ecc, argp_deg, incl_deg, m_deg, period_min, node_deg):
    s = Satrec()
    s.sgp4init(
        WGS72,
        "i",
        num,
        EPOCH_DAYS_1949,
        0.0,
        0.0,
        0.0,
        ecc,
        np.radians(argp_deg),
        np.radians(incl_deg),
        np.radians(m_deg),
        2 * np.pi / period_min,
        np.radians(node_deg),
    )
    return s


def geo(num, lon_deg):
    """A GEO satellite with mean anomaly ``lon_deg`` (its sub-point longitude is that plus a fixed offset, the
    sidereal angle at the epoch: spacing between satellites is kept, absolute longitude is not)."""
    return satrec(num, 0.0001, 0.0, 0.01, lon_deg, SIDEREAL_DAY_MIN, 0.0)


def molniya(num, node_deg, m_deg):
    return satrec(num, 0.72, 270.0, 63.4, m_deg, SIDEREAL_DAY_MIN / 2, node_deg)


def constellation(name, sats):
    return Constellation(
        name, tuple(sats), tuple(f"{name}-{i}" for i in range(len(sats))), tuple(s.satnum for s in sats)
    )
