"""Triangulation: exact on noise-free rays; its covariance matches the Monte Carlo scatter (χ²)."""

import numpy as np
from fusion_truth import noisy_los, sensors
from scipy.stats import chi2

from vigil.frames import geodetic_to_ecef
from vigil.fusion.geometry.triangulate import closest_approach, triangulate

ONE_MM = 1e-3


def _geometry():
    target = geodetic_to_ecef(np.radians(45.0), np.radians(63.3), 60e3)
    pos = np.array([s[2] for s in sensors()])
    u = (target - pos) / np.linalg.norm(target - pos, axis=1, keepdims=True)
    return target, pos, u


def test_noise_free_rays_intersect_at_the_target():
    target, pos, u = _geometry()
    x, _ = triangulate(pos, u, np.full(4, 20e-6))
    assert np.linalg.norm(x - target) < ONE_MM


def test_closest_approach_of_two_rays_through_one_point_is_zero():
    target, pos, u = _geometry()
    miss, mid, s, _ = closest_approach(pos[0], u[0], pos[1], u[1])
    assert miss < ONE_MM and np.linalg.norm(mid - target) < ONE_MM
    assert abs(s - np.linalg.norm(target - pos[0])) < ONE_MM


def test_covariance_matches_monte_carlo_scatter():
    rng = np.random.default_rng(11)
    target, pos, _ = _geometry()
    n = 2000
    sigma = 20e-6
    los = np.stack([noisy_los(np.broadcast_to(target, (n, 3)), p, sigma, rng) for p in pos], axis=1)
    x, cov = triangulate(np.broadcast_to(pos, (n, 4, 3)), los, np.full((n, 4), sigma))
    err = x - target
    nees = np.einsum("ni,nij,nj->n", err, np.linalg.inv(cov), err)
    # mean NEES of n draws of χ²(3): 99.9 % two-sided interval
    lo, hi = chi2.ppf([0.0005, 0.9995], 3 * n) / n
    assert lo < nees.mean() < hi
    assert abs(np.mean(nees <= chi2.ppf(0.95, 3)) - 0.95) < 0.02
