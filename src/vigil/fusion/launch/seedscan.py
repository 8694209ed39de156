"""The launch-time seed scan that starts an event's first launch back-fit (:func:`seed_start`).

Per candidate launch time, the least-squares ground point and from-rest polynomial through the event's
triangulated seed points, scored by residual² + altitude²; the best lag's parameters start the
Levenberg–Marquardt fit of :mod:`vigil.fusion.launch.ascentfit`. The scan is approximate for all lags in one compiled
call and exact (numpy's own operations and summation order, bit-identical to
:func:`vigil.fusion.launch.backfit.initial_phi`'s arithmetic) for the lags near the best.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from vigil.frames import WGS84_A_M, WGS84_B_M, WGS84_E2, WGS84_EP2, WGS84_F
from vigil.fusion.launch.ascentnormal import FACTORIALS


def seed_start(degree: int, first_horizontal: int, seed_times, seed_points, lags_s) -> np.ndarray:
    """Batched :func:`vigil.fusion.launch.backfit.initial_phi`: the same launch-time scan (``t_L = min(seed_times) -
    lag`` for each of ``lags_s``; per lag, the least-squares ground point + from-rest polynomial through the
    triangulated ``seed_points`` ``(K, 3)`` m, scored by residual² + altitude²) solved by QR instead of one
    SVD per lag; returns the start ``φ`` (same layout and rounding-level values: tests/fusion check both
    agree).

    Exactly the numbers of the stacked numpy scan (QR, solve, residual, geodetic altitude of every lag, then the
    first minimum), at the cost of about one lag: every lag is first scored approximately in one compiled call
    (:func:`_scan_scores`, within ~1e-8 relative); only the lags scoring within :data:`SCAN_MARGIN` of the best are
    scored exactly — the powers and the geodetic conversion by numpy's ufuncs on arrays (their SIMD bits:
    elementwise the same for any subset of lags), the QR, solve and residual by :func:`_seed_lines` (numpy's
    LAPACK/BLAS calls and summation order, bit-identical). Where an approximate score is not finite (or there
    are fewer seeds than coefficients), every lag is scored exactly."""
    from vigil.frames import ecef_to_geodetic

    seed_times = np.asarray(seed_times, dtype=float)
    seed_points = np.ascontiguousarray(seed_points, dtype=float)
    t_l = seed_times.min() - np.asarray(lags_s, dtype=float)  # (L,)
    tau = seed_times[None, :] - t_l[:, None]  # (L, K)
    lags = np.arange(t_l.size)
    if seed_times.size >= degree:  # (fewer points than unknowns: numpy's solve raises)
        score = _scan_scores(tau, degree, seed_points)
        best = score.min()
        if np.isfinite(best) and np.all(np.isfinite(score)):
            lags = np.flatnonzero(score <= best + SCAN_MARGIN * (abs(best) + 1.0))
            tau = tau[lags]
    a = np.empty(tau.shape + (degree,))  # (lags, K, d): 1, τ²/2!, …, τ^d/d!
    a[..., 0] = 1.0
    for k in range(2, degree + 1):
        a[..., k - 1] = tau**k / FACTORIALS[k]
    coef, sq = _seed_lines(a, seed_points)  # (lags, d, 3), (lags,)
    lat, lon, alt = ecef_to_geodetic(coef[:, 0])
    resid = sq + alt**2
    k = int(np.argmin(resid))
    lat, lon = float(lat[k]), float(lon[k])
    return _seed_phi(coef[k, 1:], *_enu(lat, lon), lat, lon, float(t_l[lags[k]]), first_horizontal)


SCAN_MARGIN = (
    1e-4  # relative score band re-scored exactly (approximate scores: within 1e-8 over 500 random scans)
)


@numba.njit(cache=True, inline="always")
def _reflect(m, v, v_norm, j, c_lo, c_hi):
    """Apply the Householder reflection ``I - 2 v vᵀ / |v|²`` (``v`` nonzero from row ``j``) to columns
    ``c_lo..c_hi-1`` of ``m`` in place."""
    for c in range(c_lo, c_hi):
        f = 0.0
        for i in range(j, m.shape[0]):
            f += v[i] * m[i, c]
        f *= 2.0 / v_norm
        for i in range(j, m.shape[0]):
            m[i, c] -= f * v[i]


@numba.njit(cache=True)
def _scan_scores(tau, degree, points):
    """Approximate score (residual² + altitude²) of each lag of :func:`seed_start`: Householder least squares
    of the lag's basis ``1, τ²/2!, …, τ^d/d!`` against ``points``, the residual, and Bowring's altitude of the
    ground point (libm functions: not numpy's last bits, hence only to choose which lags to score exactly)."""
    n_lags, n_points = tau.shape
    score = np.empty(n_lags)
    a = np.empty((n_points, degree))
    b = np.empty((n_points, 3))
    v = np.empty(n_points)
    coef = np.empty((degree, 3))
    for lag in range(n_lags):
        for i in range(n_points):
            a[i, 0] = 1.0
            for k in range(2, degree + 1):
                a[i, k - 1] = tau[lag, i] ** k / FACTORIALS[k]
            for c in range(3):
                b[i, c] = points[i, c]
        for j in range(degree):  # Householder: a → R (upper), b → Qᵀ b
            norm = 0.0
            for i in range(j, n_points):
                norm += a[i, j] * a[i, j]
            alpha = -math.copysign(math.sqrt(norm), a[j, j])
            v_norm = 0.0
            for i in range(j, n_points):
                v[i] = a[i, j] - (alpha if i == j else 0.0)
                v_norm += v[i] * v[i]
            if v_norm == 0.0:
                continue
            _reflect(a, v, v_norm, j, j, degree)
            _reflect(b, v, v_norm, j, 0, 3)
        for c in range(3):  # R coef = (Qᵀ b)[:d]; the residual² is the rest of Qᵀ b
            for j in range(degree - 1, -1, -1):
                acc = b[j, c]
                for k in range(j + 1, degree):
                    acc -= a[j, k] * coef[k, c]
                coef[j, c] = acc / a[j, j]
        sq = 0.0
        for i in range(degree, n_points):
            for c in range(3):
                sq += b[i, c] * b[i, c]
        alt = _altitude_approx(coef[0, 0], coef[0, 1], coef[0, 2])
        score[lag] = sq + alt * alt
    return score


@numba.njit(cache=True)
def _altitude_approx(x, y, z):
    """:func:`vigil.frames.ecef_to_geodetic`'s altitude (same iterations) with libm functions."""
    p = math.hypot(x, y)
    beta = math.atan2(z, p * (1.0 - WGS84_F))
    lat = beta
    for _ in range(3):
        sb, cb = math.sin(beta), math.cos(beta)
        lat = math.atan2(z + WGS84_EP2 * WGS84_B_M * sb * sb * sb, p - WGS84_E2 * WGS84_A_M * cb * cb * cb)
        beta = math.atan2((1.0 - WGS84_F) * math.sin(lat), math.cos(lat))
    sin_lat = math.sin(lat)
    n = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    return p * math.cos(lat) + z * sin_lat - WGS84_A_M**2 / n


@numba.njit(cache=True)
def _seed_phi(coef, east, north, up, lat, lon, t_l, first_horizontal):
    """The start ``φ`` from the chosen lag's coefficients ``(d - 1, 3)`` (τ² … τ^d) and the ENU basis at its
    ground point: the azimuth of the horizontal coefficients (each weighted by its magnitude), then the
    vertical and along-track profiles; numpy's operations in its order (BLAS products, sums from 0,
    ``atan2``/``sin``/``cos`` of libm as Python's ``math``), bit-identical."""
    h_east, h_north = coef @ east, coef @ north
    n = h_east.size
    w_east, w_north = np.empty(n), np.empty(n)
    for k in range(n):
        w_east[k] = h_east[k] * abs(h_east[k])
        w_north[k] = h_north[k] * abs(h_north[k])
    az = math.atan2(_numpy_sum(w_east, 0, n), _numpy_sum(w_north, 0, n))
    along = math.sin(az) * east + math.cos(az) * north
    vertical, horizontal = coef @ up, coef @ along
    k0 = first_horizontal - 2
    phi = np.empty(4 + n + n - k0)
    phi[0], phi[1], phi[2], phi[3] = lat, lon, t_l, az
    phi[4 : 4 + n] = vertical
    phi[4 + n :] = horizontal[k0:]
    return phi


@numba.njit(cache=True)
def _seed_lines(a, points):
    """Per lag ``l``: the least-squares coefficients of ``a[l] c = points`` by QR (``c = R⁻¹ Qᵀ points``) and
    the sum of squared residuals: ``(coef (L, d, 3), sq (L,))``. The operations of the stacked numpy
    version (``np.linalg.qr``, ``einsum('lkd,kc->ldc')``, ``np.linalg.solve``, ``a @ coef``, ``np.sum(…,
    axis=(1, 2))``) one lag at a time: LAPACK's QR and LU, ``Qᵀ points`` summed in order, BLAS's product
    and numpy's pairwise sum (:func:`_numpy_sum`)."""
    n_lags, n_points, degree = a.shape
    coef = np.empty((n_lags, degree, 3))
    sq = np.empty(n_lags)
    err = np.empty(n_points * 3)
    for lag in range(n_lags):
        q, r = np.linalg.qr(a[lag])
        qp = np.empty((degree, 3))
        for d in range(degree):
            for c in range(3):
                acc = 0.0
                for k in range(n_points):
                    acc += q[k, d] * points[k, c]
                qp[d, c] = acc
        cl = np.linalg.solve(r, qp)
        coef[lag] = cl
        fitted = a[lag] @ cl
        for k in range(n_points):
            for c in range(3):
                e = fitted[k, c] - points[k, c]
                err[3 * k + c] = e * e
        sq[lag] = _numpy_sum(err, 0, err.size)
    return coef, sq


@numba.njit(cache=True)
def _numpy_sum(x, lo, n):
    """``x[lo:lo + n].sum()`` in numpy's order (``pairwise_sum``: blocks of up to 128 terms by
    :func:`_block_sum`, longer runs split in halves, a multiple of 8 first, and the halves' sums added), so that
    the compiled residual has numpy's bits. The halving walks an explicit stack (a cached recursive kernel
    crashes numba's cache loader)."""
    seg_lo = np.empty(64, dtype=np.int64)
    seg_n = np.empty(64, dtype=np.int64)
    seg_join = np.empty(64, dtype=np.bool_)
    values = np.empty(64)
    top, n_values = 1, 0
    seg_lo[0], seg_n[0], seg_join[0] = lo, n, False
    while top > 0:
        top -= 1
        start, size, join = seg_lo[top], seg_n[top], seg_join[top]
        if join:  # both halves done: left + right
            n_values -= 1
            values[n_values - 1] = values[n_values - 1] + values[n_values]
        elif size <= 128:
            values[n_values] = _block_sum(x, start, size)
            n_values += 1
        else:
            half = size // 2
            half -= half % 8
            seg_lo[top], seg_n[top], seg_join[top] = start, size, True
            seg_lo[top + 1], seg_n[top + 1], seg_join[top + 1] = start + half, size - half, False
            seg_lo[top + 2], seg_n[top + 2], seg_join[top + 2] = start, half, False
            top += 3
    return values[0]


@numba.njit(cache=True, inline="always")
def _block_sum(x, lo, n):
    """numpy's ``pairwise_sum`` of at most 128 terms: a plain loop under 8 terms, else 8 interleaved partial
    sums added pairwise, then the remainder in order."""
    if n < 8:
        total = 0.0
        for i in range(lo, lo + n):
            total += x[i]
        return total
    r0, r1, r2, r3 = x[lo], x[lo + 1], x[lo + 2], x[lo + 3]
    r4, r5, r6, r7 = x[lo + 4], x[lo + 5], x[lo + 6], x[lo + 7]
    i = 8
    while i + 8 <= n:
        k = lo + i
        r0, r1, r2, r3 = r0 + x[k], r1 + x[k + 1], r2 + x[k + 2], r3 + x[k + 3]
        r4, r5, r6, r7 = r4 + x[k + 4], r5 + x[k + 5], r6 + x[k + 6], r7 + x[k + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += x[lo + i]
        i += 1
    return total


def _enu(lat: float, lon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`vigil.frames.enu_basis` of one point: the same ufuncs and products on scalars (same values),
    without its broadcasting (~20 µs → ~2 µs)."""
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    return np.array([-so, co, 0.0]), np.array([-sl * co, -sl * so, cl]), np.array([cl * co, cl * so, sl])
