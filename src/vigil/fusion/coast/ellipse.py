"""The error ellipse of a 2-D Gaussian on the local tangent plane (east, north): bearing of the major axis and
semi-axes at a containment probability, ``k² = -2 ln(1 - p)`` (χ², 2 dof). Used for impact and launch points.

The 2×2 eigen-decomposition is LAPACK's own scalar path (:func:`_eigh2`), compiled (:func:`_ellipse_axes`);
``numpy.linalg.eigh`` where LAPACK would take another path.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

DEFAULT_CONTAINMENT = 0.95


def ellipse_from_cov(cov_en_m2, containment: float = DEFAULT_CONTAINMENT) -> tuple[float, float, float]:
    """``(bearing_deg from north, a_km, b_km)`` of the ``containment`` ellipse of a 2-D east/north covariance.

    The eigen-decomposition is :func:`_eigh2`, LAPACK's own 2×2 path in scalar arithmetic (bit-identical to
    ``numpy.linalg.eigh``, ~4× cheaper: one ellipse per warning), compiled with the axes
    (:func:`_ellipse_axes`); ``numpy.linalg.eigh`` where LAPACK would take another
    path (diagonal or nearly so, non-finite or extreme entries)."""
    cov = np.asarray(cov_en_m2)
    a, b, c = float(cov[0, 0]), float(cov[1, 0]), float(cov[1, 1])  # eigh reads the lower triangle
    k = _chi2_2dof_scale(float(containment))
    done, v0, v1, major, minor = _ellipse_axes(a, b, c, k)
    if not done:
        if math.isfinite(a + b + c) and _EIGH2_MIN < max(abs(a), abs(b), abs(c)) < _EIGH2_MAX and b == 0.0:
            # diagonal: LAPACK splits it, then sorts (swaps if c < a)
            (small, large), (v0, v1) = ((c, a), (1.0, 0.0)) if c < a else ((a, c), (0.0, 1.0))
        else:
            vals, vecs = np.linalg.eigh(cov)
            (small, large), (v0, v1) = (
                (float(vals[0]), float(vals[1])),
                (float(vecs[0, 1]), float(vecs[1, 1])),
            )
        major, minor = k * math.sqrt(max(large, 0.0)) / 1e3, k * math.sqrt(max(small, 0.0)) / 1e3
    bearing = (
        math.degrees(float(np.arctan2(v0, v1))) % 180.0
    )  # numpy's arctan2 (≠ math.atan2 in the last bit)
    return bearing, major, minor


_EIGH2_MIN, _EIGH2_MAX = 1e-100, 1e100  # LAPACK scales matrices near under/overflow (another path)
_EIGH2_MIN_OFF_DIAGONAL = 1e-6  # relative off-diagonal below which LAPACK may deflate (at ~1e-16)


@functools.lru_cache(maxsize=16)
def _chi2_2dof_scale(containment: float) -> float:
    """``k = sqrt(-2 ln(1 - p))`` (χ², 2 dof), by numpy (its log may differ from ``math.log`` in the last bit)."""
    return float(np.sqrt(-2.0 * np.log(1.0 - containment)))


def _eigh2(a: float, b: float, c: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Eigenvalues (ascending) and the eigenvector of the larger one of ``[[a, b], [b, c]]``, as LAPACK's
    ``dsyevd`` computes them for a 2×2 matrix that needs no scaling or deflation: ``dsteqr``'s ``dlaev2``
    (Kahan's careful 2×2 formulas, same operations in the same order), its one plane rotation of the
    identity, then the ascending sort. Tested bit for bit against ``numpy.linalg.eigh``."""
    sm, df, tb = a + c, a - c, b + b
    adf, ab = abs(df), abs(tb)
    acmx, acmn = (a, c) if abs(a) > abs(c) else (c, a)
    if adf > ab:
        r = ab / adf
        rt = adf * math.sqrt(1.0 + r * r)
    elif adf < ab:
        r = adf / ab
        rt = ab * math.sqrt(1.0 + r * r)
    else:
        rt = ab * math.sqrt(2.0)
    if sm < 0.0:
        rt1, sgn1 = 0.5 * (sm - rt), -1
        rt2 = (acmx / rt1) * acmn - (b / rt1) * b
    elif sm > 0.0:
        rt1, sgn1 = 0.5 * (sm + rt), 1
        rt2 = (acmx / rt1) * acmn - (b / rt1) * b
    else:
        rt1, rt2, sgn1 = 0.5 * rt, -0.5 * rt, 1
    cs, sgn2 = (df + rt, 1) if df >= 0.0 else (df - rt, -1)
    if abs(cs) > ab:
        ct = -tb / cs
        sn1 = 1.0 / math.sqrt(1.0 + ct * ct)
        cs1 = ct * sn1
    else:  # ab > 0 here (b ≠ 0 is required by the caller)
        tn = -cs / tb
        cs1 = 1.0 / math.sqrt(1.0 + tn * tn)
        sn1 = tn * cs1
    if sgn1 == sgn2:
        cs1, sn1 = -sn1, cs1
    # eigenvectors: columns (cs1, sn1) for rt1 and (-sn1, cs1) for rt2; sorted ascending (swap only if rt2 < rt1)
    if rt2 < rt1:
        return (rt2, rt1), (cs1, sn1)
    return (rt1, rt2), (-sn1, cs1)


_eigh2_compiled = numba.njit(cache=True)(_eigh2)  # (the same source: same operations, no fast-math)


@numba.njit(cache=True)
def _ellipse_axes(a, b, c, k):
    """``(done, v0, v1, a_km, b_km)`` of :func:`ellipse_from_cov` for ``[[a, b], [b, c]]`` where LAPACK takes the
    :func:`_eigh2` path (else ``done`` False: the caller's other paths); ``v0, v1``: the major axis."""
    regular = math.isfinite(a + b + c) and _EIGH2_MIN < max(abs(a), abs(b), abs(c)) < _EIGH2_MAX
    if not (regular and abs(b) > _EIGH2_MIN_OFF_DIAGONAL * math.sqrt(abs(a) * abs(c))):
        return False, 0.0, 0.0, 0.0, 0.0
    (small, large), (v0, v1) = _eigh2_compiled(a, b, c)
    large = (
        0.0 if 0.0 > large else large
    )  # max(large, 0.0), Python's (first argument unless the second is greater)
    small = 0.0 if 0.0 > small else small
    return True, v0, v1, k * math.sqrt(large) / 1e3, k * math.sqrt(small) / 1e3
