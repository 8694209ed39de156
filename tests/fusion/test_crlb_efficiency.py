"""Monte Carlo efficiency of the launch back-fit and the burnout smoother against their Cramér–Rao bounds.

Fixed geometry (the synthetic gravity-turn boost of ``fusion_truth`` seen by 2 GEO + 2 HEO sensors, 20 µrad,
1 s frames), :data:`DRAWS` noise draws, no association in the loop: each draw adds Gaussian LOS noise to the
noise-free rays and runs the estimator itself. Claims checked (Kay 1993, ch. 3; Van Trees 1968, eq. 2.288):

* launch: the estimator's prior on ``t_L`` is part of the bound. Its mean is drawn about the pseudo-true
  launch time with the prior's σ for each draw, so the bound ``(J + J_prior)⁻¹`` is the Bayesian (Van Trees)
  bound of the mean-square error; the sample MSE of the east/north launch point must be ⪰ that bound within
  Monte Carlo error and the RMS error / RMS bound close to 1 (efficiency);
* burnout: the sample covariance of the smoothed ``(r, v)`` must match :func:`burnout_crlb` (both take the
  final-stage window and degree from :func:`vigil.fusion.coast.burnout.burnout_model`).

Monte Carlo error: the variance of a variance estimate from N draws is 2/N of it (Gaussian), 8 % at
N = 300, so the lower eigenvalue tolerances below are ≈ 3 σ.
"""

import numpy as np
import pytest
from fusion_truth import boost_truth, observe, sensors

from vigil.frames import enu_basis, geodetic_to_ecef
from vigil.fusion.bounds.crlb import burnout_crlb, launch_crlb, pseudo_true_phi
from vigil.fusion.coast.burnout import smooth_burnout
from vigil.fusion.geometry.triangulate import tangent_basis
from vigil.fusion.launch.backfit import AscentBackFitEstimator
from vigil.scoring.bounds import fit_true_phi, launch_data

DRAWS = 300
SIGMA = 20e-6
PRIOR_SIGMA_S = 15.0
MC_EIG_TOL = 0.75  # smallest eigenvalue of bound^-1/2 · MSE · bound^-1/2 allowed (≈ 3σ of MC at N = 300)


@pytest.fixture(scope="module")
def geometry():
    truth = boost_truth()
    b = observe([truth], sensors(count=4), np.random.default_rng(11), sigma=SIGMA)
    order = np.argsort(b.time_s, kind="stable")
    t, p, s = b.time_s[order], b.sensor_pos_ecef_m[order], b.los_sigma_rad[order]
    r, _ = truth.state(t)
    u0 = (r - p) / np.linalg.norm(r - p, axis=1, keepdims=True)
    return truth, t, p, s, r, u0


def _noisy(u0, sigma, rng):
    e1, e2 = tangent_basis(u0)
    n = rng.normal(size=(len(u0), 2)) * sigma[:, None]
    u = u0 + n[:, :1] * e1 + n[:, 1:] * e2
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def _en(lat, lon, ref_lat, ref_lon):
    east, north, _ = enu_basis(ref_lat, ref_lon)
    d = geodetic_to_ecef(lat, lon, 0.0) - geodetic_to_ecef(ref_lat, ref_lon, 0.0)
    return np.array([d @ east, d @ north])


def _whitened_eigs(mse, bound):
    w = np.linalg.cholesky(np.linalg.inv(bound))
    return np.linalg.eigvalsh(w.T @ mse @ w)


def test_launch_estimate_is_efficient_against_its_bound_with_the_prior(geometry):
    truth, t, p, s, r, u0 = geometry
    rule = AscentBackFitEstimator()
    model, keep = rule.model_for(t)
    tk, pk, sk, rk = t[keep], p[keep], s[keep], r[keep]
    t_star = fit_true_phi(model, tk, rk)[2]  # prior centre: the truth's own launch time in this model
    phi = pseudo_true_phi(model, fit_true_phi(model, tk, rk), tk, pk, sk, rk, t_star, PRIOR_SIGMA_S)
    bound = launch_crlb(model, phi, tk, pk, sk, PRIOR_SIGMA_S).cov_en_m2
    rng = np.random.default_rng(5)
    errors = []
    for _ in range(DRAWS):
        mean = phi[2] + PRIOR_SIGMA_S * rng.normal()
        est = AscentBackFitEstimator(time_to_visible_s=tk.min() - mean, time_to_visible_sigma_s=PRIOR_SIGMA_S)
        seed_t = np.arange(tk.min(), tk.min() + 20.0, 2.0)
        out = est.estimate(
            t, p, _noisy(u0, s, rng), s, seed_t, truth.state(seed_t)[0] + rng.normal(0, 500, (10, 3))
        )
        errors.append(_en(out.lat_rad, out.lon_rad, phi[0], phi[1]))
    e = np.array(errors)
    mse = e.T @ e / len(e)
    ratio = np.sqrt(np.trace(mse) / np.trace(bound))
    print(f"launch: RMS error / RMS bound {ratio:.3f}, whitened MSE eigenvalues {_whitened_eigs(mse, bound)}")
    assert _whitened_eigs(mse, bound).min() >= MC_EIG_TOL
    assert 0.85 <= ratio <= 1.2


def test_bound_uses_the_estimates_own_window_and_prior(geometry):
    truth, t, p, s, r, u0 = geometry
    rng = np.random.default_rng(2)
    seed_t = np.arange(t.min(), t.min() + 20.0, 2.0)
    out = AscentBackFitEstimator().estimate(t, p, _noisy(u0, s, rng), s, seed_t, truth.state(seed_t)[0])
    model, keep, prior = launch_data(t, out)
    rule_model, rule_keep = AscentBackFitEstimator().model_for(t)
    np.testing.assert_array_equal(keep, rule_keep)
    assert keep.sum() == out.n_detections and model.degree == rule_model.degree == out.degree
    assert prior == (pytest.approx(t.min() - 40.0), 15.0)
    # a bound without the prior is looser along t_L: the prior is information (Loewner order)
    phi = fit_true_phi(model, t[keep], r[keep])
    with_prior = launch_crlb(model, phi, t[keep], p[keep], s[keep], prior[1])
    without = launch_crlb(model, phi, t[keep], p[keep], s[keep])
    assert with_prior.time_sigma_s < without.time_sigma_s
    assert np.linalg.eigvalsh(without.cov_en_m2 - with_prior.cov_en_m2).min() >= -1e-9 * np.trace(
        without.cov_en_m2
    )


def test_burnout_smoother_covariance_matches_its_bound(geometry):
    truth, t, p, s, r, u0 = geometry
    bound = burnout_crlb(t, p, s, r)
    t_b = t.max()
    rv_true = np.concatenate(truth.state(np.array([t_b])), axis=-1)[0]
    x9 = np.concatenate([rv_true, np.zeros(3)])
    rng = np.random.default_rng(9)
    states = []
    for _ in range(DRAWS):
        out = smooth_burnout(t, p, _noisy(u0, s, rng), s, x9)
        states.append(np.concatenate([out[1], out[2]]))
    x = np.array(states)
    cov = np.cov(x.T)
    eig = _whitened_eigs(cov, bound)
    print(f"burnout: whitened covariance eigenvalues {eig}, bias (m, m/s) {x.mean(0) - rv_true}")
    assert eig.min() >= MC_EIG_TOL
    assert eig.max() <= 1.0 / MC_EIG_TOL
