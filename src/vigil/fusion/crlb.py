"""Cramér–Rao lower bounds from the same geometry and noise as the estimators.

For Gaussian LOS noise, the Fisher information of the detections w.r.t. a model's parameters ``φ`` is
``J = Σ_i H_iᵀ H_i / σ_i²`` with ``H_i`` the Jacobian of the two tangent-plane angle residuals (Kay,
*Fundamentals of Statistical Signal Processing: Estimation Theory*, 1993, eq. 3.31). Any unbiased
estimator has ``cov(φ̂) ⪰ J⁻¹``; a function ``g(φ)`` has bound ``∇g J⁻¹ ∇gᵀ`` (Kay eq. 3.30).
Consequences checked in the tests: ``J ∝ 1/σ²`` so the bound scales exactly as σ², and adding a sensor
adds a positive semi-definite term so the bound cannot grow.

* launch point / time / azimuth: the :class:`~vigil.fusion.launch.AscentModel` over the early-ascent window;
* burnout state: the quadratic :mod:`polytrack` model over the last :data:`BURNOUT_WINDOW_S` of boost,
  mapped to ``(r, v)`` at the last instant.
"""

from __future__ import annotations

import numpy as np

from .launch import AscentModel, LaunchEstimate, information, scaled_inverse, summarize
from .polytrack import PolyTrack, initial_theta
from .polytrack import information as poly_information

BURNOUT_WINDOW_S = 20.0  # span before burnout over which the state is taken as a quadratic in time


def launch_crlb(model: AscentModel, phi_true, times, pos, sigma) -> LaunchEstimate:
    """Bound on the launch estimate: :class:`LaunchEstimate` whose σ's and covariance are the CRLB.

    ``phi_true``: the model's parameters for the true trajectory (e.g. fitted to noise-free LOS);
    ``times`` (T,), ``pos`` (T, 3) sensor ECEF, ``sigma`` (T,) rad — the detections' geometry and noise.
    """
    fisher = information(model, np.asarray(phi_true, dtype=float), times, pos, sigma)
    return summarize(model, np.asarray(phi_true, dtype=float), scaled_inverse(fisher))


def burnout_crlb(times, pos, sigma, truth_points, window_s: float = BURNOUT_WINDOW_S) -> np.ndarray:
    """6×6 bound on ``(r, v)`` at the last time, from detections in the last ``window_s`` (quadratic model).

    ``truth_points`` ``(T, 3)``: true positions at ``times`` (the model's best fit to them is the truth).
    """
    times = np.asarray(times, dtype=float)
    keep = times >= times.max() - window_s
    t_ref = float(times.max())
    theta = initial_theta(times[keep], np.asarray(truth_points)[keep], 2, t_ref)
    fisher = poly_information(theta, t_ref, 2, times[keep], np.asarray(pos)[keep], np.asarray(sigma)[keep])
    track = PolyTrack(theta, np.linalg.inv(fisher), t_ref, 2, float(times[keep].min()), t_ref)
    jac = track.state_jacobian(t_ref)
    return jac @ track.cov @ jac.T


__all__ = ["launch_crlb", "burnout_crlb"]
