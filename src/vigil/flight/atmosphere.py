"""Standard atmosphere: density and pressure versus geometric altitude.

From 0 to 86 km: the U.S. Standard Atmosphere 1976 (NOAA-S/T 76-1562, Part 1, Table 4 base values and
eqs. 33a/33b), layers of constant lapse rate in geopotential altitude. Above 86 km: piecewise exponential
density, Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed., Table 8-4 (base density and
scale height per band, itself from US 1976 / CIRA-72). Pressure above 86 km is returned as 0 (it only
corrects engine thrust, where it is already negligible). Scalar functions on floats: they sit in the
right-hand side of the equations of motion; :func:`density_kg_m3_array` vectorizes for callers.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np

G0_M_S2 = 9.80665  # standard gravity, US 1976 / CGPM 1901
R_STAR_J_MOL_K = 8.31432  # gas constant used by US 1976
M0_KG_MOL = 0.0289644  # mean molar mass of air below 86 km, US 1976
R0_GEOPOTENTIAL_M = 6356766.0  # effective Earth radius for geopotential altitude, US 1976
US76_TOP_M = 86000.0  # geometric altitude where the US 1976 lower atmosphere ends

# US 1976 layers: base geopotential altitude (m'), base temperature (K), lapse rate (K/m'), base pressure (Pa).
_US76_H_M = (0.0, 11000.0, 20000.0, 32000.0, 47000.0, 51000.0, 71000.0)
_US76_T_K = (288.15, 216.65, 216.65, 228.65, 270.65, 270.65, 214.65)
_US76_L_K_M = (-0.0065, 0.0, 0.001, 0.0028, 0.0, -0.0028, -0.002)
_US76_P_PA = (101325.0, 22632.06, 5474.889, 868.0187, 110.9063, 66.93887, 3.956420)

# Vallado Table 8-4: base altitude (m), nominal density (kg/m^3), scale height (m); used from 86 km up.
_EXP_H_M = (
    80e3,
    90e3,
    100e3,
    110e3,
    120e3,
    130e3,
    140e3,
    150e3,
    180e3,
    200e3,
    250e3,
    300e3,
    350e3,
    400e3,
    450e3,
    500e3,
    600e3,
    700e3,
    800e3,
    900e3,
    1000e3,
)
_EXP_RHO = (
    1.905e-5,
    3.396e-6,
    5.297e-7,
    9.661e-8,
    2.438e-8,
    8.484e-9,
    3.845e-9,
    2.070e-9,
    5.464e-10,
    2.789e-10,
    7.248e-11,
    2.418e-11,
    9.518e-12,
    3.725e-12,
    1.585e-12,
    6.967e-13,
    1.454e-13,
    3.614e-14,
    1.170e-14,
    5.245e-15,
    3.019e-15,
)
_EXP_SCALE_M = (
    5927.0,
    5533.0,
    5799.0,
    7263.0,
    9473.0,
    12636.0,
    16149.0,
    22523.0,
    29740.0,
    37105.0,
    45546.0,
    53628.0,
    53298.0,
    58515.0,
    60828.0,
    63822.0,
    71835.0,
    88667.0,
    124640.0,
    181050.0,
    268000.0,
)


def _us76_layer(alt_m: float) -> tuple[float, float]:
    """Temperature (K) and pressure (Pa) of US 1976 at geometric altitude ``alt_m`` in [0, 86 km]."""
    h = R0_GEOPOTENTIAL_M * alt_m / (R0_GEOPOTENTIAL_M + alt_m)  # geopotential altitude
    i = max(bisect_right(_US76_H_M, h) - 1, 0)
    dh = h - _US76_H_M[i]
    tb, lapse, pb = _US76_T_K[i], _US76_L_K_M[i], _US76_P_PA[i]
    k = G0_M_S2 * M0_KG_MOL / R_STAR_J_MOL_K
    if lapse == 0.0:
        return tb, pb * math.exp(-k * dh / tb)
    t = tb + lapse * dh
    return t, pb * (tb / t) ** (k / lapse)


def pressure_pa(alt_m: float) -> float:
    """Static pressure (Pa) at geometric altitude ``alt_m``; US 1976 below 86 km, 0 above."""
    if alt_m >= US76_TOP_M:
        return 0.0
    return _us76_layer(max(alt_m, 0.0))[1]


def density_kg_m3(alt_m: float) -> float:
    """Air density (kg/m^3) at geometric altitude ``alt_m`` (negative altitudes clamp to sea level)."""
    if alt_m < US76_TOP_M:
        t, p = _us76_layer(max(alt_m, 0.0))
        return p * M0_KG_MOL / (R_STAR_J_MOL_K * t)
    i = bisect_right(_EXP_H_M, alt_m) - 1
    return _EXP_RHO[i] * math.exp(-(alt_m - _EXP_H_M[i]) / _EXP_SCALE_M[i])


def density_kg_m3_array(alt_m) -> np.ndarray:
    """Vectorized :func:`density_kg_m3` over an array of altitudes (m); same shape out."""
    alt = np.asarray(alt_m, dtype=float)
    return np.vectorize(density_kg_m3, otypes=[float])(alt)
