"""Equations of motion against analytic limits and invariants."""

import math

import numpy as np
import pytest

from vigil.flight.dynamics import EomOptions, Phase, derivatives, gravity, jacobi_energy, potential_j2
from vigil.flight.launch import coast
from vigil.frames import (
    OMEGA_EARTH_RAD_S,
    ecef_to_geodetic,
    enu_basis,
    geodetic_to_ecef,
)

G0 = 9.80665
SITE = (math.radians(45.0), math.radians(63.3))


def _site_state(speed_m_s, gamma_deg, azimuth_deg=40.0, alt_m=0.0):
    east, north, up = enu_basis(*SITE)
    horiz = math.sin(math.radians(azimuth_deg)) * east + math.cos(math.radians(azimuth_deg)) * north
    g = math.radians(gamma_deg)
    return geodetic_to_ecef(*SITE, alt_m), speed_m_s * (math.cos(g) * horiz + math.sin(g) * up), up


@pytest.mark.parametrize("gamma_deg", [30.0, 45.0, 70.0])
def test_vacuum_flat_uniform_gravity_matches_analytic_range(gamma_deg):
    r0, v0, up = _site_state(200.0, gamma_deg)
    opts = EomOptions(rotating=False, drag=False, gravity="uniform", g_uniform_m_s2=tuple(-G0 * up))
    tr = coast(r0, v0, 600.0, opts)
    rng = np.linalg.norm(tr.r_ecef_m[-1] - r0)
    analytic = 200.0**2 * math.sin(2 * math.radians(gamma_deg)) / G0  # R = v² sin 2γ / g
    assert rng == pytest.approx(analytic, rel=1e-3)
    tof = tr.events["impact"] - tr.t_s[0]
    assert tof == pytest.approx(2 * 200.0 * math.sin(math.radians(gamma_deg)) / G0, rel=1e-3)


def test_free_flight_conserves_jacobi_energy_over_30_min():
    r0, v0, _ = _site_state(6800.0, 25.0, alt_m=300e3)
    tr = coast(r0, v0, 1800.0, EomOptions(rotating=True, drag=False, gravity="j2"))
    assert tr.t_s[-1] == pytest.approx(1800.0)  # still flying: the whole 30 min are tested
    e = jacobi_energy(tr.r_ecef_m, tr.v_ecef_m_s)
    assert np.max(np.abs(e / e[0] - 1.0)) < 1e-6


def test_rotating_frame_equals_rotated_inertial_solution():
    # Coriolis and centrifugal terms: integrating in ECEF must equal integrating inertially and rotating.
    r0, v_rel, _ = _site_state(6000.0, 30.0, alt_m=200e3)
    v_in = v_rel + np.cross([0.0, 0.0, OMEGA_EARTH_RAD_S], r0)
    rot = coast(r0, v_rel, 1200.0, EomOptions(rotating=True, drag=False))
    ine = coast(r0, v_in, 1200.0, EomOptions(rotating=False, drag=False))
    th = OMEGA_EARTH_RAD_S * 1200.0
    c, s = math.cos(th), math.sin(th)
    r_in = ine.state_at(1200.0)[0]
    r_rot = np.array([c * r_in[0] + s * r_in[1], -s * r_in[0] + c * r_in[1], r_in[2]])
    assert np.linalg.norm(rot.state_at(1200.0)[0] - r_rot) < 1.0  # metres


def test_j2_gravity_is_gradient_of_potential():
    r = np.array([3.1e6, -4.2e6, 4.4e6])
    g = np.array(gravity(*r, EomOptions()))
    h = 1.0
    grad = [(potential_j2(r + h * e) - potential_j2(r - h * e)) / (2 * h) for e in np.eye(3)]
    assert np.allclose(g, grad, rtol=1e-7)


def test_drag_decelerates_along_velocity_at_published_density():
    # at 10 km, 300 m/s, Cd·A/m = 1e-3 m²/kg: |a_drag| = ½ ρ v² Cd A / m with ρ(US76, 10 km) = 0.41351
    r0, v0, _ = _site_state(300.0, 0.0, alt_m=10e3)
    base = EomOptions(rotating=False, gravity="point")
    ph = Phase(area_m2=1.0, cd=1.0)
    y = [*r0, *v0, 1000.0]
    with_drag = np.array(derivatives(0.0, y, ph, base)[3:6])
    without = np.array(derivatives(0.0, y, ph, EomOptions(rotating=False, drag=False, gravity="point"))[3:6])
    drag = with_drag - without
    alt = ecef_to_geodetic(r0)[2]
    assert alt == pytest.approx(10e3, abs=1e-3)
    assert np.linalg.norm(drag) == pytest.approx(0.5 * 0.41351 * 300.0**2 * 1e-3, rel=2e-3)
    assert np.dot(drag, v0) / (np.linalg.norm(drag) * 300.0) == pytest.approx(-1.0)
