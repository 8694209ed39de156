"""Cramér–Rao lower bounds from the same geometry and noise as the estimators.

For Gaussian LOS noise, the Fisher information of the detections w.r.t. a model's parameters ``φ`` is
``J = Σ_i H_iᵀ H_i / σ_i²`` with ``H_i`` the Jacobian of the two tangent-plane angle residuals (Kay,
*Fundamentals of Statistical Signal Processing: Estimation Theory*, 1993, eq. 3.31). Any unbiased
estimator has ``cov(φ̂) ⪰ J⁻¹``; a function ``g(φ)`` has bound ``∇g J⁻¹ ∇gᵀ`` (Kay eq. 3.30).
Consequences checked in the tests: ``J ∝ 1/σ²`` so the bound scales exactly as σ², and adding a sensor
adds a positive semi-definite term so the bound cannot grow.

* launch point / time / azimuth: the :class:`~vigil.fusion.launch.AscentModel` over the early-ascent window;
* burnout state: the :mod:`polytrack` model over the last seconds of the final stage
  (:mod:`vigil.fusion.burnout`), mapped to ``(r, v)`` at the last instant;
* impact point: that bound carried through the impact map by the unscented transform (:func:`impact_crlb`).
"""

from __future__ import annotations

import numpy as np

from .burnout import burnout_model
from .impact import ImpactPrediction, ImpactPredictor, UnscentedImpactPredictor
from .launch import AscentModel, LaunchEstimate, information, scaled_inverse, summarize
from .polytrack import PolyTrack, initial_theta
from .polytrack import information as poly_information


def launch_crlb(model: AscentModel, phi_true, times, pos, sigma) -> LaunchEstimate:
    """Bound on the launch estimate: :class:`LaunchEstimate` whose σ's and covariance are the CRLB.

    ``phi_true``: the model's parameters for the true trajectory (e.g. fitted to noise-free LOS);
    ``times`` (T,), ``pos`` (T, 3) sensor ECEF, ``sigma`` (T,) rad — the detections' geometry and noise.
    """
    fisher = information(model, np.asarray(phi_true, dtype=float), times, pos, sigma)
    return summarize(model, np.asarray(phi_true, dtype=float), scaled_inverse(fisher))


def burnout_crlb(times, pos, sigma, truth_points) -> np.ndarray:
    """6×6 bound on ``(r, v)`` at the last time, for the estimator of :mod:`vigil.fusion.burnout` (the same
    final-stage window and polynomial degree, :func:`vigil.fusion.burnout.burnout_model`).

    ``times`` (T,) s, ``pos`` (T, 3) sensor ECEF m, ``sigma`` (T,) rad: all detections of the launch;
    ``truth_points`` ``(T, 3)``: true positions at ``times`` (the model's best fit to them is the truth).
    """
    times = np.asarray(times, dtype=float)
    keep, degree = burnout_model(times)
    t_ref = float(times.max())
    theta = initial_theta(times[keep], np.asarray(truth_points)[keep], degree, t_ref)
    fisher = poly_information(theta, t_ref, degree, times[keep], np.asarray(pos)[keep], np.asarray(sigma)[keep])
    track = PolyTrack(theta, np.linalg.inv(fisher), t_ref, degree, float(times[keep].min()), t_ref)
    jac = track.state_jacobian(t_ref)
    return jac @ track.cov @ jac.T


def impact_crlb(times, pos, sigma, truth_points, r_burnout_m, v_burnout_m_s,
                predictor: ImpactPredictor | None = None) -> ImpactPrediction | None:
    """Bound on the impact point: the burnout bound (:func:`burnout_crlb`) carried through the impact map
    by the same unscented transform as the estimator, about the true burnout state ``(r, v)`` (ECEF m, m/s).

    Returns an :class:`ImpactPrediction` (times relative to burnout) whose ``cov_en_m2`` is the bound;
    ``sqrt(trace(cov_en_m2))`` is the RMS radial bound. None when the true state does not come down.
    """
    cov6 = burnout_crlb(times, pos, sigma, truth_points)
    predictor = predictor or UnscentedImpactPredictor()
    return predictor.predict(0.0, np.asarray(r_burnout_m, float), np.asarray(v_burnout_m_s, float), cov6)


__all__ = ["launch_crlb", "burnout_crlb", "impact_crlb"]
