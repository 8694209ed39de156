"""Least-squares multi-ray triangulation with covariance, and the ray geometry it rests on.

A detection is a ray ``r = p + ρ u`` (sensor position ``p``, unit line of sight ``u``). A point ``x`` is
at perpendicular offset ``(I - u uᵀ)(x - p)`` from it; with angular noise σ (rad, per tangent axis) the
offset has standard deviation σ·ρ (m) in each of the two directions normal to ``u``. Minimising
``Σ |P_i (x - p_i)|² / (σ_i ρ_i)²`` gives the normal equations ``A x = b`` with ``A = Σ P_i/(σ_i ρ_i)²``,
and ``A⁻¹`` is the covariance of ``x`` (it is also the Fisher information's inverse: the estimator is
efficient for Gaussian LOS noise to first order). Ranges ρ_i depend on ``x``; two passes suffice
(relative range error after the first pass ≈ 1e-5 from GEO).
"""

from __future__ import annotations

import math

import numba
import numpy as np

RANGE_PASSES = 2  # re-weighting passes with the ranges of the previous solution (see module docstring)


def projector(u):
    """``I - u uᵀ`` for unit vectors ``u`` ``(..., 3)``: shape ``(..., 3, 3)``."""
    u = np.asarray(u, dtype=float)
    return np.eye(3) - u[..., :, None] * u[..., None, :]


def tangent_basis(u):
    """Two unit vectors ``(e1, e2)``, each ``(..., 3)``, completing unit ``u`` to a right-handed basis."""
    u = np.asarray(u, dtype=float)
    if u.ndim == 2:
        return tangent_basis_rows(np.ascontiguousarray(u))
    helper = np.where(np.abs(u[..., 2:3]) < 0.9, np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    e1 = np.cross(helper, u)
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    return e1, np.cross(u, e1)


@numba.njit(cache=True)
def tangent_basis_rows(u):
    """:func:`tangent_basis` of ``(N, 3)`` rows, compiled (same helper axis and handedness)."""
    e1 = np.empty_like(u)
    e2 = np.empty_like(u)
    for i in range(u.shape[0]):
        x, y, z = u[i, 0], u[i, 1], u[i, 2]
        if abs(z) < 0.9:  # helper (0, 0, 1): e1 = helper × u
            a, b, c = -y, x, 0.0
        else:  # helper (1, 0, 0)
            a, b, c = 0.0, -z, y
        n = math.sqrt(a * a + b * b + c * c)
        a, b, c = a / n, b / n, c / n
        e1[i, 0], e1[i, 1], e1[i, 2] = a, b, c
        e2[i, 0], e2[i, 1], e2[i, 2] = y * c - z * b, z * a - x * c, x * b - y * a
    return e1, e2


def closest_approach(p1, u1, p2, u2):
    """Closest approach between rays ``p1 + s u1`` and ``p2 + t u2`` (broadcast ``(..., 3)``).

    Returns ``(miss_m, midpoint (..., 3), s_m, t_m)``: the shortest distance between the lines, the
    midpoint of the shortest segment and the distances along each ray. Parallel rays give NaN.
    """
    p1, u1, p2, u2 = (np.asarray(a, dtype=float) for a in (p1, u1, p2, u2))
    w = p1 - p2
    b = np.einsum("...i,...i->...", u1, u2)
    d = np.einsum("...i,...i->...", u1, w)
    e = np.einsum("...i,...i->...", u2, w)
    den = 1.0 - b * b
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (b * e - d) / den
        t = (e - b * d) / den
    q1 = p1 + s[..., None] * u1
    q2 = p2 + t[..., None] * u2
    return np.linalg.norm(q1 - q2, axis=-1), 0.5 * (q1 + q2), s, t


def triangulate(origins_m, los, sigma_rad):
    """Weighted least-squares intersection of N ≥ 2 rays, batched over leading axes.

    ``origins_m`` ``(..., N, 3)`` sensor positions (m), ``los`` ``(..., N, 3)`` unit vectors, ``sigma_rad``
    ``(..., N)`` angular 1σ. Returns ``(x_m (..., 3), cov_m2 (..., 3, 3))``.
    """
    p = np.asarray(origins_m, dtype=float)
    u = np.asarray(los, dtype=float)
    sigma = np.broadcast_to(np.asarray(sigma_rad, dtype=float), u.shape[:-1])
    proj = projector(u)
    rng = np.ones(u.shape[:-1])
    x = None
    for _ in range(RANGE_PASSES):
        w = 1.0 / (sigma * rng) ** 2
        a = np.einsum("...n,...nij->...ij", w, proj)
        b = np.einsum("...n,...nij,...nj->...i", w, proj, p)
        x = np.linalg.solve(a, b[..., None])[..., 0]
        rng = np.einsum("...ni,...ni->...n", x[..., None, :] - p, u)
    w = 1.0 / (sigma * rng) ** 2
    cov = np.linalg.inv(np.einsum("...n,...nij->...ij", w, proj))
    return x, cov
