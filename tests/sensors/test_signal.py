"""Signal and detection kernels against analytic values and sampling statistics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from vigil.errors import ConfigError
from vigil.frames import (
    C_LIGHT_M_S,
    OMEGA_EARTH_RAD_S,
    WGS84_A_M,
    ecef_to_geodetic,
    elevation_rad,
    geodetic_to_ecef,
    teme_to_ecef,
    up_vector,
)
from vigil.sensors.signal import (
    SignalModel,
    detect,
    detection_probability,
    false_alarm_snr,
    irradiance_w_m2,
    light_time_solve,
    perturb_los,
    sample_visible_cap,
    signal_to_noise,
    tangent_basis,
    to_reception_frame,
    visible_cap_half_angle_rad,
)

GEO_RADIUS_M = 42_164_170.0  # GM^(1/3) (sidereal day / 2π)^(2/3)


def test_irradiance_is_inverse_square_and_snr_divides_by_nei():
    e = irradiance_w_m2(1e6, 1e7)
    assert e == pytest.approx(1e-8, rel=1e-15)
    assert signal_to_noise(e, 1e-12) == pytest.approx(1e4, rel=1e-12)


def test_pd_is_half_at_snr50_and_84_percent_one_unit_above():
    assert detection_probability(6.0, 6.0) == pytest.approx(0.5, abs=1e-15)
    assert detection_probability(7.0, 6.0) == pytest.approx(0.8413447460685429, abs=1e-12)
    assert detection_probability(0.0, 6.0) == pytest.approx(9.865876450377e-10, rel=1e-9)


def test_detect_frequency_matches_pd():
    rng = np.random.default_rng(3)
    n = 200_000
    hit, measured = detect(np.full(n, 6.5), 6.0, rng)
    pd = detection_probability(6.5, 6.0)
    assert abs(hit.mean() - pd) < 4 * np.sqrt(pd * (1 - pd) / n)
    assert np.all(measured[hit] >= 6.0) and np.all(measured[~hit] < 6.0)


def test_false_alarm_snr_is_the_gaussian_tail_above_threshold():
    threshold = 6.0
    x = false_alarm_snr(100_000, threshold, np.random.default_rng(4))
    assert x.min() >= threshold
    mean = norm.pdf(threshold) / norm.sf(threshold)  # inverse Mills ratio
    var = 1 + threshold * mean - mean**2
    assert abs(x.mean() - mean) < 4 * np.sqrt(var / len(x))


def test_signal_model_rejects_nonphysical_parameters():
    with pytest.raises(ConfigError, match="nei_w_m2"):
        SignalModel(nei_w_m2=0.0)
    with pytest.raises(ConfigError, match="false_alarms_per_frame"):
        SignalModel(false_alarms_per_frame=-1.0)


def test_los_noise_has_sigma_per_tangent_axis_and_unit_norm():
    rng = np.random.default_rng(5)
    u = np.tile([0.3, -0.4, np.sqrt(1 - 0.25)], (20_000, 1))
    sigma = 20e-6
    noisy = perturb_los(u, sigma, rng)
    assert np.abs(np.linalg.norm(noisy, axis=-1) - 1).max() < 1e-15
    e1, e2 = tangent_basis(u)
    for e in (e1, e2):
        comp = np.einsum("ij,ij->i", noisy, e)
        assert abs(comp.std() / sigma - 1) < 0.03
        assert abs(comp.mean()) < 4 * sigma / np.sqrt(len(comp))


def test_reception_frame_rotation_is_the_earth_rotation_of_the_light_time():
    r = np.array([[7e6, -2e6, 3e6]])
    dt = 0.12
    expected = teme_to_ecef(r[None], np.array([OMEGA_EARTH_RAD_S * dt]))[
        0
    ]  # fixed inertial point, ECEF later
    assert np.allclose(to_reception_frame(r, dt), expected, atol=1e-9)


def test_light_time_from_geo_to_the_subsatellite_point_is_0_12_s():
    r_sat = np.array([[GEO_RADIUS_M, 0.0, 0.0]])
    ground = geodetic_to_ecef(0.0, 0.0, 0.0)
    t_emit, _, r_rx = light_time_solve(np.array([100.0]), r_sat, lambda t: np.tile(ground, (len(t), 1)))
    expected = (GEO_RADIUS_M - WGS84_A_M) / C_LIGHT_M_S
    # the point moves east by ω R dt during the flight of the light: second-order change of the range only
    assert 100.0 - t_emit[0] == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(0.1194, abs=1e-4)
    assert np.linalg.norm(r_rx[0] - ground) == pytest.approx(
        OMEGA_EARTH_RAD_S * expected * WGS84_A_M, rel=1e-6
    )


def test_light_time_of_a_moving_point_solves_the_implicit_equation():
    r_sat = np.array(
        [[0.0, 0.0, 4e7]]
    )  # on the rotation axis: the Sagnac rotation leaves the range unchanged
    v = np.array([0.0, 7000.0, 3000.0])
    r0 = np.array([6.5e6, 0.0, 0.0])
    t_emit, r_emit, _ = light_time_solve(np.array([10.0]), r_sat, lambda t: r0 + v * t[:, None])
    residual = t_emit[0] - 10.0 + np.linalg.norm(r0 + v * t_emit[0] - r_sat[0]) / C_LIGHT_M_S
    assert abs(residual) < 1e-15
    assert np.allclose(r_emit[0], r0 + v * t_emit[0], atol=1e-9)


def test_geo_sees_a_cap_of_81_3_degrees_at_zero_elevation():
    lam = visible_cap_half_angle_rad(GEO_RADIUS_M, 0.0, None)
    assert np.degrees(lam) == pytest.approx(np.degrees(np.arccos(WGS84_A_M / GEO_RADIUS_M)), abs=1e-12)
    assert np.degrees(lam) == pytest.approx(81.30, abs=0.01)
    # a field of regard smaller than the Earth's angular radius (8.7°) shrinks the cap
    assert visible_cap_half_angle_rad(GEO_RADIUS_M, 0.0, 5.0) < lam


def test_cap_samples_lie_on_the_surface_above_the_minimum_elevation_and_are_area_uniform():
    rng = np.random.default_rng(6)
    n = 40_000
    r_sat = np.tile([GEO_RADIUS_M * np.cos(0.3), GEO_RADIUS_M * np.sin(0.3), 0.0], (n, 1))
    pts = sample_visible_cap(r_sat, 5.0, None, rng)
    lat, lon, alt = ecef_to_geodetic(pts)
    assert np.abs(alt).max() < 1e-3
    elev = np.degrees(elevation_rad(pts, up_vector(lat, lon), r_sat))
    assert elev.min() > 5.0 - 0.2  # geodetic vs geocentric normal differ by < 0.2°
    cos_lam = np.einsum("ij,ij->i", pts / np.linalg.norm(pts, axis=-1, keepdims=True), r_sat / GEO_RADIUS_M)
    lam_max = visible_cap_half_angle_rad(GEO_RADIUS_M, 5.0, None)
    # equal-area halves of the cap in cos λ: each gets half of the points
    inner = (cos_lam > (1 + np.cos(lam_max)) / 2).mean()
    assert abs(inner - 0.5) < 4 * np.sqrt(0.25 / n)
