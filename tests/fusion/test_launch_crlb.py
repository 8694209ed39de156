"""Launch back-fit against the analytic truth, and the Cramér–Rao bounds' scaling laws."""

import numpy as np
import pytest
from fusion_truth import boost_truth, observe, sensors

from vigil.frames import great_circle_distance_m
from vigil.fusion.bounds.crlb import burnout_crlb, launch_crlb
from vigil.fusion.launch.backfit import AscentBackFitEstimator, fit_ascent, initial_phi

SIGMA = 20e-6


def _detections(seed, sensor_count=4, sigma=SIGMA):
    truth = boost_truth()
    b = observe([truth], sensors(count=sensor_count), np.random.default_rng(seed), sigma=sigma)
    return truth, b


def _seeds(truth, b, rng):
    st = np.linspace(b.time_s.min(), b.time_s.min() + 20, 6)
    return st, truth.state(st)[0] + rng.normal(0, 500.0, (6, 3))


def _true_phi(truth, b, estimator):
    """Model parameters of the truth: the fit to noise-free LOS (the geometry of the detections)."""
    model, keep = estimator.model_for(b.time_s)
    r, _ = truth.state(b.time_s[keep])
    u = (r - b.sensor_pos_ecef_m[keep]) / np.linalg.norm(r - b.sensor_pos_ecef_m[keep], axis=1, keepdims=True)
    phi0 = initial_phi(model, *_seeds(truth, b, np.random.default_rng(0)))
    phi, _, _ = fit_ascent(model, b.time_s[keep], b.sensor_pos_ecef_m[keep], u, b.los_sigma_rad[keep], phi0)
    return model, keep, phi


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_launch_point_within_2_km_and_a_few_crlb_and_azimuth_within_1_deg(seed):
    truth, b = _detections(seed)
    est = AscentBackFitEstimator()
    out = est.estimate(
        b.time_s,
        b.sensor_pos_ecef_m,
        b.los_ecef,
        b.los_sigma_rad,
        *_seeds(truth, b, np.random.default_rng(seed)),
    )
    miss = great_circle_distance_m(out.lat_rad, out.lon_rad, truth.lat_rad, truth.lon_rad)
    model, keep, phi = _true_phi(truth, b, est)
    bound = launch_crlb(model, phi, b.time_s[keep], b.sensor_pos_ecef_m[keep], b.los_sigma_rad[keep])
    radius = np.sqrt(np.trace(bound.cov_en_m2))
    assert miss <= 2000.0
    assert miss <= 5.0 * radius
    assert abs(np.degrees(out.azimuth_rad - truth.azimuth_rad)) <= 1.0


def test_crlb_scales_exactly_as_sigma_squared():
    truth, b = _detections(4)
    est = AscentBackFitEstimator()
    model, keep, phi = _true_phi(truth, b, est)
    args = (b.time_s[keep], b.sensor_pos_ecef_m[keep])
    lo = launch_crlb(model, phi, *args, b.los_sigma_rad[keep])
    hi = launch_crlb(model, phi, *args, 3.0 * b.los_sigma_rad[keep])
    np.testing.assert_allclose(hi.cov_en_m2, 9.0 * lo.cov_en_m2, rtol=1e-6)
    assert hi.time_sigma_s == pytest.approx(3.0 * lo.time_sigma_s, rel=1e-6)


def test_crlb_decreases_with_more_sensors():
    truth, b = _detections(5)
    est = AscentBackFitEstimator()
    model, keep, phi = _true_phi(truth, b, est)
    t, p, s = b.time_s[keep], b.sensor_pos_ecef_m[keep], b.los_sigma_rad[keep]
    sid = b.sensor_id[keep]
    two = np.isin(sid, ["geo-a", "geo-b"])
    three = np.isin(sid, ["geo-a", "geo-b", "heo-a"])
    b2 = launch_crlb(model, phi, t[two], p[two], s[two]).cov_en_m2
    b3 = launch_crlb(model, phi, t[three], p[three], s[three]).cov_en_m2
    b4 = launch_crlb(model, phi, t, p, s).cov_en_m2
    assert np.all(np.linalg.eigvalsh(b2 - b3) >= -1e-6 * np.trace(b2))
    assert np.all(np.linalg.eigvalsh(b3 - b4) >= -1e-6 * np.trace(b3))
    assert np.trace(b4) < np.trace(b2)


def test_burnout_crlb_scales_as_sigma_squared_and_is_positive():
    truth, b = _detections(6)
    r, _ = truth.state(b.time_s)
    c1 = burnout_crlb(b.time_s, b.sensor_pos_ecef_m, b.los_sigma_rad, r)
    c2 = burnout_crlb(b.time_s, b.sensor_pos_ecef_m, 2 * b.los_sigma_rad, r)
    np.testing.assert_allclose(c2, 4 * c1, rtol=1e-6, atol=1e-9)
    assert np.all(np.linalg.eigvalsh(c1) > 0)


def test_launch_point_angles_are_wrapped_to_their_ranges():
    """A fit may leave lat/lon outside their ranges (reference campaign: 134.96° and 239.32°); the estimate
    names the same ECEF point inside [-90°, 90°] × [-180°, 180°)."""
    from vigil.frames import geodetic_to_ecef
    from vigil.fusion.launch.backfit import wrap_lat_lon

    for lat, lon in [(134.96, 20.0), (-100.0, 170.0), (45.0, 239.32), (-30.0, -200.0), (270.0, 0.0)]:
        w_lat, w_lon = wrap_lat_lon(np.radians(lat), np.radians(lon))
        assert -np.pi / 2 <= w_lat <= np.pi / 2 and -np.pi <= w_lon < np.pi
        same = geodetic_to_ecef(w_lat, w_lon, 0.0) - geodetic_to_ecef(np.radians(lat), np.radians(lon), 0.0)
        assert np.linalg.norm(same) < 1e-6
