"""A polynomial track fitted directly to lines of sight (batch Gauss–Newton), with its Fisher information.

Model: ``r(t) = Σ_k c_k τ^k / k!`` (ECEF, m), ``τ = t - t_ref``, degree ``d`` (2: constant acceleration,
3: constant jerk), parameters ``θ = (c_0, …, c_d)`` flattened to ``(3(d+1),)``. Each detection gives two
angle residuals in the tangent plane of its measured LOS ``u_m`` (basis ``e1, e2``):
``z = (e1·û, e2·û)`` with ``û = unit(r(t) - p)``, 1σ = ``los_sigma_rad``. Jacobian
``∂z/∂r = eᵀ (I - û ûᵀ) / ρ`` and ``∂r/∂c_k = τ^k/k! · I``. The information matrix ``Hᵀ W H`` evaluated at
the truth is the Fisher information of the LOS measurements for this model (Kay, *Fundamentals of
Statistical Signal Processing: Estimation Theory*, 1993, §3.9 — Gaussian case), used by :mod:`crlb`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from vigil.fusion.geometry.triangulate import tangent_basis

GAUSS_NEWTON_ITERATIONS = 6
CONVERGED_M = 1e-3  # stop when the largest position-coefficient step is below 1 mm
LSTSQ_RCOND = float(np.finfo(float).eps)  # singular-value cut-off per unknown (numpy.linalg.lstsq's default)


def basis(tau, degree: int) -> np.ndarray:
    """``τ^k / k!`` for k = 0..degree, shape ``(T, degree+1)``."""
    tau = np.atleast_1d(np.asarray(tau, dtype=float))
    return np.stack([tau**k / math.factorial(k) for k in range(degree + 1)], axis=-1)


@dataclass(frozen=True)
class PolyTrack:
    """Fitted polynomial track: ``theta`` ``(3(d+1),)``, ``cov`` (its covariance), about ``t_ref`` (s)."""

    theta: np.ndarray
    cov: np.ndarray
    t_ref: float
    degree: int
    t_first: float
    t_last: float

    def coeffs(self, theta=None) -> np.ndarray:
        return np.asarray(self.theta if theta is None else theta).reshape(self.degree + 1, 3)

    def position(self, t_s, theta=None) -> np.ndarray:
        """ECEF position (m) ``(T, 3)`` at times ``t_s``."""
        return basis(np.asarray(t_s) - self.t_ref, self.degree) @ self.coeffs(theta)

    def velocity(self, t_s, theta=None) -> np.ndarray:
        """ECEF velocity (m/s) ``(T, 3)``."""
        return basis(np.asarray(t_s) - self.t_ref, self.degree - 1) @ self.coeffs(theta)[1:]

    def acceleration(self, t_s, theta=None) -> np.ndarray:
        """ECEF acceleration (m/s²) ``(T, 3)``."""
        return basis(np.asarray(t_s) - self.t_ref, self.degree - 2) @ self.coeffs(theta)[2:]

    def state_jacobian(self, t_s: float) -> np.ndarray:
        """``∂(r, v)/∂θ`` at one time: ``(6, 3(d+1))``."""
        tau = float(t_s) - self.t_ref
        b = basis(tau, self.degree)[0]
        bv = np.concatenate([[0.0], basis(tau, self.degree - 1)[0]])
        eye = np.eye(3)
        return np.vstack([np.kron(b, eye), np.kron(bv, eye)])


def los_residuals(r, dr_dphi, pos, los_meas):
    """Angle residuals ``z`` ``(2T,)`` and Jacobian ``(2T, P)`` of predicted positions ``r`` ``(T, 3)``.

    ``dr_dphi`` ``(T, 3, P)`` is the model's position Jacobian; ``pos`` the sensor positions, ``los_meas``
    the measured unit LOS (their tangent planes define the two residual axes).
    """
    z, g1, g2 = _residual_gradients(r, pos, los_meas)
    return z, np.vstack([np.einsum("ti,tip->tp", g1, dr_dphi), np.einsum("ti,tip->tp", g2, dr_dphi)])


def _residual_gradients(r, pos, los_meas):
    """``z`` ``(2T,)`` and ``∂z/∂r`` of both axes, ``(T, 3)`` each: ``eᵀ(I - û ûᵀ)/ρ = (e - (e·û) û)/ρ``."""
    d = np.asarray(r, dtype=float) - pos
    rho = np.linalg.norm(d, axis=-1)
    u_hat = d / rho[:, None]
    e1, e2 = tangent_basis(los_meas)
    z1, z2 = np.einsum("ti,ti->t", e1, u_hat), np.einsum("ti,ti->t", e2, u_hat)
    g1 = (e1 - z1[:, None] * u_hat) / rho[:, None]
    g2 = (e2 - z2[:, None] * u_hat) / rho[:, None]
    return np.concatenate([z1, z2]), g1, g2


def los_design(theta, t_ref, degree, times, pos, los_meas):
    """Residuals ``z`` ``(2T,)`` and Jacobian ``H`` ``(2T, 3(d+1))`` of the polynomial LOS model at ``theta``
    (``∂r/∂c_k = τ^k/k! · I``, so each row is ``basis ⊗ ∂z/∂r``)."""
    b = basis(np.asarray(times) - t_ref, degree)  # (T, d+1)
    r = b @ np.asarray(theta).reshape(degree + 1, 3)
    z, g1, g2 = _residual_gradients(r, pos, los_meas)
    n = len(b)
    return z, np.vstack(
        [(b[:, :, None] * g1[:, None, :]).reshape(n, -1), (b[:, :, None] * g2[:, None, :]).reshape(n, -1)]
    )


def information(theta, t_ref, degree, times, pos, sigma, los_meas=None) -> np.ndarray:
    """Fisher information ``Hᵀ W H`` of the LOS measurements w.r.t. θ (noise-free LOS when ``los_meas`` is None)."""
    if los_meas is None:
        r = basis(np.asarray(times) - t_ref, degree) @ np.asarray(theta).reshape(degree + 1, 3)
        los_meas = (r - pos) / np.linalg.norm(r - pos, axis=-1, keepdims=True)
    _, h = los_design(theta, t_ref, degree, times, pos, los_meas)
    w = np.concatenate([1.0 / np.asarray(sigma) ** 2] * 2)
    return h.T @ (w[:, None] * h)


def initial_theta(times, points, degree: int, t_ref: float) -> np.ndarray:
    """Least-squares polynomial through 3-D points ``(T, 3)`` (e.g. triangulations): a Gauss–Newton start."""
    b = basis(np.asarray(times) - t_ref, degree)
    return least_squares(b, points).reshape(-1)


def least_squares(a, b) -> np.ndarray:
    """``numpy.linalg.lstsq(a, b, rcond=None)[0]`` bit for bit: for float ``(M, N)`` and ``(M, K)`` arrays with
    rows, the same LAPACK ``gelsd`` call and cut-off compiled (:func:`lstsq_min_norm`), without numpy's ~30 µs of
    wrapping (the boost filter's and burnout smoother's starts, the launch-time scan's 29 fits); numpy's own
    call otherwise (the cases it treats apart)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] == 0 or a.dtype != np.float64 or b.dtype != np.float64:
        return np.linalg.lstsq(a, b, rcond=None)[0]
    return lstsq_min_norm(np.ascontiguousarray(a), np.ascontiguousarray(b))


@numba.njit(cache=True)
def lstsq_min_norm(a, b):
    """``numpy.linalg.lstsq(a, b, rcond=None)[0]``: cut-off ``eps · max(M, N)`` relative to the largest
    singular value."""
    return np.linalg.lstsq(a, b, LSTSQ_RCOND * max(a.shape[0], a.shape[1]))[0]


@numba.njit(cache=True, inline="always")
def _unit_los(theta, degree, tau, p, b):
    """Unit LOS ``(u0, u1, u2)`` and range from sensor ``p`` to the polynomial position at ``τ``; fills the
    basis ``b[k] = τ^k / k!`` (shared by :func:`normal_equations` and :func:`chi2_per_detection`)."""
    f = 1.0
    for k in range(degree + 1):
        b[k] = f
        f = f * tau / (k + 1)
    d0, d1, d2 = -p[0], -p[1], -p[2]
    for k in range(degree + 1):
        d0 += b[k] * theta[3 * k]
        d1 += b[k] * theta[3 * k + 1]
        d2 += b[k] * theta[3 * k + 2]
    rho = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
    return d0 / rho, d1 / rho, d2 / rho, rho


ROW_PAD = 16  # HᵀWH rows are accumulated padded to a multiple of this (see normal_equations)


@numba.njit(cache=True)
def normal_equations(theta, t_ref, degree, t, pos, e1, e2, w):
    """``(HᵀWH (P, P), HᵀWz (P,), χ² per detection (T,))`` of the polynomial LOS model at ``θ``, accumulated
    detection by detection (the same rows as :func:`los_design`: ``basis ⊗ ∂z/∂r``; tests compare).

    Per element of ``HᵀWH``: detection by detection, axis 0 then axis 1, each a product then an addition.
    Laid out for speed without changing that order (bit-identical to the plain loop; tested): each row
    is updated whole from column 0 over a width padded to :data:`ROW_PAD` (zero columns), a loop the
    compiler vectorises (the triangle's rows, 1–15 long from the diagonal, ran scalar), and two detections
    per pass over the matrix (half the loads and stores). The upper triangle is kept, the lower copied
    from it."""
    n_par = 3 * (degree + 1)
    width = (n_par + ROW_PAD - 1) // ROW_PAD * ROW_PAD
    acc = np.zeros((n_par, width))
    jtz = np.zeros(n_par)
    chi2 = np.empty(t.size)
    b = np.empty(degree + 1)
    rows = np.zeros((4, width))  # rows (axis 0, axis 1) of a detection, then of the next one
    z = np.empty(4)
    for i0 in range(0, t.size, 2):
        m = min(2, t.size - i0)
        for j in range(m):
            i = i0 + j
            z[2 * j], z[2 * j + 1] = _detection_rows(
                theta, degree, t[i] - t_ref, pos[i], e1[i], e2[i], b, rows[2 * j], rows[2 * j + 1]
            )
            chi2[i] = 0.0
            chi2[i] += w[i] * z[2 * j] * z[2 * j]
            chi2[i] += w[i] * z[2 * j + 1] * z[2 * j + 1]
        ra, rb, rc, rd = rows[0], rows[1], rows[2], rows[3]
        wa, wb = w[i0], w[i0 + m - 1]
        for c in range(n_par):
            a0, a1, b0, b1 = wa * ra[c], wa * rb[c], wb * rc[c], wb * rd[c]
            jtz[c] += a0 * z[0]
            jtz[c] += a1 * z[1]
            out = acc[c]
            if m == 2:
                jtz[c] += b0 * z[2]
                jtz[c] += b1 * z[3]
                for c2 in range(width):
                    out[c2] = (((out[c2] + a0 * ra[c2]) + a1 * rb[c2]) + b0 * rc[c2]) + b1 * rd[c2]
            else:
                for c2 in range(width):
                    out[c2] = (out[c2] + a0 * ra[c2]) + a1 * rb[c2]
    info = np.empty((n_par, n_par))
    for c in range(n_par):
        for c2 in range(c, n_par):
            info[c, c2] = acc[c, c2]
            info[c2, c] = acc[c, c2]
    return info, jtz, chi2


@numba.njit(cache=True, inline="always")
def _detection_rows(theta, degree, tau, p, ea, eb, b, r0, r1):
    """Residuals ``(z0, z1)`` of one detection; its two rows of ``H`` (``basis ⊗ ∂z/∂r``) into ``r0``, ``r1``."""
    u0, u1, u2, rho = _unit_los(theta, degree, tau, p, b)
    z0 = ea[0] * u0 + ea[1] * u1 + ea[2] * u2
    g0, g1, g2 = (ea[0] - z0 * u0) / rho, (ea[1] - z0 * u1) / rho, (ea[2] - z0 * u2) / rho
    for k in range(degree + 1):
        r0[3 * k], r0[3 * k + 1], r0[3 * k + 2] = b[k] * g0, b[k] * g1, b[k] * g2
    z1 = eb[0] * u0 + eb[1] * u1 + eb[2] * u2
    g0, g1, g2 = (eb[0] - z1 * u0) / rho, (eb[1] - z1 * u1) / rho, (eb[2] - z1 * u2) / rho
    for k in range(degree + 1):
        r1[3 * k], r1[3 * k + 1], r1[3 * k + 2] = b[k] * g0, b[k] * g1, b[k] * g2
    return z0, z1


@numba.njit(cache=True)
def chi2_per_detection(theta, t_ref, degree, t, pos, e1, e2, w):
    """The ``χ²`` per detection ``(T,)`` of :func:`normal_equations` (same expressions and order: bit-identical),
    without the normal equations (the burnout smoother's outlier test needs only this)."""
    chi2 = np.empty(t.size)
    b = np.empty(degree + 1)
    for i in range(t.size):
        u0, u1, u2, rho = _unit_los(theta, degree, t[i] - t_ref, pos[i], b)
        chi2[i] = 0.0
        for axis in range(2):
            e = e1[i] if axis == 0 else e2[i]
            z = e[0] * u0 + e[1] * u1 + e[2] * u2
            chi2[i] += w[i] * z * z
    return chi2


@numba.njit(cache=True)
def gauss_newton(theta0, t_ref, degree, t, pos, e1, e2, w):
    """Gauss–Newton from ``θ0`` (at most :data:`GAUSS_NEWTON_ITERATIONS` steps, stop when the position
    coefficients move < :data:`CONVERGED_M`): ``(θ, covariance = pinv(HᵀWH) at θ, χ² per detection)``."""
    theta = theta0.copy()
    for _ in range(GAUSS_NEWTON_ITERATIONS):
        info, jtz, _ = normal_equations(theta, t_ref, degree, t, pos, e1, e2, w)
        step = -np.linalg.lstsq(info, jtz, rcond=LSTSQ_RCOND * info.shape[0])[0]  # numpy's default cut-off
        theta += step
        if max(abs(step[0]), abs(step[1]), abs(step[2])) < CONVERGED_M:
            break
    info, _, chi2 = normal_equations(theta, t_ref, degree, t, pos, e1, e2, w)
    return theta, np.linalg.pinv(info), chi2
