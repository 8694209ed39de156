"""Compiled (numba) Levenberg–Marquardt back-fit of the planar from-rest ascent model.

The Levenberg–Marquardt loop (Marquardt's diagonal scaling; Nocedal & Wright, *Numerical Optimization*, 2006,
§10.3), its Gauss–Newton polish, the equilibrated covariance and the one compiled back-fit that chains them,
on the normal equations of :mod:`vigil.fusion.launch.ascentnormal`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from vigil.fusion.geometry.lapack import pivots
from vigil.fusion.geometry.lapack import solve as lapack_solve
from vigil.fusion.geometry.triangulate import tangent_basis_rows
from vigil.fusion.launch.ascentdata import Detections
from vigil.fusion.launch.ascentnormal import (
    FACTORIALS,
    blocks,
    chi2_pass,
    normal_pass,
    normal_pass_into,
    normal_scratch,
)

LM_MAX_ITERATIONS = 60
LM_LAMBDA0 = 1e-3
LM_CHI2_TOL = 1e-4  # stop when χ² improves by less than this. Along the flat t_L valley damped steps gain
# little each and the fit stops wherever one gains < tol; stopping Δχ² above the minimum leaves the point √Δχ² σ
# along the valley: 1e-4 keeps it ≤ 0.02 of the CRLB (1e-2 left the demo's S1 0.16 off; docs/benchmarks.md, issue 11)


@numba.njit(cache=True)
def _lm(phi0, objective, det, max_iterations):
    """Levenberg–Marquardt: minimise the χ² of ``objective`` (:class:`~vigil.fusion.launch.ascentdata.Objective`)
    on ``det`` (``Detections``) from ``phi0``; returns ``(φ, JᵀWJ, JᵀWz at φ, χ², iterations)``."""
    return _lm_blocked(phi0, objective, blocks(det, objective.degree, phi0.size), max_iterations)


@numba.njit(cache=True)
def _lm_blocked(phi0, objective, blocked, max_iterations):
    """:func:`_lm` on the blocked detections and scratch ``blocked`` (:class:`~vigil.fusion.launch.ascentdata.Blocks`)."""
    phi = phi0.copy()
    n = phi.size
    chi2 = chi2_pass(phi, objective, blocked, np.nan)
    scratch = normal_scratch(n)
    jtj, jtz, jtj2, jtz2 = np.empty((n, n)), np.empty(n), np.empty((n, n)), np.empty(n)  # current, trial
    normal_pass_into(phi, objective, blocked, scratch, jtj, jtz)
    lam = LM_LAMBDA0
    iterations = 0
    # the scaled system in place: d = sqrt(max(diag JᵀWJ, 1e-300)), a = JᵀWJ / (d dᵀ) + λI, b = JᵀWz / d, step =
    # -solve(a, b) / d (element by element, the operations of the array expressions: same values, ~10 fewer
    # allocations per iteration; the fits of the 100-launch salvo ~10 % faster); the solve is LAPACK's dgesv
    # called as np.linalg.solve calls it (lapack.solve: same bits) into these buffers, and the trial point
    # alternates between two buffers (an accepted trial becomes φ, the old φ the next trial's buffer)
    d = np.empty(n)
    a = np.empty((n, n))
    b = np.empty(n)
    lu = np.empty((n, n))
    x = np.empty(n)
    ipiv = pivots(n)
    trial = np.empty(n)
    for _ in range(max_iterations):
        iterations += 1
        for k in range(n):
            v = jtj[k, k]
            d[k] = math.sqrt(1e-300 if v < 1e-300 else v)  # np.maximum: NaN stays NaN
        for i in range(n):
            for j in range(n):
                a[i, j] = jtj[i, j] / (d[i] * d[j])
            a[i, i] += lam
            b[i] = jtz[i] / d[i]
        lapack_solve(a, b, lu, x, ipiv)
        for k in range(n):
            trial[k] = phi[k] + -x[k] / d[k]
        chi22 = chi2_pass(trial, objective, blocked, chi2)
        if np.isfinite(chi22) and chi22 < chi2:  # (it ran to the end: ws holds every detection's terms)
            normal_pass_into(trial, objective, blocked, scratch, jtj2, jtz2)
            done = chi2 - chi22 < LM_CHI2_TOL
            phi, trial, jtj, jtj2, jtz, jtz2 = trial, phi, jtj2, jtj, jtz2, jtz
            chi2 = chi22
            lam = max(lam / 10.0, 1e-12)
            if done:
                break
        else:
            lam *= 10.0
            if lam > 1e12:
                break
    return phi, jtj, jtz, chi2, iterations


@numba.njit(cache=True)
def gauss_newton_polish_blocked(phi, info, jtz, chi2, objective, blocked, steps, tol):
    """Undamped Gauss–Newton steps from a Levenberg–Marquardt solution ``(φ, JᵀWJ, JᵀWz, χ²)`` while χ²
    decreases, at most ``steps``, until it improves by less than ``tol``: ``(φ, JᵀWJ, χ²)``, on blocked data and
    scratch (:func:`_lm_blocked`'s).

    Why: LM's damping (λ ≥ 1e-3 of the scaled diagonal) shrinks steps along the weak ``t_L`` direction
    (scaled eigenvalue ~1e-8) and its stop rule (Δχ² < 0.01) then ends the fit near its start. Measured
    on the reference ICBM-1 (200 noise draws): RMS launch error / bound 0.82 with LM alone, 0.87 polished. The step ``-solve(info / (d dᵀ),
    jtz / d) / d`` element by element into buffers (the array expressions' operations: same values; the solve
    :func:`~vigil.fusion.geometry.lapack.solve`, the dgesv of np.linalg.solve with its checks and errors)."""
    n = phi.size
    d = np.empty(n)
    a = np.empty((n, n))
    b = np.empty(n)
    lu = np.empty((n, n))
    x = np.empty(n)
    ipiv = pivots(n)
    for _ in range(steps):
        if not np.all(np.isfinite(info)):
            break
        for k in range(n):
            d[k] = math.sqrt(abs(info[k, k]))
        if not np.all(d > 0.0):
            break
        for i in range(n):
            for j in range(n):
                a[i, j] = info[i, j] / (d[i] * d[j])
            b[i] = jtz[i] / d[i]
        try:
            lapack_solve(a, b, lu, x, ipiv)
        except Exception:  # noqa: BLE001 - numba raises a plain exception on a singular matrix
            break
        trial = np.empty(n)
        for k in range(n):
            trial[k] = phi[k] + -x[k] / d[k]
        chi22 = chi2_pass(trial, objective, blocked, chi2)
        if not chi22 < chi2:
            break  # (NaN compares false: rejected too)
        info2, jtz2, chi22 = normal_pass(trial, objective, blocked, chi22)
        if not (np.isfinite(chi22) and chi22 < chi2):
            break
        done = chi2 - chi22 < tol
        phi, info, jtz, chi2 = trial, info2, jtz2, chi22
        if done:
            break
    return phi, info, chi2


@numba.njit(cache=True)
def scaled_inverse(info):
    """Inverse of an information matrix after equilibration (its parameters span 1e-8 rad to 1e2 m/s²);
    NaN when ``info`` is not finite; an unobservable parameter (zero row) keeps a zero row (pseudo-inverse)."""
    if not np.all(np.isfinite(info)):
        return np.full(info.shape, np.nan)
    d = np.sqrt(np.abs(np.diag(info)))
    for k in range(d.size):
        if not d[k] > 0.0:
            d[k] = 1.0
    dd = np.outer(d, d)
    return np.linalg.pinv(info / dd) / dd


@numba.njit(cache=True)
def profile_at(phi, degree, k0, tau):
    """``(h, s)``: height and along-track distance (m) of the ascent model ``τ ≥ 0`` s after launch."""
    nh = degree - 1
    h = 0.0
    for j in range(nh):
        h += phi[4 + j] * tau ** (j + 2) / FACTORIALS[j + 2]
    s = 0.0
    for m in range(degree - k0 + 1):
        s += phi[4 + nh + m] * tau ** (k0 + m) / FACTORIALS[k0 + m]
    return h, s


@numba.njit(cache=True)
def window_data(times, pos, los, sigma, window_s):
    """The back-fit's data in one call: the detections within ``window_s`` of the first (in their order) as
    `backfit` takes them, ``(Detections, t_first, t_last)`` (tangent bases of the LOS, weights 1/σ²).
    Same values as the mask, the copies, :func:`~vigil.fusion.geometry.triangulate.tangent_basis` and ``1/σ**2`` done
    one by one in numpy (the engine refits ~400 times a salvo; each of those steps cost a few µs of Python)."""
    t_first = np.min(times)
    limit = t_first + window_s
    n = 0
    for i in range(times.size):
        if times[i] <= limit:
            n += 1
    t = np.empty(n)
    p = np.empty((n, 3))
    u = np.empty((n, 3))
    w = np.empty(n)
    t_last = -np.inf
    k = 0
    for i in range(times.size):
        if times[i] <= limit:
            t[k] = times[i]
            for c in range(3):
                p[k, c] = pos[i, c]
                u[k, c] = los[i, c]
            w[k] = 1.0 / (sigma[i] * sigma[i])
            t_last = max(t_last, times[i])
            k += 1
    e1, e2 = tangent_basis_rows(u)
    return Detections(t, p, e1, e2, w), t_first, t_last


@numba.njit(cache=True)
def backfit(phi0, objective, det, controls, t_last):
    """One compiled back-fit (Levenberg–Marquardt, Gauss–Newton polish, heading of travel, covariance) of
    ``objective`` on ``det`` (:class:`~vigil.fusion.launch.ascentdata.Objective`, ``Detections``), stopped by
    ``controls`` (``FitControls``), and what its caller checks and reports: ``(φ, covariance (P, P), χ², usable,
    φ finite, h, s)``; ``φ[3]`` in [0, 2π) and the along-track terms signed so that the object moves along
    ``+az`` at ``t_last`` (``(az, s)`` and ``(az + π, -s)`` are the same track); usable: covariance and χ²
    finite; ``(h, s)``: :func:`profile_at` at ``t_last`` (the azimuth baseline). The one compiled fit: every caller takes its results (a second kernel
    for the first three would compile, and cache, the whole fit again)."""
    degree, k0 = objective.degree, objective.k0
    blocked = blocks(det, degree, phi0.size)  # one blocked copy and scratch for both stages
    phi, info, jtz, chi2, _ = _lm_blocked(phi0, objective, blocked, controls.lm_iterations)
    phi, info, chi2 = gauss_newton_polish_blocked(
        phi, info, jtz, chi2, objective, blocked, controls.polish_steps, controls.polish_tol
    )
    phi = phi.copy()
    _, s_last = profile_at(phi, degree, k0, max(t_last - phi[2], 0.0))
    if s_last < 0.0:
        phi[3] += np.pi
        for k in range(4 + degree - 1, phi.size):
            phi[k] = -phi[k]
    phi[3] = phi[3] % (2.0 * np.pi)
    cov = scaled_inverse(info)
    usable = np.all(np.isfinite(cov)) and np.isfinite(chi2)
    finite = np.all(np.isfinite(phi))
    tau = t_last - phi[2]
    h, s = profile_at(phi, degree, k0, 0.0 if 0.0 > tau else tau)  # Python's max(tau, 0.0), NaN included
    return phi, cov, chi2, usable, finite, h, s
