"""Coast propagation against scipy DOP853, UT ellipse against Monte Carlo, energy classification."""

import numpy as np
from fusion_truth import boost_truth, coast_impact
from scipy.stats import chi2

from vigil.frames import (
    GM_EARTH_M3_S2,
    OMEGA_EARTH_RAD_S,
    WGS84_A_M,
    ecef_to_geodetic,
    enu_basis,
    great_circle_distance_m,
)
from vigil.fusion.coast.classify import ThresholdEnergyClassifier
from vigil.fusion.coast.classify_sigma import EnergyClassifier
from vigil.fusion.coast.impact import UnscentedImpactPredictor, ellipse_from_cov, propagate_to_ground


def test_rk4_impact_matches_dop853_to_a_metre():
    tr = boost_truth()
    t_true, lat, lon = coast_impact(tr.r[-1], tr.v[-1], tr.burnout_time_s)
    tof, hit = propagate_to_ground(tr.r[-1], tr.v[-1])
    la, lo, _ = ecef_to_geodetic(hit[0])
    assert great_circle_distance_m(la, lo, lat, lon) < 1.0
    assert abs(tr.burnout_time_s + tof[0] - t_true) < 0.01


def test_unscented_ellipse_contains_95_percent_of_monte_carlo_impacts():
    tr = boost_truth()
    cov = np.diag([200.0**2] * 3 + [5.0**2] * 3)
    pred = UnscentedImpactPredictor().predict(tr.burnout_time_s, tr.r[-1], tr.v[-1], cov)
    rng = np.random.default_rng(2)
    x = rng.multivariate_normal(np.concatenate([tr.r[-1], tr.v[-1]]), cov, 400)
    _, hit = propagate_to_ground(x[:, :3], x[:, 3:])
    from vigil.frames import geodetic_to_ecef

    center = geodetic_to_ecef(pred.lat_rad, pred.lon_rad, 0.0)
    e, n, _ = enu_basis(pred.lat_rad, pred.lon_rad)
    en = np.stack([(hit - center) @ e, (hit - center) @ n], -1)
    m2 = np.einsum("ni,ij,nj->n", en, np.linalg.inv(pred.cov_en_m2), en)
    inside = np.mean(m2 <= chi2.ppf(0.95, 2))
    assert 0.92 <= inside <= 0.98  # binomial 1σ at n=400 is 1.1 %


def test_ellipse_axes_and_bearing_of_a_known_covariance():
    bearing, a, b = ellipse_from_cov(np.diag([4e6, 1e6]), 0.95)  # east σ 2 km, north σ 1 km
    k = np.sqrt(-2 * np.log(0.05))
    assert abs(bearing - 90.0) < 1e-9 and abs(a - 2 * k) < 1e-9 and abs(b - k) < 1e-9


def test_circular_orbit_is_space_launch_and_a_lob_is_ballistic():
    r = np.array([6378137.0 + 300e3, 0.0, 0.0])
    v_inertial = np.sqrt(GM_EARTH_M3_S2 / r[0])
    v_ecef = np.array([0.0, v_inertial - OMEGA_EARTH_RAD_S * r[0], 0.0])
    assert EnergyClassifier().classify(r, v_ecef) == "space_launch"
    tr = boost_truth()
    assert EnergyClassifier().classify(tr.r[-1], tr.v[-1]) == "ballistic"


def test_rk4_impact_of_long_coasts_matches_dop853_to_centimetres():
    """Four 22-39 min coasts at the default step: the impact within 5 cm of DOP853 (rtol 1e-11),
    the time of flight within 1e-5 s (the ground crossing found by false position on the last step)."""
    from vigil.frames import geodetic_to_ecef

    for lat, lon, az, speed, gamma, alt in [
        (45, 63, 30, 7000, 25, 250e3),
        (30, 100, 200, 7200, 20, 300e3),
        (10, -60, 90, 6000, 60, 400e3),
        (60, 10, 0, 7000, 10, 200e3),
    ]:
        la0, lo0, g, a = np.radians(lat), np.radians(lon), np.radians(gamma), np.radians(az)
        e, n, u = enu_basis(la0, lo0)
        r0 = geodetic_to_ecef(la0, lo0, alt)
        v0 = speed * (np.cos(g) * (np.sin(a) * e + np.cos(a) * n) + np.sin(g) * u)
        t_true, lat_t, lon_t = coast_impact(r0, v0, 0.0)
        tof, hit = propagate_to_ground(r0, v0)
        la, lo, alt_hit = ecef_to_geodetic(hit[0])
        assert t_true > 1200.0
        assert great_circle_distance_m(la, lo, lat_t, lon_t) < 0.05
        assert abs(tof[0] - t_true) < 1e-5 and abs(alt_hit) < 1e-3


def _numpy_ellipse(cov, containment):
    """The pre-round-7 ``ellipse_from_cov`` (``numpy.linalg.eigh``), the reference of the scalar 2×2 path."""
    vals, vecs = np.linalg.eigh(np.asarray(cov))
    k = np.sqrt(-2.0 * np.log(1.0 - containment))
    major = vecs[:, 1]
    bearing = float(np.degrees(np.arctan2(major[0], major[1])) % 180.0)
    return bearing, float(k * np.sqrt(max(vals[1], 0.0)) / 1e3), float(k * np.sqrt(max(vals[0], 0.0)) / 1e3)


def test_ellipse_equals_numpy_eigh():
    rng = np.random.default_rng(7)
    covs = []
    for _ in range(
        3000
    ):  # east/north covariances of every shape, size and orientation; a few asymmetric by round-off
        s, th = 10 ** rng.uniform(-3, 12, 2), rng.uniform(0.0, np.pi)
        rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        c = rot @ np.diag(s) @ rot.T
        c[1, 0] *= 1.0 + 1e-15 * rng.normal()
        covs.append(c)
    covs += [rng.normal(size=(2, 2)) * 10 ** rng.uniform(-5, 10) for _ in range(500)]  # indefinite too
    covs += [
        np.diag([4.0, 9.0]),
        np.diag([9.0, 4.0]),
        np.diag([5.0, 5.0]),
        np.zeros((2, 2)),
        np.array([[5.0, 1e-20], [1e-20, 3.0]]),
        np.array([[2.0, 2.0], [2.0, 2.0]]),
        np.diag([-5.0, 3.0]),
    ]
    exact = 0
    for c in covs:
        for p in (0.95, 0.5):
            got, want = ellipse_from_cov(c, p), _numpy_ellipse(c, p)
            exact += got == want
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * max(want))
    # bit for bit with numpy's OpenBLAS (reference LAPACK); a differently built LAPACK may round differently
    print(f"{exact} of {2 * len(covs)} ellipses bit-identical to numpy.linalg.eigh")
    for c in (np.full((2, 2), np.nan), np.diag([1.0, np.nan]), np.array([[1.0, 0.5], [np.inf, 2.0]])):
        np.testing.assert_array_equal(
            ellipse_from_cov(c, 0.95), _numpy_ellipse(c, 0.95)
        )  # NaN where numpy has


def test_classifier_scalar_path_agrees_with_array_path():
    """The scalar test decides only clear of every threshold, and then as the array path would."""
    from vigil.fusion.coast import classify as cl

    rng = np.random.default_rng(8)
    clf = ThresholdEnergyClassifier()
    decided = 0
    for _ in range(4000):
        lat, lon = rng.uniform(-1.2, 1.2), rng.uniform(-np.pi, np.pi)
        up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        r = (WGS84_A_M + rng.uniform(50e3, 600e3)) * up
        horizontal = np.cross(up, rng.normal(size=3))
        v = (
            rng.uniform(0.5, 1.1)
            * np.sqrt(GM_EARTH_M3_S2 / np.linalg.norm(r))
            * horizontal
            / np.linalg.norm(horizontal)
        )
        v += (
            rng.uniform(-0.3, 0.3) * np.linalg.norm(v) * up
        )  # flight-path angles of ~±17°, some near insertion
        fast = cl._clear_class(r, v, clf.perigee_min_alt_m)
        perigee = float(cl.perigee_altitude_m(r, v))
        expected = "space_launch" if perigee > clf.perigee_min_alt_m or clf._insertion(r, v) else "ballistic"
        assert fast in (None, expected)
        assert clf.classify(r, v) == expected
        decided += fast is not None
    assert decided > 3000
    assert cl._clear_class(np.full(3, np.nan), np.ones(3), 150e3) is None
    assert clf.classify(np.full(3, np.nan), np.ones(3)) == "unknown"


def test_states_propagated_together_land_as_each_alone():
    """``propagate_to_ground`` steps all states in one loop; each must get exactly its own impact."""
    tr = boost_truth()
    rng = np.random.default_rng(9)
    r = tr.r[-1] + rng.normal(scale=2e3, size=(13, 3))
    v = tr.v[-1] * rng.uniform(0.5, 4.0, size=(13, 1))  # 6 min to 85 min coasts, and 3 that never land (NaN)
    tof, hit = propagate_to_ground(r, v)
    for k in range(
        13
    ):  # bit for bit on the development machine; 1e-13 as multiply-adds may contract elsewhere
        tof_k, hit_k = propagate_to_ground(r[k], v[k])
        np.testing.assert_allclose(tof_k, tof[k : k + 1], rtol=1e-13)
        np.testing.assert_allclose(hit_k, hit[k : k + 1], rtol=1e-13)
