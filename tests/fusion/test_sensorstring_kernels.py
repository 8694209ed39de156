"""The compiled / batched paths of the fusion chain against independent truth or their plain references.

Array-backed strings, triangulated seeds, pair costs, the batched boost filter, the batched launch-time seed
scan and the polynomial LOS Jacobian replace per-object Python for throughput (bench/bench_fusion.py);
each must give what the plain computation gives.
"""

from types import SimpleNamespace

import numpy as np
from fusion_truth import boost_truth, noisy_los, observe, sensors

from vigil.fusion.association.associate import detections_and_seeds, pair_cost, triangulation_seeds
from vigil.fusion.boost.batch import run_filters
from vigil.fusion.boost.filter import LosExtendedKalmanFilter
from vigil.fusion.boost.rays import LosRays
from vigil.fusion.events.event import FusedEvent
from vigil.fusion.geometry.polytrack import los_design
from vigil.fusion.geometry.triangulate import closest_approach, triangulate
from vigil.fusion.launch.backfit import (
    TL_GRID_S,
    AscentBackFitEstimator,
    AscentModel,
    fit_ascent,
    initial_phi,
    summarize,
)
from vigil.fusion.launch.seedscan import seed_start
from vigil.fusion.strings.stringer import INITIAL_CAPACITY, SensorString

ONE_MM = 1e-3
SIGMA = 20e-6


def _strings(truth, times, sigma=0.0, rng=None):
    """One string per fixed sensor seeing ``truth`` at ``times`` (LOS noise ``sigma``)."""
    r, _ = truth.state(times)
    out = []
    for k, (name, partner, pos) in enumerate(sensors()):
        u = (
            noisy_los(r, pos, sigma, rng)
            if sigma
            else (r - pos) / np.linalg.norm(r - pos, axis=1, keepdims=True)
        )
        s = SensorString(k + 1, name, partner)
        for i, t in enumerate(times):
            s.append(1000 * k + i, t, pos, u[i], SIGMA)
        out.append(s)
    return out, r


def test_array_strings_grow_split_and_keep_their_views():
    s = SensorString(1, "a", "p")
    n = 3 * INITIAL_CAPACITY + 5  # two reallocations
    for i in range(n):
        s.append(i, float(i), [i, 0.0, 0.0], [0.0, 0.0, 1.0], 1e-5)
    head_view = s.times
    assert len(s) == n and s.first_time == 0.0 and s.last_time == n - 1
    np.testing.assert_array_equal(s.times, np.arange(n))
    np.testing.assert_array_equal(s.positions[:, 0], np.arange(n))
    s.truncate(10)
    s.append(99, 99.0, [0.0, 0.0, 0.0], [0.0, 0.0, 1.0], 1e-5)
    assert s.last_time == 99.0 and len(s) == 11 and head_view[10] == 10.0  # an earlier view is untouched


def test_seeds_of_noise_free_synchronous_rays_are_the_true_positions():
    truth = boost_truth()
    times = np.arange(160.0, 200.0, 1.0)
    strings, r = _strings(truth, times)
    t, pts = triangulation_seeds(strings)
    np.testing.assert_array_equal(t, times)
    assert np.abs(pts - r).max() < ONE_MM


def test_seeds_equal_the_batched_triangulation_of_interpolated_rays():
    truth = boost_truth()
    rng = np.random.default_rng(3)
    strings, _ = _strings(truth, np.arange(160.0, 190.0, 1.0), SIGMA, rng)
    late, _ = _strings(truth, np.arange(170.3, 200.3, 1.0), SIGMA, rng)  # asynchronous, partly overlapping
    group = [strings[0], late[1], late[2]]
    t, pts = triangulation_seeds(group)
    ref_t = strings[0].times
    rays = [(strings[0].positions, strings[0].los)] + [s.interpolate(ref_t) for s in group[1:]]
    pos, los = np.stack([p for p, _ in rays], 1), np.stack([u for _, u in rays], 1)
    keep = np.isfinite(los).all(-1)
    assert np.array_equal(t, ref_t[keep.sum(1) >= 2])
    for k, tk in enumerate(t):
        row = int(np.flatnonzero(ref_t == tk)[0])
        x, _ = triangulate(pos[row][keep[row]], los[row][keep[row]], np.full(keep[row].sum(), SIGMA))
        assert np.linalg.norm(pts[k] - x) < ONE_MM


def test_one_pass_detections_and_seeds_equal_the_event_detections_and_the_seeds():
    truth = boost_truth()
    rng = np.random.default_rng(5)
    early, _ = _strings(truth, np.arange(160.0, 196.0, 1.0), SIGMA, rng)
    late, _ = _strings(truth, np.arange(170.3, 200.3, 1.0), SIGMA, rng)
    # reference early[0] (longest); late[0] is its sensor's (not a ray of another sensor); early[1] ties in time
    group = [late[1], early[0], late[2], late[0], early[1]]
    (t, p, u, sigma), (seed_t, seed_p) = detections_and_seeds(group)
    for got, want in zip((t, p, u, sigma), FusedEvent("E", list(group)).detections(), strict=True):
        np.testing.assert_array_equal(got, want)
    want_t, want_p = triangulation_seeds(group)
    np.testing.assert_array_equal(seed_t, want_t)
    np.testing.assert_array_equal(seed_p, want_p)
    _, (times_only, none) = detections_and_seeds(group, triangulate=False)
    np.testing.assert_array_equal(times_only, want_t)
    assert none is None
    _, (alone_t, alone_p) = detections_and_seeds([early[0], late[0]])  # one sensor: no seeds
    assert alone_t.shape == (0,) and alone_p.shape == (0, 3)


def test_back_fit_estimate_is_the_plain_window_fit_and_summary():
    """The estimator's compiled window and fit (``window_data``, ``backfit``) give what ``model_for``,
    ``fit_ascent`` and ``summarize`` give, bit for bit; seed points given as a function are the same."""
    truth = boost_truth()
    b = observe([truth], sensors(), np.random.default_rng(7))
    args = (b.time_s, b.sensor_pos_ecef_m, b.los_ecef, b.los_sigma_rad)
    seed_t = np.linspace(b.time_s.min(), b.time_s.min() + 20, 6)
    seed_p = truth.state(seed_t)[0] + np.random.default_rng(8).normal(0, 500.0, (6, 3))
    est = AscentBackFitEstimator()
    model, keep = est.model_for(b.time_s)
    phi0 = initial_phi(model, seed_t, seed_p)
    phi, cov, _ = fit_ascent(model, *(a[keep] for a in args), phi0, *est.prior_for(b.time_s[keep]))
    want = summarize(model, phi, cov)
    got = est.estimate(*args, seed_t, seed_p, previous=SimpleNamespace(phi=phi0))
    for name in ("time_s", "time_sigma_s", "lat_rad", "lon_rad", "azimuth_rad", "azimuth_sigma_rad"):
        assert getattr(got, name) == getattr(want, name)
    np.testing.assert_array_equal(got.cov_en_m2, want.cov_en_m2)
    np.testing.assert_array_equal(got.phi, want.phi)
    assert (got.t_first_s, got.t_last_s, got.n_detections) == (b.time_s.min(), model.t_last, keep.sum())
    scanned = est.estimate(*args, seed_t, seed_p)
    lazily = est.estimate(*args, seed_t, lambda: seed_p)
    np.testing.assert_array_equal(lazily.phi, scanned.phi)


def test_pair_cost_is_zero_for_one_object_and_matches_closest_approach():
    truth = boost_truth()
    strings, _ = _strings(truth, np.arange(160.0, 180.0, 1.0))
    assert pair_cost(strings[0], strings[1]) < 1e-6  # noise-free rays of one object intersect
    noisy, _ = _strings(truth, np.arange(160.0, 180.0, 1.0), SIGMA, np.random.default_rng(8))
    a, b = noisy[0], noisy[2]
    miss, _, s, t = closest_approach(a.positions, a.los, b.positions, b.los)
    ref = np.mean(miss**2 / ((SIGMA * s) ** 2 + (SIGMA * t) ** 2))
    assert abs(pair_cost(a, b) - ref) < 1e-9 * ref


def test_batched_filters_equal_one_filter_at_a_time():
    truth = boost_truth()
    b = observe([truth], sensors(), np.random.default_rng(5))
    b = b.take(np.argsort(b.time_s, kind="stable"))
    cut = np.searchsorted(b.time_s, 190.0)
    x0 = np.concatenate([truth.state([b.time_s[0]])[0][0], np.zeros(6)])
    p0 = np.diag(np.repeat([2e3, 1.5e3, 30.0], 3) ** 2)
    single = [LosExtendedKalmanFilter(b.time_s[0], x0, p0) for _ in range(2)]
    batched = [LosExtendedKalmanFilter(b.time_s[0], x0, p0) for _ in range(2)]
    parts = [np.arange(cut), np.arange(cut // 2)]
    for f, rows in zip(single, parts, strict=True):
        f.run(b.time_s[rows], b.sensor_pos_ecef_m[rows], b.los_ecef[rows], b.los_sigma_rad[rows])
    rows = np.concatenate(parts)
    run_filters(
        batched,
        np.cumsum([len(p) for p in parts]),
        LosRays(b.time_s[rows], b.sensor_pos_ecef_m[rows], b.los_ecef[rows], b.los_sigma_rad[rows]),
    )
    for f, g in zip(single, batched, strict=True):
        np.testing.assert_array_equal(f.x, g.x)
        np.testing.assert_array_equal(f.P, g.P)
        assert f.t == g.t


def test_batched_seed_scan_equals_the_estimators_scan():
    truth = boost_truth()
    times = np.arange(160.0, 200.0, 1.0)
    rng = np.random.default_rng(2)
    pts = truth.state(times)[0] + rng.normal(0.0, 300.0, (times.size, 3))
    for degree in (3, 4):
        model = AscentModel(degree, float(times[-1]))
        ref = initial_phi(model, times, pts)
        fast = seed_start(degree, model.first_horizontal, times, pts, TL_GRID_S)
        assert np.abs(fast[:2] - ref[:2]).max() < 1e-12 and fast[2] == ref[2]
        np.testing.assert_allclose(fast[3:], ref[3:], rtol=1e-6, atol=1e-6)


def test_polynomial_los_jacobian_matches_finite_differences():
    truth = boost_truth()
    times = np.arange(160.0, 180.0, 1.0)
    strings, r = _strings(truth, times)
    t, p, u, _ = (np.concatenate([s.arrays()[k] for s in strings]) for k in range(4))
    theta = np.concatenate([r[10], (r[11] - r[9]) / 2, np.zeros(3)])
    z, h = los_design(theta, 170.0, 2, t, p, u)
    for k in range(theta.size):
        step = 1.0 if k < 6 else 0.01
        d = np.zeros(theta.size)
        d[k] = step
        zp, _ = los_design(theta + d, 170.0, 2, t, p, u)
        zm, _ = los_design(theta - d, 170.0, 2, t, p, u)
        np.testing.assert_allclose(h[:, k], (zp - zm) / (2 * step), rtol=1e-4, atol=1e-12)
