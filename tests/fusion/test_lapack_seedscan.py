"""Compiled replacements of numpy calls in the fusion loop give numpy's bits, not merely close values.

The launch seed scans, the polynomial start and the triangulation solve call LAPACK/BLAS from compiled code
(:mod:`vigil.fusion.geometry.lapack`, :func:`vigil.fusion.launch.seedscan.seed_start`, :func:`~vigil.fusion.launch.backfit.initial_phi`,
:func:`~vigil.fusion.geometry.polytrack.initial_theta`, :func:`~vigil.fusion.boost.batch.start_filter`) to save numpy's per-call wrapping; the engine's results are
unchanged only if each returns exactly what the numpy code it replaced returned. Each is compared here, bit for
bit, with that numpy code written out.
"""

import math

import numpy as np
import pytest

from vigil.frames import ecef_to_geodetic, enu_basis
from vigil.fusion.boost.batch import start_filter
from vigil.fusion.boost.filter import LosExtendedKalmanFilter
from vigil.fusion.boost.rays import LosRays
from vigil.fusion.geometry.lapack import pivots, solve
from vigil.fusion.geometry.polytrack import basis, initial_theta
from vigil.fusion.launch.ascentnormal import FACTORIALS
from vigil.fusion.launch.backfit import TL_GRID_S, AscentModel, initial_phi
from vigil.fusion.launch.seedscan import _enu, _numpy_sum, seed_start


def _seed_case(rng, k, degree=None):
    """Seed times and noisy points of an ascent from a random surface point (ECEF, m)."""
    times = np.sort(rng.uniform(0.0, 40.0, k)) + 1000.0
    lat, lon = rng.uniform(-1.2, 1.2), rng.uniform(-3.0, 3.0)
    ground = 6.39e6 * np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    v = rng.normal(size=3)
    rise = (times - times[0] + 30.0) ** 2 * rng.uniform(5.0, 30.0)
    points = ground + np.outer(rise, v / np.linalg.norm(v)) + rng.normal(0.0, 300.0, (k, 3))
    return times, points, degree or (int(rng.choice([3, 4])) if k >= 4 else 3)


def _stacked_seed_start(degree, first_horizontal, seed_times, seed_points, lags_s):
    """The numpy seed scan that :func:`seed_start` compiles (stacked QR, einsum, solve, matmul, sum)."""
    t_l = seed_times.min() - np.asarray(lags_s, dtype=float)
    tau = seed_times[None, :] - t_l[:, None]
    a = np.empty(tau.shape + (degree,))
    a[..., 0] = 1.0
    for k in range(2, degree + 1):
        a[..., k - 1] = tau**k / FACTORIALS[k]
    q, r = np.linalg.qr(a)
    coef = np.linalg.solve(r, np.einsum("lkd,kc->ldc", q, seed_points))
    lat, lon, alt = ecef_to_geodetic(coef[:, 0])
    resid = np.sum((a @ coef - seed_points) ** 2, axis=(1, 2)) + alt**2
    best = int(np.argmin(resid))
    lat, lon, coef = float(lat[best]), float(lon[best]), coef[best, 1:]
    east, north, up = _enu(lat, lon)
    horiz = coef @ east, coef @ north
    az = math.atan2(float(np.sum(horiz[0] * np.abs(horiz[0]))), float(np.sum(horiz[1] * np.abs(horiz[1]))))
    along = math.sin(az) * east + math.cos(az) * north
    return np.concatenate([[lat, lon, t_l[best], az], coef @ up, (coef @ along)[first_horizontal - 2 :]])


def _lag_by_lag_initial_phi(model, seed_times, seed_points):
    """The numpy launch-time scan that :func:`initial_phi` batches (one ``lstsq`` per lag)."""
    best = None
    for lag in TL_GRID_S:
        t_l = seed_times.min() - lag
        tau = seed_times - t_l
        a = np.stack(
            [np.ones_like(tau)] + [tau**k / math.factorial(k) for k in range(2, model.degree + 1)], -1
        )
        coef, *_ = np.linalg.lstsq(a, seed_points, rcond=None)
        lat, lon, alt = ecef_to_geodetic(coef[0])
        resid = np.sum((a @ coef - seed_points) ** 2) + float(alt) ** 2
        if best is None or resid < best[0]:
            best = (resid, float(lat), float(lon), t_l, coef[1:])
    _, lat, lon, t_l, coef = best
    east, north, up = enu_basis(lat, lon)
    horiz = coef @ east, coef @ north
    az = math.atan2(float(np.sum(horiz[0] * np.abs(horiz[0]))), float(np.sum(horiz[1] * np.abs(horiz[1]))))
    along = math.sin(az) * east + math.cos(az) * north
    return np.concatenate([[lat, lon, t_l, az], coef @ up, (coef @ along)[model.first_horizontal - 2 :]])


def test_compiled_seed_scan_is_the_stacked_numpy_scan_bit_for_bit():
    rng = np.random.default_rng(11)
    for k in [3, 3, 4, 4, 5, 8, 13, 30, 45, 59]:  # 45+ seeds: residual sums past numpy's 128-term block
        times, points, degree = _seed_case(rng, k)
        got = seed_start(degree, 3, times, points, TL_GRID_S)
        want = _stacked_seed_start(degree, 3, times, points, TL_GRID_S)
        assert np.array_equal(got, want), k


def test_batched_initial_phi_is_the_lag_by_lag_scan_bit_for_bit():
    rng = np.random.default_rng(12)
    for k in [3, 4, 6, 12, 39]:
        times, points, degree = _seed_case(rng, k)
        model = AscentModel(degree, float(times[-1]))
        assert np.array_equal(
            initial_phi(model, times, points), _lag_by_lag_initial_phi(model, times, points)
        ), k


def test_initial_theta_is_numpy_lstsq_bit_for_bit():
    rng = np.random.default_rng(13)
    for n, degree in [(1, 0), (2, 1), (2, 2), (3, 2), (10, 3), (79, 4), (150, 4)]:
        t = np.sort(rng.uniform(0.0, 100.0, n))
        points = rng.normal(0.0, 1e6, (n, 3)) + np.outer(t**2, rng.normal(size=3))
        want = np.linalg.lstsq(basis(t - t[-1], degree), points, rcond=None)[0].reshape(-1)
        assert np.array_equal(initial_theta(t, points, degree, float(t[-1])), want), (n, degree)


def test_compiled_filter_start_is_the_numpy_start_and_run_bit_for_bit():
    """:func:`start_filter` (one compiled call) against the filter start it replaced: polynomial through the
    seeds by :func:`initial_theta`, a new filter, then its :meth:`run` through the detections."""
    rng = np.random.default_rng(17)
    p0 = np.diag(np.repeat([2_000.0, 1_500.0, 30.0], 3) ** 2)
    for k, span in [(1, 0.0), (2, 0.0), (2, 5.0), (2, 20.0), (3, 14.9), (5, 40.0)]:
        seed_times = 1000.0 + np.sort(rng.uniform(0.0, span, k)) if span else np.full(k, 1000.0)
        _, seed_points, _ = _seed_case(rng, k)
        n = int(rng.integers(0, 30))
        times = np.sort(rng.uniform(seed_times[0] - 5.0, seed_times[0] + 60.0, n))
        pos = rng.normal(0.0, 6.4e6, (n, 3))
        los = seed_points[:1] + rng.normal(0.0, 1e4, (n, 3)) - pos
        los /= np.linalg.norm(los, axis=1, keepdims=True)
        sigma = rng.uniform(1e-5, 1e-4, n)
        got = start_filter(seed_times, seed_points, 15.0, p0, 9.0, LosRays(times, pos, los, sigma))
        seed_span = float(seed_times.max() - seed_times.min())
        degree = 2 if seed_span >= 15.0 else (1 if seed_span > 0 else 0)
        x0 = np.zeros(9)
        x0[: 3 * (degree + 1)] = initial_theta(seed_times, seed_points, degree, float(seed_times[0]))
        want = LosExtendedKalmanFilter(float(seed_times[0]), x0, p0, 9.0)
        want.run(times, pos, los, sigma)
        assert got.t == want.t and np.array_equal(got.x, want.x) and np.array_equal(got.P, want.P), (k, span)


@pytest.mark.parametrize("n", [1, 5, 8, 9, 12, 127, 128, 129, 177, 300, 1000, 4099])
def test_compiled_sum_has_numpy_pairwise_order(n):
    x = np.random.default_rng(n).random(n) * np.exp(np.random.default_rng(n + 1).random(n) * 30.0)
    assert _numpy_sum(x, 0, n) == x.sum()


def test_direct_lapack_solve_is_numpy_solve_bit_for_bit():
    rng = np.random.default_rng(14)
    lu, x, ipiv = np.empty((3, 3)), np.empty(3), pivots(3)
    for _ in range(2000):
        a = rng.normal(size=(3, 3)) * np.exp(rng.uniform(-20.0, 20.0, (3, 1)))
        b = rng.normal(size=3) * 1e6
        assert np.array_equal(solve(a, b, lu, x, ipiv), np.linalg.solve(a, b))


def test_direct_lapack_solve_raises_as_numpy_does():
    lu, x, ipiv = np.empty((3, 3)), np.empty(3), pivots(3)
    with pytest.raises(np.linalg.LinAlgError):
        solve(np.zeros((3, 3)), np.ones(3), lu, x, ipiv)
    with pytest.raises(np.linalg.LinAlgError):
        solve(np.eye(3), np.array([1.0, np.nan, 0.0]), lu, x, ipiv)
