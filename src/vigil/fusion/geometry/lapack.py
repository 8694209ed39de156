"""LAPACK's linear solve called directly from compiled kernels, for the many tiny systems of the fusion loop.

``numpy.linalg.solve`` inside a numba kernel wraps LAPACK ``dgesv`` in checks, copies and allocations that cost
twice the solve itself on a 3×3 system (~210 of ~320 ns; a triangulated instant solves two). :func:`solve`
makes the same ``dgesv`` call through the same entry point (numba's LAPACK binding: the same library and
routine, so the same bits, tested against ``numpy.linalg.solve``) with the same checks and errors, into
caller-provided buffers.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import types

try:  # numba's own (private) binding of LAPACK dgesv: what np.linalg.solve calls inside numba (numba 0.59-0.68)
    from numba.np.linalg import _LAPACK, F_INT_nptype

    _XGESV = _LAPACK().numba_xgesv(types.float64)
except (ImportError, AttributeError):  # a numba without it: the public path, same dgesv and bits, ~2x slower
    _XGESV = None
    F_INT_nptype = np.int32
_KIND_DOUBLE = ord("d")


@numba.njit(cache=True)
def pivots(n):
    """A pivot buffer for :func:`solve` of ``n`` unknowns (LAPACK's integer type)."""
    return np.empty(n, dtype=F_INT_nptype)


@numba.njit(cache=True)
def solve(a, b, lu, x, ipiv):
    """``x = numpy.linalg.solve(a, b)`` for a square ``a`` ``(n, n)`` and one right-hand side ``b`` ``(n,)``,
    bit for bit: ``lu`` ``(n, n)`` receives ``a`` in Fortran order (then its LU factors), ``x`` ``(n,)`` the
    solution, ``ipiv`` (:func:`pivots`) the pivots. Raises ``LinAlgError`` as numpy's would in numba (non-finite
    input, singular matrix)."""
    n = a.shape[0]
    if _XGESV is None:
        x[:] = np.linalg.solve(a, b)
        return x
    for i in range(n):
        if not np.isfinite(b[i]):
            raise np.linalg.LinAlgError("Array must not contain infs or NaNs.")
        for j in range(n):
            if not np.isfinite(a[i, j]):
                raise np.linalg.LinAlgError("Array must not contain infs or NaNs.")
    for i in range(n):
        x[i] = b[i]
        for j in range(n):
            lu[j, i] = a[i, j]  # Fortran order: column i of a is row i of lu
    info = _XGESV(_KIND_DOUBLE, n, 1, lu.ctypes, n, ipiv.ctypes, x.ctypes, n)
    if info > 0:
        raise np.linalg.LinAlgError("Matrix is singular to machine precision.")
    return x
