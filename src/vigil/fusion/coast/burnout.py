"""Burnout state by a batch smoother: a polynomial fitted directly to the last LOS of the final stage.

The boost filter's constant-acceleration model lags a rising thrust acceleration (``F/m`` grows as the
propellant burns): its velocity at burnout was ~3 % low. Here the last :data:`BURNOUT_WINDOW_S` of
detections *of the final stage* (after the last gap longer than :data:`~vigil.fusion.boost.filter.STAGING_GAP_S`,
where a staging hides) are fitted with a polynomial in time (:mod:`polytrack`, Gauss–Newton on the LOS), and
``(r, v)`` at the last detection with its 6×6 covariance is the burnout state. Window and degree trade model
bias against noise; measured on noise-free LOS of the simulator's vehicles and the Falcon 9 replays
(two-partner and a 20-launch scenario, 20 µrad): quartic over 80 s — velocity bias 7–100 m/s for a bound
of 75–110 m/s (RMS of 3 axes); cubic over 40 s — bias 7–75 m/s, bound 105–160 m/s; quadratic over 20 s —
bias 77–108 m/s. So: quartic over the last 80 s when the final stage is seen ≥ 60 s, else a cubic
(an SRBM seen 40 s: bias ~60 m/s, bound ~145 m/s). Detections more than :data:`OUTLIER_CHI2` off the fit
are dropped and the fit repeated: a 2-D string can swap onto another plume where two cross in one view. :func:`vigil.fusion.bounds.crlb.burnout_crlb` bounds this
same model.
"""

from __future__ import annotations

import numba
import numpy as np

from vigil.fusion.boost.filter import STAGING_GAP_S
from vigil.fusion.geometry.polytrack import chi2_per_detection, gauss_newton, initial_theta
from vigil.fusion.geometry.triangulate import tangent_basis_rows

BURNOUT_WINDOW_S = 80.0
OUTLIER_CHI2 = 25.0  # a detection this far off the fit (χ², 2 dof; p ≈ 4e-6) belongs to another object
OUTLIER_PASSES = 4  # refits without the outliers (a string that swapped onto a crossing plume)
QUARTIC_MIN_SPAN_S = 60.0  # a final stage seen this long is fitted with a quartic, a shorter one with a cubic


def final_stage(times, window_s: float = BURNOUT_WINDOW_S, gap_s: float = STAGING_GAP_S) -> np.ndarray:
    """Mask of the detections ``times`` (s, any order) in the last ``window_s`` of the final stage."""
    times = np.asarray(times, dtype=float)
    if not times.size:
        raise IndexError("final_stage: no detection times")
    return _final_stage(times, float(window_s), float(gap_s))[0]


def burnout_model(times) -> tuple[np.ndarray, int]:
    """The detections fitted (mask) and the polynomial degree, for the estimator and its bound alike."""
    times = np.asarray(times, dtype=float)
    if not times.size:
        raise IndexError("burnout_model: no detection times")
    keep, _, t_lo, t_hi = _final_stage(times, BURNOUT_WINDOW_S, STAGING_GAP_S)
    return keep, (4 if t_hi - t_lo >= QUARTIC_MIN_SPAN_S else 3)


@numba.njit(cache=True)
def _final_stage(times, window_s, gap_s):
    """:func:`final_stage` compiled: ``(mask, count, first and last time kept)``. The start is the first
    distinct time after the last gap > ``gap_s`` between distinct times (the first time if none)."""
    ut = np.unique(times)
    start = ut[0]
    for k in range(ut.size - 1, 0, -1):
        if ut[k] - ut[k - 1] > gap_s:
            start = ut[k]
            break
    lo = max(ut[-1] - window_s, start)
    keep = times >= lo
    n, t_lo, t_hi = 0, np.inf, -np.inf
    for i in range(times.size):
        if keep[i]:
            n += 1
            t_lo, t_hi = min(t_lo, times[i]), max(t_hi, times[i])
    return keep, n, t_lo, t_hi


def smooth_burnout(times, pos, los, sigma, x9, seeds=None):
    """``(t_b, r (3,), v (3,), cov6 (6, 6))`` at the last detection, or None if too few detections.

    ``x9``: a start ``[r, v, a]`` at the last detection (the boost filter's state there), used when
    ``seeds`` — triangulated ``(times (K,), points (K, 3))`` — do not cover the fitted span.
    """
    times = np.asarray(times, dtype=float)
    keep, n_keep, t_lo, t_hi = _final_stage(times, BURNOUT_WINDOW_S, STAGING_GAP_S)
    degree = 4 if t_hi - t_lo >= QUARTIC_MIN_SPAN_S else 3
    if n_keep < 2 * (degree + 1):
        return None
    t_b = float(times.max())
    theta0 = np.concatenate([np.asarray(x9, dtype=float), np.zeros(3 * (degree - 2))])
    if seeds is not None:
        in_fit = np.asarray(seeds[0]) >= t_lo
        if in_fit.sum() >= 2 * (degree + 1):
            theta0 = initial_theta(np.asarray(seeds[0])[in_fit], np.asarray(seeds[1])[in_fit], degree, t_b)
    theta, cov = _fit_final_stage(
        np.array(theta0, dtype=float),
        t_b,
        degree,
        times,
        np.asarray(pos, dtype=float),
        np.asarray(los, dtype=float),
        np.asarray(sigma, dtype=float),
        keep,
    )
    cov6 = cov[:6, :6]  # (r, v) at τ = 0 are the first two coefficient triples
    if not np.all(np.isfinite(cov6)):
        return None
    return t_b, theta[:3].copy(), theta[3:6].copy(), cov6.copy()


@numba.njit(cache=True)
def _fit_final_stage(theta0, t_b, degree, times, pos, los, sigma, keep):
    """The kept detections, their tangent bases and weights ``1/σ²``, then :func:`_fit_without_outliers`."""
    idx = np.flatnonzero(keep)
    t, p, u, sg = times[idx], pos[idx], los[idx], sigma[idx]
    e1, e2 = tangent_basis_rows(u)
    return _fit_without_outliers(theta0, t_b, degree, t, p, e1, e2, 1.0 / (sg * sg))


@numba.njit(cache=True)
def _fit_without_outliers(theta0, t_b, degree, t, p, e1, e2, w):
    """Gauss–Newton fit, then refits without detections > :data:`OUTLIER_CHI2` (≤ :data:`OUTLIER_PASSES`
    fits in all; stops when the outliers are those already left out or too few detections would remain):
    ``(θ, covariance)``. A fit of all detections already has their χ² (bit-identical to
    :func:`~vigil.fusion.geometry.polytrack.chi2_per_detection`)."""
    use = np.ones(t.size, dtype=np.bool_)
    theta, cov = theta0, np.empty((0, 0))
    for _ in range(OUTLIER_PASSES):
        idx = np.flatnonzero(use)
        if idx.size == t.size:
            theta, cov, chi2 = gauss_newton(theta0, t_b, degree, t, p, e1, e2, w)
        else:
            theta, cov, _ = gauss_newton(theta0, t_b, degree, t[idx], p[idx], e1[idx], e2[idx], w[idx])
            chi2 = chi2_per_detection(theta, t_b, degree, t, p, e1, e2, w)
        bad = chi2 > OUTLIER_CHI2
        if np.all(bad == ~use) or (~bad).sum() < 2 * (degree + 1):
            break
        use, theta0 = ~bad, theta
    return theta, cov
