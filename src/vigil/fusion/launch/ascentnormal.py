"""Compiled (numba) normal equations of the planar from-rest ascent model: ``JᵀWJ``, ``JᵀWz`` and ``χ²``.

Same model and residual as :class:`vigil.fusion.launch.ascentmodel.AscentModel` and
:func:`vigil.fusion.geometry.polytrack.los_residuals` (the tests check the normal equations against them to 1e-9):
``r = r_g(lat, lon) + h(τ)·up + s(τ)·(sin az·east + cos az·north)``, residuals ``z = (e1·û, e2·û)`` in the
tangent basis ``(e1, e2)`` of each measured LOS, weights ``1/σ²``. The kernels work on blocks of
:data:`BLOCK` detections (residuals, then ``J``, each quantity vectorised over the block) and accumulate
``JᵀWJ``, ``JᵀWz`` and ``χ²`` detection by detection in the order of the plain loop (bit-identical to it:
tests/fusion/test_ascentfit_kernels.py keeps it). An optional Gaussian prior on the launch time (mean, weight
``1/σ²``) is added as a pseudo-measurement: it stabilises the first fits, when ``t_L`` is barely observable.
The solver that uses them is :mod:`vigil.fusion.launch.ascentfit`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from vigil.frames import WGS84_A_M, WGS84_E2
from vigil.fusion.launch.ascentdata import Blocks, PadFrame

FACTORIALS = np.array([float(math.factorial(k)) for k in range(12)])


@numba.njit(cache=True, inline="always")
def _site_frame(phi):
    """The pad's frame at ``φ`` (lat, lon, t_L, azimuth, …): ``(sin lat, cos lat, sin az, cos az, east, north,
    up, prime-vertical radius, pad ECEF, along-track unit)`` — shared by the normal equations and the χ² test."""
    lat, lon, az = phi[0], phi[1], phi[3]
    sl, cl, so, co = math.sin(lat), math.cos(lat), math.sin(lon), math.cos(lon)
    sa, ca = math.sin(az), math.cos(az)
    nr = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * sl * sl)
    f = np.empty(
        (5, 3)
    )  # one allocation (this runs once per χ² evaluation): rows east, north, up, pad, along
    f[0, 0], f[0, 1], f[0, 2] = -so, co, 0.0
    f[1, 0], f[1, 1], f[1, 2] = -sl * co, -sl * so, cl
    f[2, 0], f[2, 1], f[2, 2] = cl * co, cl * so, sl
    f[3, 0], f[3, 1], f[3, 2] = nr * cl * co, nr * cl * so, nr * (1.0 - WGS84_E2) * sl
    for c in range(3):
        f[4, c] = sa * f[0, c] + ca * f[1, c]
    return sl, cl, sa, ca, f[0], f[1], f[2], nr, f[3], f[4]


@numba.njit(cache=True, inline="always")
def pad_up_along(phi):
    """``(pad ECEF, up, along-track unit)`` of :func:`_site_frame` as 9 scalars (:class:`PadFrame`): its
    expressions, without its array (the χ² pass needs only these, and runs ~20,000 times a salvo)."""
    lat, lon, az = phi[0], phi[1], phi[3]
    sl, cl, so, co = math.sin(lat), math.cos(lat), math.sin(lon), math.cos(lon)
    sa, ca = math.sin(az), math.cos(az)
    nr = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * sl * sl)
    return PadFrame(
        nr * cl * co,
        nr * cl * so,
        nr * (1.0 - WGS84_E2) * sl,
        cl * co,
        cl * so,
        sl,
        sa * -so + ca * (-sl * co),
        sa * co + ca * (-sl * so),
        sa * 0.0 + ca * cl,
    )


LANES = 4  # each JᵀWJ row is updated from the chunk of this many columns that holds its diagonal on
BLOCK = 16  # detections per block (the χ² pre-test may stop after any block; loops over a block vectorise)
DATA_ROWS = 11  # rows of a block of data: t, sensor position (3), e1 (3), e2 (3), weight
# rows of a block of scratch (b = degree + 1): τ^k/k! (k = 0..degree), then at b + 0: h, s, ρ, û (3), z (2),
# τ then dh/dτ, ds/dτ, gradients (e - z û)/ρ (2 × 3), then the Jacobian: 2·col + axis, col = 0..P-1
_H, _S, _RHO, _U, _Z, _TAU, _DS, _G, _J = 0, 1, 2, 3, 6, 8, 9, 10, 16


@numba.njit(cache=True)
def blocked_data(det):
    """The :class:`~vigil.fusion.launch.ascentdata.Detections` in blocks of :data:`BLOCK` ``(blocks, DATA_ROWS,
    BLOCK)``, one quantity per row (the last block padded with copies of the last detection, computed but never
    summed): the kernels' loops over a block run from 0 with unit stride: no index needs a sign check, and they
    vectorise."""
    t, pos, e1, e2, w = det
    n = t.size
    d = np.empty(((n + BLOCK - 1) // BLOCK, DATA_ROWS, BLOCK))
    for k in range(d.shape[0] * BLOCK):
        i, blk, q = min(k, n - 1), k // BLOCK, k % BLOCK
        d[blk, 0, q] = t[i]
        for c in range(3):
            d[blk, 1 + c, q] = pos[i, c]
            d[blk, 4 + c, q] = e1[i, c]
            d[blk, 7 + c, q] = e2[i, c]
        d[blk, 10, q] = w[i]
    return d


@numba.njit(cache=True)
def workspace(degree, n_par, data):
    """Scratch of the kernels below for the blocks of ``data``."""
    return np.empty((data.shape[0], degree + 1 + _J + 2 * n_par, BLOCK))


@numba.njit(cache=True)
def blocks(det, degree, n_par):
    """The :class:`~vigil.fusion.launch.ascentdata.Blocks` of ``det`` for a model of ``n_par`` parameters."""
    data = blocked_data(det)
    return Blocks(det.t.size, data, workspace(degree, n_par, data))


@numba.njit(cache=True)
def normal_equations(phi, objective, det):
    """``(JᵀWJ (P,P), JᵀWz (P,), χ²)`` of the ascent model at ``phi`` (see module docstring), ``objective`` and
    ``det``: :class:`~vigil.fusion.launch.ascentdata.Objective` and ``Detections``."""
    blocked = blocks(det, objective.degree, phi.size)
    chi2 = chi2_pass(phi, objective, blocked, np.nan)  # NaN: never stops early
    return normal_pass(phi, objective, blocked, chi2)


@numba.njit(cache=True)
def chi2_below(phi, objective, det, limit):
    """``χ²`` of :func:`normal_equations` (same expressions, same order: bit-identical) without ``JᵀWJ``, stopping
    as soon as the partial sum reaches ``limit`` (its terms are ≥ 0, so the total would too); returns the total,
    or a partial sum ≥ ``limit``. A rejected Levenberg–Marquardt trial (45 % of them on the 100-launch salvo)
    then costs a fraction of the normal equations."""
    return chi2_pass(phi, objective, blocks(det, objective.degree, phi.size), limit)


@numba.njit(cache=True)
def chi2_pass(phi, objective, blocked, limit):
    """:func:`chi2_below` of the detections in ``blocked`` (:class:`~vigil.fusion.launch.ascentdata.Blocks`), block
    by block; when it returns the total, ``blocked.ws`` holds every detection's residual terms (the normal equations
    of an accepted trial reuse them). ``limit`` NaN: no early stop."""
    degree, k0, prior_t, prior_w = objective
    n, data, ws = blocked
    frame = pad_up_along(phi)
    b = degree + 1
    chi2 = 0.0
    for blk in range(data.shape[0]):
        d, s = data[blk], ws[blk]
        _residual_terms(phi, degree, k0, d, s, frame)
        for i in range(min(BLOCK, n - blk * BLOCK)):  # per detection, in order (the sum is sequential)
            chi2 += d[10, i] * s[b + _Z, i] * s[b + _Z, i]
            chi2 += d[10, i] * s[b + _Z + 1, i] * s[b + _Z + 1, i]
            if chi2 >= limit:
                return chi2
    if prior_w > 0.0:
        r_t = phi[2] - prior_t
        chi2 += prior_w * r_t * r_t
    return chi2


@numba.njit(cache=True, error_model="numpy")
def _residual_terms(phi, degree, k0, d, s, frame):
    """Residual terms of one block ``d`` into its scratch ``s``: ``τ^k/k!``, ``h, s, ρ, û, z`` (rows above).
    Each quantity over the block's detections in turn: loops the compiler vectorises (divisions and square
    roots four at a time; the frame ``rg, up, along``: :class:`~vigil.fusion.launch.ascentdata.PadFrame`, in
    scalars so that no load needs an alias check); per detection the plain loop's expressions in its order
    (kept in tests/fusion, compared bit for bit)."""
    r0, r1, r2, v0, v1, v2, a0, a1, a2 = frame
    nb = s.shape[1]  # BLOCK (from the array: a constant trip count would be unrolled, not vectorised)
    nh = degree - 1
    t_l = phi[2]
    b = degree + 1
    for i in range(nb):
        s[b + _TAU, i] = max(d[0, i] - t_l, 0.0)
        s[0, i] = 1.0
        s[b + _H, i] = 0.0
        s[b + _S, i] = 0.0
    for k in range(1, degree + 1):
        for i in range(nb):
            s[k, i] = s[k - 1, i] * s[b + _TAU, i] / k
    for j in range(nh):
        c = phi[4 + j]
        for i in range(nb):
            s[b + _H, i] += c * s[j + 2, i]
    for j in range(degree - k0 + 1):
        c = phi[4 + nh + j]
        for i in range(nb):
            s[b + _S, i] += c * s[k0 + j, i]
    for i in range(nb):
        h, sa = s[b + _H, i], s[b + _S, i]
        d0 = r0 + h * v0 + sa * a0 - d[1, i]
        d1 = r1 + h * v1 + sa * a1 - d[2, i]
        d2 = r2 + h * v2 + sa * a2 - d[3, i]
        r = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
        x0, x1, x2 = d0 / r, d1 / r, d2 / r
        s[b + _RHO, i], s[b + _U, i], s[b + _U + 1, i], s[b + _U + 2, i] = r, x0, x1, x2
        s[b + _Z, i] = d[4, i] * x0 + d[5, i] * x1 + d[6, i] * x2
        s[b + _Z + 1, i] = d[7, i] * x0 + d[8, i] * x1 + d[9, i] * x2


@numba.njit(cache=True, error_model="numpy")
def _gradient_terms(phi, degree, k0, d, s):
    """After :func:`_residual_terms` of a block: ``dh/dτ`` (over ``τ``), ``ds/dτ`` and the gradients
    ``(e - z û)/ρ`` of both axes (vectorised like it; the plain loop's expressions)."""
    nb = s.shape[1]  # BLOCK (from the array: a constant trip count would be unrolled, not vectorised)
    nh = degree - 1
    b = degree + 1
    for i in range(nb):
        s[b + _TAU, i] = 0.0
        s[b + _DS, i] = 0.0
    for j in range(nh):
        c = phi[4 + j]
        for i in range(nb):
            s[b + _TAU, i] += c * s[j + 1, i]
    for j in range(degree - k0 + 1):
        c = phi[4 + nh + j]
        for i in range(nb):
            s[b + _DS, i] += c * s[k0 + j - 1, i]
    for axis in range(2):
        for c in range(3):
            g = b + _G + 3 * axis + c
            for i in range(nb):
                s[g, i] = (d[4 + 3 * axis + c, i] - s[b + _Z + axis, i] * s[b + _U + c, i]) / s[b + _RHO, i]


@numba.njit(cache=True, inline="always")
def _put_rows(s, row, b, i, q0, q1, q2):
    """Both axes' Jacobian entries ``g·q`` of detection ``i`` for a column with ``∂r/∂φ_col = q``."""
    s[row, i] = s[b + _G, i] * q0 + s[b + _G + 1, i] * q1 + s[b + _G + 2, i] * q2
    s[row + 1, i] = s[b + _G + 3, i] * q0 + s[b + _G + 4, i] * q1 + s[b + _G + 5, i] * q2


@numba.njit(cache=True, error_model="numpy")
def _jacobian_terms(degree, k0, s, cl, f):
    """The block's Jacobian columns (rows ``b + _J + 2·col + axis`` of ``s``), column by column over the
    detections (vectorised): ``∂r/∂φ`` as the plain loop writes it, ``f`` rows: mr·north, nr·cl·east,
    ∂along/∂(lat, lon, az), north, east, up, along."""
    nb = s.shape[1]  # BLOCK (from the array: a constant trip count would be unrolled, not vectorised)
    nh = degree - 1
    b = degree + 1
    j0 = b + _J
    m0, m1, m2, l0, l1, l2, n0, n1, n2 = (
        f[0, 0],
        f[0, 1],
        f[0, 2],
        f[2, 0],
        f[2, 1],
        f[2, 2],
        f[5, 0],
        f[5, 1],
        f[5, 2],
    )
    for i in range(nb):  # ∂/∂lat
        h, sa = s[b + _H, i], s[b + _S, i]
        _put_rows(s, j0, b, i, m0 + h * n0 + sa * l0, m1 + h * n1 + sa * l1, m2 + h * n2 + sa * l2)
    m0, m1, m2, l0, l1, l2, n0, n1, n2 = (
        f[1, 0],
        f[1, 1],
        f[1, 2],
        f[3, 0],
        f[3, 1],
        f[3, 2],
        f[6, 0],
        f[6, 1],
        f[6, 2],
    )
    for i in range(nb):  # ∂/∂lon
        hcl, sa = s[b + _H, i] * cl, s[b + _S, i]
        _put_rows(s, j0 + 2, b, i, m0 + hcl * n0 + sa * l0, m1 + hcl * n1 + sa * l1, m2 + hcl * n2 + sa * l2)
    v0, v1, v2, a0, a1, a2 = f[7, 0], f[7, 1], f[7, 2], f[8, 0], f[8, 1], f[8, 2]
    for i in range(nb):  # ∂/∂t_L
        dh, ds = s[b + _TAU, i], s[b + _DS, i]
        _put_rows(s, j0 + 4, b, i, -(dh * v0 + ds * a0), -(dh * v1 + ds * a1), -(dh * v2 + ds * a2))
    l0, l1, l2 = f[4, 0], f[4, 1], f[4, 2]
    for i in range(nb):  # ∂/∂az
        sa = s[b + _S, i]
        _put_rows(s, j0 + 6, b, i, sa * l0, sa * l1, sa * l2)
    for col in range(4, 4 + nh + degree - k0 + 1):  # the polynomial coefficients: τ^k/k! · (up or along)
        k = col - 2 if col < 4 + nh else k0 + col - 4 - nh
        q = 7 if col < 4 + nh else 8
        x0, x1, x2 = f[q, 0], f[q, 1], f[q, 2]
        for i in range(nb):
            p = s[k, i]
            _put_rows(s, j0 + 2 * col, b, i, p * x0, p * x1, p * x2)


@numba.njit(cache=True, error_model="numpy")
def normal_pass(phi, objective, blocked, chi2):
    """``(JᵀWJ, JᵀWz, χ²)`` at ``phi`` once :func:`chi2_pass` ran to the end on ``blocked`` (``chi2``: its total):
    :func:`normal_pass_into` new arrays."""
    n_par = phi.size
    jtj = np.empty((n_par, n_par))
    jtz = np.empty(n_par)
    normal_pass_into(phi, objective, blocked, normal_scratch(n_par), jtj, jtz)
    return jtj, jtz, chi2


@numba.njit(cache=True)
def normal_scratch(n_par):
    """Scratch of :func:`normal_pass_into`: ``(the upper JᵀWJ accumulator, 4 rows of a detection pair, the
    frame vectors of _jacobian_terms)``, the first two's columns padded to a multiple of :data:`LANES`."""
    width = (n_par + LANES - 1) // LANES * LANES
    return np.empty((n_par, width)), np.empty((4, width)), np.empty((9, 3))


@numba.njit(cache=True, error_model="numpy")
def normal_pass_into(phi, objective, blocked, scratch, jtj, jtz):
    """``JᵀWJ`` into ``jtj`` and ``JᵀWz`` into ``jtz`` at ``phi`` once :func:`chi2_pass` ran to the end on ``blocked``
    (``scratch``: :func:`normal_scratch`; the Levenberg–Marquardt loop reuses its buffers across iterations).
    Per element of ``JᵀWJ`` and ``JᵀWz``: detection by detection, axis 0 then axis 1, a product then an
    addition (the plain loop's order: bit-identical), laid out like
    :func:`vigil.fusion.geometry.polytrack.normal_equations`: rows updated from their first :data:`LANES`-chunk over
    zero-padded columns (vectorised), two detections per pass over the matrix (~30 % faster than the
    plain loop, and an accepted trial no longer recomputes the residuals of its χ² pre-test)."""
    degree, k0, prior_t, prior_w = objective
    n, data, ws = blocked
    n_par = phi.size
    sl, cl, sa, ca, east, north, up, nr, _, along = _site_frame(phi)
    mr = WGS84_A_M * (1.0 - WGS84_E2) / (1.0 - WGS84_E2 * sl * sl) ** 1.5
    acc, rows, f = (
        scratch  # f: see _jacobian_terms; rows (axis 0, axis 1) of a detection, then of the next one
    )
    for c in range(3):
        f[0, c], f[1, c], f[2, c] = mr * north[c], nr * cl * east[c], -ca * up[c]
        f[3, c] = sa * (sl * north[c] - cl * up[c]) - ca * sl * east[c]
        f[4, c] = ca * east[c] - sa * north[c]
        f[5, c], f[6, c], f[7, c], f[8, c] = north[c], east[c], up[c], along[c]
    acc[:] = 0.0  # (np.zeros: the padding columns must stay 0)
    rows[:] = 0.0
    jtz[:] = 0.0
    b = degree + 1
    j0 = b + _J
    for blk in range(data.shape[0]):
        d, s = data[blk], ws[blk]
        _gradient_terms(phi, degree, k0, d, s)
        _jacobian_terms(degree, k0, s, cl, f)
        n_blk = min(BLOCK, n - blk * BLOCK)
        for i0 in range(0, n_blk, 2):
            i1 = min(i0 + 1, n_blk - 1)
            for c in range(n_par):
                rows[0, c], rows[1, c] = s[j0 + 2 * c, i0], s[j0 + 2 * c + 1, i0]
                rows[2, c], rows[3, c] = s[j0 + 2 * c, i1], s[j0 + 2 * c + 1, i1]
            _accumulate(
                acc,
                jtz,
                rows,
                (d[10, i0], d[10, i1]),
                (s[b + _Z, i0], s[b + _Z + 1, i0], s[b + _Z, i1], s[b + _Z + 1, i1]),
                i1 > i0,
            )
    for c in range(n_par):
        for c2 in range(c, n_par):
            jtj[c, c2] = acc[c, c2]
            jtj[c2, c] = acc[c, c2]
    if prior_w > 0.0:
        jtz[2] += prior_w * (phi[2] - prior_t)
        jtj[2, 2] += prior_w


@numba.njit(cache=True, inline="always")
def _accumulate(acc, jtz, rows, w, z, two):
    """Add one detection's (``rows[0:2]``) or two detections' (``two``) terms to ``JᵀWJ`` (upper part of
    ``acc``: each row from its first :data:`LANES`-chunk on) and ``JᵀWz``: ``w = (w_a, w_b)`` the pair's
    weights, ``z = (z_a0, z_a1, z_b0, z_b1)`` its residuals (detection, axis)."""
    wa, wb = w
    za, zb, zc, zd = z
    width = acc.shape[1]
    for c in range(jtz.size):
        a0, a1, b0, b1 = wa * rows[0, c], wa * rows[1, c], wb * rows[2, c], wb * rows[3, c]
        jtz[c] += a0 * za
        jtz[c] += a1 * zb
        st = c // LANES * LANES
        out, ra, rb, rc, rd = acc[c, st:], rows[0, st:], rows[1, st:], rows[2, st:], rows[3, st:]
        if two:
            jtz[c] += b0 * zc
            jtz[c] += b1 * zd
            for c2 in range(width - st):  # from 0 over a view: no index sign check, vectorised
                out[c2] = (((out[c2] + a0 * ra[c2]) + a1 * rb[c2]) + b0 * rc[c2]) + b1 * rd[c2]
        else:
            for c2 in range(width - st):
                out[c2] = (out[c2] + a0 * ra[c2]) + a1 * rb[c2]
