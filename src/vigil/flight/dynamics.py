"""Equations of motion of a point mass in the rotating Earth frame (ECEF), with switches for test limits.

    dr/dt = v
    dv/dt = g(r) + (T/m) u - (ρ |v| Cd A / 2m) v - 2 ω×v - ω×(ω×r)
    dm/dt = -mdot

``g``: WGS84 point mass plus J2 (Vallado, *Fundamentals of Astrodynamics*, 4th ed., eq. 8-29), a point
mass, or a uniform field; ρ: :mod:`vigil.flight.atmosphere`; ``T`` interpolates between sea-level and
vacuum thrust with the static pressure at constant mass flow; ``u`` is the steering law of the phase.
With ``rotating=False`` the same equations hold in an inertial frame that coincides with ECEF at t = 0
(no Coriolis, centrifugal terms; the air is then at rest in that frame). The right-hand side works on
Python floats: for a 7-element state it is several times faster than numpy calls on 3-vectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vigil.flight.atmosphere import density_kg_m3, pressure_pa
from vigil.frames import GM_EARTH_M3_S2, J2_EARTH, OMEGA_EARTH_RAD_S, WGS84_A_M, WGS84_B_M

P0_PA = 101325.0  # sea-level pressure, US 1976
GRAVITY_MODELS = ("uniform", "point", "j2")
# Orbit-insertion guidance gains (notional, tuned for a well-damped climb: natural frequency
# sqrt(K_V K_H) ≈ 0.02 rad/s, damping ≈ 1.1): vertical-rate command per metre of altitude error (1/s),
# vertical-acceleration command per m/s of vertical-rate error (1/s), and the rate command's limit (m/s).
GUIDANCE_K_H_1_S = 0.01
GUIDANCE_K_V_1_S = 0.05
GUIDANCE_VR_MAX_M_S = 1000.0
GUIDANCE_SIN_PITCH_LIMITS = (-0.7, 0.95)  # bounds on sin(pitch above the local horizontal), notional


@dataclass(frozen=True)
class EomOptions:
    """Switches of the equations of motion: Earth rotation, drag, gravity model.

    ``gravity``: ``'j2'`` (default), ``'point'`` or ``'uniform'``; the uniform field is the vector
    ``g_uniform_m_s2`` (ECEF, m/s^2), e.g. ``-g0`` times the launch site's up vector.
    """

    rotating: bool = True
    drag: bool = True
    gravity: str = "j2"
    g_uniform_m_s2: tuple[float, float, float] = (0.0, 0.0, -9.80665)


@dataclass(frozen=True)
class Phase:
    """Constant parameters of one integration phase (one stage burning, or coasting).

    ``steer``: ``'none'`` (no thrust), ``'fixed'`` (along the ECEF unit vector ``direction``),
    ``'velocity'`` (gravity turn: along the Earth-relative velocity) or ``'orbit'`` (closed-loop
    insertion into a circular orbit at ``target_alt_m``). Aerodynamics: ``area_m2`` × ``cd``.
    """

    steer: str = "none"
    thrust_vac_n: float = 0.0
    thrust_sl_n: float = 0.0
    mdot_kg_s: float = 0.0
    area_m2: float = 0.0
    cd: float = 0.0
    direction: tuple[float, float, float] = (0.0, 0.0, 1.0)
    target_alt_m: float = 0.0


def ellipsoid_height_m(x: float, y: float, z: float) -> float:
    """Height above the WGS84 ellipsoid along the geocentric radius (m).

    Exact (0) on the ellipsoid; differs from the geodetic height by < 1 m below 100 km (second order in
    the flattening times height/radius), which is why it serves for drag and the impact event.
    """
    r = math.sqrt(x * x + y * y + z * z)
    s2 = z * z / (r * r)
    r_ell = WGS84_A_M * WGS84_B_M / math.sqrt(WGS84_B_M**2 * (1.0 - s2) + WGS84_A_M**2 * s2)
    return r - r_ell


def gravity(x: float, y: float, z: float, opts: EomOptions) -> tuple[float, float, float]:
    """Gravitational acceleration (m/s^2) at ECEF (x, y, z) (m) under ``opts.gravity``."""
    if opts.gravity == "uniform":
        return opts.g_uniform_m_s2
    r2 = x * x + y * y + z * z
    k = -GM_EARTH_M3_S2 / (r2 * math.sqrt(r2))
    if opts.gravity == "point":
        return k * x, k * y, k * z
    f = 1.5 * J2_EARTH * WGS84_A_M**2 / r2
    zz = 5.0 * z * z / r2
    kxy = k * (1.0 + f * (1.0 - zz))
    return kxy * x, kxy * y, k * z * (1.0 + f * (3.0 - zz))


def _orbit_steering(r: list, v: list, accel_thrust: float, phase: Phase, rotating: bool) -> tuple:
    """Unit thrust vector steering to a circular orbit at ``phase.target_alt_m`` (notional guidance).

    Commands a vertical rate proportional to the altitude error and the vertical acceleration that
    reaches it, on top of the net gravity ``GM/r^2 - v_h^2/r``; the rest of the thrust goes along the
    inertial horizontal velocity.
    """
    x, y, z = r
    rn = math.sqrt(x * x + y * y + z * z)
    ur = (x / rn, y / rn, z / rn)
    w = OMEGA_EARTH_RAD_S if rotating else 0.0
    vi = (v[0] - w * y, v[1] + w * x, v[2])
    vr = vi[0] * ur[0] + vi[1] * ur[1] + vi[2] * ur[2]
    vh = (vi[0] - vr * ur[0], vi[1] - vr * ur[1], vi[2] - vr * ur[2])
    vh_n = math.sqrt(vh[0] ** 2 + vh[1] ** 2 + vh[2] ** 2)
    vr_cmd = GUIDANCE_K_H_1_S * (phase.target_alt_m - ellipsoid_height_m(x, y, z))
    vr_cmd = min(max(vr_cmd, -GUIDANCE_VR_MAX_M_S), GUIDANCE_VR_MAX_M_S)
    ar_cmd = GM_EARTH_M3_S2 / rn**2 - vh_n**2 / rn + GUIDANCE_K_V_1_S * (vr_cmd - vr)
    lo, hi = GUIDANCE_SIN_PITCH_LIMITS
    s = min(max(ar_cmd / accel_thrust, lo), hi)
    c = math.sqrt(1.0 - s * s)
    return tuple(s * ur[i] + c * vh[i] / vh_n for i in range(3))


def _thrust_direction(r: list, v: list, accel: float, phase: Phase, opts: EomOptions) -> tuple:
    if phase.steer == "fixed":
        return phase.direction
    if phase.steer == "orbit":
        return _orbit_steering(r, v, accel, phase, opts.rotating)
    vn = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
    return (v[0] / vn, v[1] / vn, v[2] / vn) if vn > 1e-9 else phase.direction


def derivatives(t: float, y, phase: Phase, opts: EomOptions) -> list[float]:
    """d/dt of the state ``y = [x, y, z, vx, vy, vz, m]`` (ECEF m, m/s, kg) at time ``t`` (s)."""
    r = [y[0], y[1], y[2]]
    v = [y[3], y[4], y[5]]
    m = y[6]
    a = list(gravity(r[0], r[1], r[2], opts))
    need_alt = opts.drag or phase.steer != "none"
    h = ellipsoid_height_m(r[0], r[1], r[2]) if need_alt else 0.0
    mdot = 0.0
    if phase.steer != "none":
        thrust = phase.thrust_vac_n - (phase.thrust_vac_n - phase.thrust_sl_n) * pressure_pa(h) / P0_PA
        u = _thrust_direction(r, v, thrust / m, phase, opts)
        a = [a[i] + thrust / m * u[i] for i in range(3)]
        mdot = phase.mdot_kg_s
    if opts.drag and phase.cd * phase.area_m2 > 0.0 and h < 1.0e6:
        vn = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
        k = -0.5 * density_kg_m3(h) * vn * phase.cd * phase.area_m2 / m
        a = [a[i] + k * v[i] for i in range(3)]
    if opts.rotating:
        w = OMEGA_EARTH_RAD_S
        a[0] += 2.0 * w * v[1] + w * w * r[0]
        a[1] += -2.0 * w * v[0] + w * w * r[1]
    return [v[0], v[1], v[2], a[0], a[1], a[2], -mdot]


def potential_j2(r_m) -> np.ndarray:
    """Gravitational potential U (m^2/s^2, positive, g = ∇U) of WGS84 point mass + J2 at ``(..., 3)`` m."""
    r = np.asarray(r_m, dtype=float)
    rn = np.linalg.norm(r, axis=-1)
    s2 = (r[..., 2] / rn) ** 2
    return GM_EARTH_M3_S2 / rn * (1.0 - 0.5 * J2_EARTH * (WGS84_A_M / rn) ** 2 * (3.0 * s2 - 1.0))


def jacobi_energy(r_ecef_m, v_ecef_m_s) -> np.ndarray:
    """Jacobi integral in the rotating frame, E = v²/2 − U_J2 − ½|ω×r|² (J/kg), shape ``(...)``.

    Conserved by thrust-free, drag-free motion in the rotating frame with J2 gravity (the J2 field is
    axisymmetric, hence stationary in ECEF).
    """
    r = np.asarray(r_ecef_m, dtype=float)
    v = np.asarray(v_ecef_m_s, dtype=float)
    rho2 = r[..., 0] ** 2 + r[..., 1] ** 2
    return 0.5 * np.sum(v * v, axis=-1) - potential_j2(r) - 0.5 * OMEGA_EARTH_RAD_S**2 * rho2
