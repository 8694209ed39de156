"""Rays at common instants and their compiled triangulation: the seeds of the association's pairing and of the
launch fit. :func:`triangulate_instants` takes each instant's rays into :class:`Rays` and solves them by
:func:`_triangulate_one` with one set of :class:`SolveWork` buffers."""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from vigil.fusion.geometry.lapack import pivots
from vigil.fusion.geometry.lapack import solve as lapack_solve
from vigil.fusion.geometry.triangulate import RANGE_PASSES


class Rays(NamedTuple):
    """Rays to triangulate, one per row (a caller's buffer: only its first rows may be in use)."""

    pos: np.ndarray  # (R, 3) sensor position (ECEF), m
    los: np.ndarray  # (R, 3) unit line of sight (ECEF)
    sigma: np.ndarray  # (R,) LOS noise, rad


class SolveWork(NamedTuple):
    """Work buffers of the iterated weighted least-squares point of rays (reused for every instant)."""

    rng: np.ndarray  # (R,) range along each ray, m
    a: np.ndarray  # (3, 3) normal matrix
    b: np.ndarray  # (3,) right-hand side
    lu: np.ndarray  # (3, 3) LU factors of the solve
    ipiv: np.ndarray  # (3,) its pivots (:func:`vigil.fusion.geometry.lapack.pivots`)


@numba.njit(cache=True, error_model="numpy")
def triangulate_instants(p, u, sigma, ip, iu, osig, solve):
    """Each instant ``k``'s ray ``(p[k], u[k], sigma[k])`` with the other strings' rays interpolated to it
    (``ip, iu`` ``(S, T, 3)``, NaN where a string does not cover it; σ ``osig``) triangulated when ≥ 2 rays:
    ``(points (T, 3), keep (T,))``; ``solve`` False: ``keep`` only (points zero). One set of work buffers for
    all instants, rays copied element by element (per-instant allocations and row copies: 79 instants of 4
    rays took 41 µs, now 36)."""
    n_other = osig.size
    pts = np.zeros((p.shape[0], 3))
    keep = np.zeros(p.shape[0], dtype=np.bool_)
    rays = Rays(np.empty((n_other + 1, 3)), np.empty((n_other + 1, 3)), np.empty(n_other + 1))
    rp, ru, rs = rays
    work = SolveWork(np.empty(n_other + 1), np.empty((3, 3)), np.empty(3), np.empty((3, 3)), pivots(3))
    x = np.empty(3)
    for k in range(p.shape[0]):
        m = 1
        for j in range(n_other):
            if np.isfinite(iu[j, k, 0]) and np.isfinite(iu[j, k, 1]) and np.isfinite(iu[j, k, 2]):
                if solve:
                    for c in range(3):
                        rp[m, c], ru[m, c] = ip[j, k, c], iu[j, k, c]
                    rs[m] = osig[j]
                m += 1
        if m >= 2:
            if solve:
                for c in range(3):
                    rp[0, c], ru[0, c] = p[k, c], u[k, c]
                rs[0] = sigma[k]
                _triangulate_one(rays, m, work, x)
                for c in range(3):
                    pts[k, c] = x[c]
            keep[k] = True
    return pts, keep


@numba.njit(cache=True, error_model="numpy")
def _triangulate_one(rays, m, work, x):
    """:func:`~vigil.fusion.geometry.triangulate.triangulate` of the first ``m`` of ``rays``
    (:class:`~vigil.fusion.association.rays.Rays`; same passes), compiled, into ``x`` (3,) (``work``:
    :class:`~vigil.fusion.association.rays.SolveWork`). The 3×3 solves are
    :func:`vigil.fusion.geometry.lapack.solve` (``numpy.linalg.solve``'s LAPACK call, bit for bit, without its
    wrapping: ~2× faster per instant)."""
    p, u, sigma = rays
    rng, a, b, lu, ipiv = work
    for n in range(m):
        rng[n] = 1.0
    for _ in range(RANGE_PASSES):
        a[:] = 0.0
        b[:] = 0.0
        for n in range(m):
            w = 1.0 / (sigma[n] * rng[n]) ** 2
            for i in range(3):
                for j in range(3):
                    pij = (1.0 if i == j else 0.0) - u[n, i] * u[n, j]
                    a[i, j] += w * pij
                    b[i] += w * pij * p[n, j]
        lapack_solve(a, b, lu, x, ipiv)
        for n in range(m):
            rng[n] = (x[0] - p[n, 0]) * u[n, 0] + (x[1] - p[n, 1]) * u[n, 1] + (x[2] - p[n, 2]) * u[n, 2]
    return x
