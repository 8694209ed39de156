"""Cramér–Rao lower bounds from the same geometry and noise as the estimators.

For Gaussian LOS noise, the Fisher information of the detections w.r.t. a model's parameters ``φ`` is
``J = Σ_i H_iᵀ H_i / σ_i²`` with ``H_i`` the Jacobian of the two tangent-plane angle residuals (Kay,
*Fundamentals of Statistical Signal Processing: Estimation Theory*, 1993, eq. 3.31). Any unbiased
estimator has ``cov(φ̂) ⪰ J⁻¹``; a function ``g(φ)`` has bound ``∇g J⁻¹ ∇gᵀ`` (Kay eq. 3.30).
Consequences checked in the tests: ``J ∝ 1/σ²`` so the bound scales exactly as σ², and adding a sensor
adds a positive semi-definite term so the bound cannot grow.

* launch point / time / azimuth: the :class:`~vigil.fusion.launch.ascentmodel.AscentModel` over the detections the
  estimate used (its window, degree and Gaussian prior on ``t_L``, recorded in the
  :class:`~vigil.fusion.launch.backfit.LaunchEstimate`). With the prior this is the Bayesian (Van Trees) bound
  ``(J + J_prior)⁻¹`` (Van Trees, *Detection, Estimation and Modulation Theory* I, 1968, eq. 2.288): it
  bounds the mean-square error averaged over the prior, which is how tests/fusion/test_crlb_efficiency.py
  checks it (prior mean drawn about the truth for each noise draw);
* burnout state: the :mod:`polytrack` model over the last seconds of the final stage
  (:mod:`vigil.fusion.coast.burnout`), mapped to ``(r, v)`` at the last instant;
* impact point: that bound carried through the impact map by the unscented transform (:func:`impact_crlb`).
"""

from __future__ import annotations

import numpy as np

from vigil.fusion.coast.burnout import burnout_model
from vigil.fusion.coast.impact import ImpactPrediction, ImpactPredictor, UnscentedImpactPredictor
from vigil.fusion.geometry.polytrack import PolyTrack, initial_theta
from vigil.fusion.geometry.polytrack import information as poly_information
from vigil.fusion.launch.ascentfit import scaled_inverse
from vigil.fusion.launch.ascentmodel import AscentModel, information
from vigil.fusion.launch.backfit import LaunchEstimate, fit_ascent, summarize

PSEUDO_TRUE_ITERATIONS = 500  # Levenberg-Marquardt iterations for the noise-free fit (then polished)


def launch_crlb(
    model: AscentModel, phi_true, times, pos, sigma, prior_time_sigma_s: float | None = None
) -> LaunchEstimate:
    """Bound on the launch estimate: :class:`LaunchEstimate` whose σ's and covariance are the CRLB.

    ``phi_true``: the model's parameters for the true trajectory (:func:`pseudo_true_phi`);
    ``times`` (T,), ``pos`` (T, 3) sensor ECEF, ``sigma`` (T,) rad — the detections' geometry and noise;
    ``prior_time_sigma_s``: σ (s) of the estimator's Gaussian prior on ``t_L`` (None: no prior), added to
    the information as ``1/σ²`` on ``t_L``.
    """
    fisher = information(model, np.asarray(phi_true, dtype=float), times, pos, sigma)
    if prior_time_sigma_s is not None:
        fisher[2, 2] += 1.0 / prior_time_sigma_s**2
    return summarize(model, np.asarray(phi_true, dtype=float), scaled_inverse(fisher))


def pseudo_true_phi(
    model: AscentModel,
    phi0,
    times,
    pos,
    sigma,
    r_true_m,
    prior_time_s: float = 0.0,
    prior_time_sigma_s: float | None = None,
) -> np.ndarray:
    """The parameters the estimator converges to without noise: its own objective (LOS residuals + the
    ``t_L`` prior) minimised on noise-free LOS to the true positions ``r_true_m`` ``(T, 3)`` (ECEF, m).

    This is the point a misspecified model's estimate concentrates on (White, *Econometrica* 50, 1982);
    where ``t_L`` is unobservable the data alone leave it anywhere along a flat valley, the prior fixes it
    (a position fit alone landed 55 s apart on two nearby choices, with bounds 2.8 and 47 km: SL-1).
    ``phi0``: a start (e.g. a least-squares fit to ``r_true_m``)."""
    r_true_m, pos = np.asarray(r_true_m, dtype=float), np.asarray(pos, dtype=float)
    los = (r_true_m - pos) / np.linalg.norm(r_true_m - pos, axis=-1, keepdims=True)
    phi, _, _ = fit_ascent(
        model,
        times,
        pos,
        los,
        sigma,
        phi0,
        prior_time_s,
        prior_time_sigma_s,
        max_iterations=PSEUDO_TRUE_ITERATIONS,
    )
    return phi


def burnout_crlb(times, pos, sigma, truth_points) -> np.ndarray:
    """6×6 bound on ``(r, v)`` at the last time, for the estimator of :mod:`vigil.fusion.coast.burnout` (the same
    final-stage window and polynomial degree, :func:`vigil.fusion.coast.burnout.burnout_model`).

    ``times`` (T,) s, ``pos`` (T, 3) sensor ECEF m, ``sigma`` (T,) rad: all detections of the launch;
    ``truth_points`` ``(T, 3)``: true positions at ``times`` (the model's best fit to them is the truth).
    """
    times = np.asarray(times, dtype=float)
    keep, degree = burnout_model(times)
    t_ref = float(times.max())
    theta = initial_theta(times[keep], np.asarray(truth_points)[keep], degree, t_ref)
    fisher = poly_information(
        theta, t_ref, degree, times[keep], np.asarray(pos)[keep], np.asarray(sigma)[keep]
    )
    track = PolyTrack(theta, np.linalg.inv(fisher), t_ref, degree, float(times[keep].min()), t_ref)
    jac = track.state_jacobian(t_ref)
    return jac @ track.cov @ jac.T


def impact_crlb(
    times, pos, sigma, truth_points, r_burnout_m, v_burnout_m_s, predictor: ImpactPredictor | None = None
) -> ImpactPrediction | None:
    """Bound on the impact point: the burnout bound (:func:`burnout_crlb`) carried through the impact map
    by the same unscented transform as the estimator, about the true burnout state ``(r, v)`` (ECEF m, m/s).

    Returns an :class:`ImpactPrediction` (times relative to burnout) whose ``cov_en_m2`` is the bound;
    ``sqrt(trace(cov_en_m2))`` is the RMS radial bound. None when the true state does not come down.
    """
    cov6 = burnout_crlb(times, pos, sigma, truth_points)
    predictor = predictor or UnscentedImpactPredictor()
    return predictor.predict(0.0, np.asarray(r_burnout_m, float), np.asarray(v_burnout_m_s, float), cov6)


__all__ = ["launch_crlb", "pseudo_true_phi", "burnout_crlb", "impact_crlb"]
