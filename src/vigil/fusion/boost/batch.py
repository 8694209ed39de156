"""Boost filters run in batches: many filters through their detections in one compiled call, and a filter
started from triangulated seeds and run through its detections in another.

The filter itself (model, update, single-filter run) is :mod:`vigil.fusion.boost.filter`; these are the engine's
per-chunk and per-pairing paths, bit for bit the same numbers as :meth:`LosExtendedKalmanFilter.run`.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from vigil.fusion.boost.filter import NIS_REJECT, LosExtendedKalmanFilter, ekf_in_place, ekf_work, tuning
from vigil.fusion.boost.rays import LosRays, TangentRays
from vigil.fusion.geometry.polytrack import lstsq_min_norm
from vigil.fusion.geometry.triangulate import tangent_basis, tangent_basis_rows


class FilterBank(NamedTuple):
    """Many filters' states stacked, one row per filter (the ``store`` of :func:`run_filters`)."""

    x: np.ndarray  # (K, 9) state [r, v, a]: m, m/s, m/s²
    P: np.ndarray  # (K, 9, 9) covariance of x
    t: np.ndarray  # (K,) time of the state, s
    q: np.ndarray  # (K,) jerk spectral density, m²/s⁵


@numba.njit(cache=True)
def _ekf_batch(bank, rows, stops, rays, tune):
    """:func:`_ekf_sequence` for many filters in one call: filter ``k`` (row ``rows[k]`` of ``bank``, a
    :class:`FilterBank` updated in place) takes detections ``stops[k-1]:stops[k]`` of ``rays``
    (:class:`TangentRays`); returns the accepted mask of all detections (one set of scratch arrays for all
    filters)."""
    times, pos, e1, e2, sigma = rays
    xs, ps, ts, qs = bank
    accepted = np.zeros(times.size, dtype=np.bool_)
    work = ekf_work()
    lo = 0
    for k in range(stops.size):
        hi, r = stops[k], rows[k]
        part = TangentRays(times[lo:hi], pos[lo:hi], e1[lo:hi], e2[lo:hi], sigma[lo:hi])
        ts[r] = ekf_in_place(xs[r], ps[r], ts[r], qs[r], part, tune, accepted[lo:hi], work)
        lo = hi
    return accepted


@numba.njit(cache=True)
def _ekf_batch_take(bank, rows, stops, take, rays, tune):
    """:func:`_ekf_batch` of detections ``take`` (K,) of ``rays`` (:class:`LosRays`): the gathers and the
    tangent basis (:func:`~vigil.fusion.geometry.triangulate.tangent_basis`) in the same call (the engine's
    chunk rows)."""
    times, pos, los, sigma = rays
    t_k, p_k, s_k = np.empty(take.size), np.empty((take.size, 3)), np.empty(take.size)
    u_k = np.empty((take.size, 3))
    for i in range(take.size):
        r = take[i]
        t_k[i], s_k[i] = times[r], sigma[r]
        for c in range(3):
            p_k[i, c], u_k[i, c] = pos[r, c], los[r, c]
    e1, e2 = tangent_basis_rows(u_k)
    return _ekf_batch(bank, rows, stops, TangentRays(t_k, p_k, e1, e2, s_k), tune)


@numba.njit(cache=True)
def _seeded_run(seed_times, seed_points, min_acc_span, p0, q, rays, tune):
    """:func:`start_filter`'s work in one compiled call: the polynomial start through the seeds (the same
    basis ``τ^k / k!`` and compiled ``gelsd`` as :func:`~vigil.fusion.geometry.polytrack.initial_theta`), then
    :func:`ekf_in_place` through ``rays`` (:class:`LosRays`); returns ``(t, x, P)``."""
    t0 = seed_times[0]
    span = seed_times.max() - seed_times.min()
    degree = 2 if span >= min_acc_span else (1 if span > 0 else 0)
    b = np.empty((seed_times.size, degree + 1))
    for i in range(seed_times.size):
        tau = seed_times[i] - t0
        b[i, 0] = 1.0
        if degree >= 1:
            b[i, 1] = tau
        if degree >= 2:
            b[i, 2] = tau * tau / 2.0  # (numpy's tau**2 is the square)
    coeffs = lstsq_min_norm(b, seed_points)
    x = np.zeros(9)
    for k in range(degree + 1):
        for j in range(3):
            x[3 * k + j] = coeffs[k, j]
    p = p0.copy()
    t = t0
    if rays.time_s.size:
        e1, e2 = tangent_basis_rows(rays.los)
        accepted = np.zeros(rays.time_s.size, dtype=np.bool_)
        t = ekf_in_place(
            x, p, t0, q, TangentRays(rays.time_s, rays.pos, e1, e2, rays.sigma), tune, accepted, ekf_work()
        )
    return t, x, p


def _contiguous(rays: LosRays) -> LosRays:
    return LosRays(*(np.ascontiguousarray(a, dtype=float) for a in rays))


def start_filter(
    seed_times,
    seed_points,
    min_acc_span: float,
    p0,
    jerk_psd: float,
    rays: LosRays,
    nis_max: float = NIS_REJECT,
) -> LosExtendedKalmanFilter:
    """A :class:`LosExtendedKalmanFilter` started at the first seed time from a polynomial through the seeds
    (degree 2 over ``min_acc_span`` s or more, 1 over less, 0 for one instant), covariance ``p0``, then
    :meth:`~LosExtendedKalmanFilter.run` through the time-ordered detections ``rays``: the same numbers, bit
    for bit, from one compiled call instead of ~10 numpy calls (the filter (re)starts of every pairing and
    merge)."""
    t, x, p = _seeded_run(
        np.ascontiguousarray(seed_times, dtype=float),
        np.ascontiguousarray(seed_points, dtype=float),
        float(min_acc_span),
        p0,
        float(jerk_psd),
        _contiguous(rays),
        tuning(nis_max),
    )
    f = LosExtendedKalmanFilter.__new__(
        LosExtendedKalmanFilter
    )  # (the arrays are the kernel's own: no copies)
    f.t, f.x, f.P, f.q = t, x, p, jerk_psd
    return f


def run_filters(
    filters, stops, rays: LosRays, nis_max: float = NIS_REJECT, store=None, rows=None, take=None
) -> np.ndarray:
    """:meth:`LosExtendedKalmanFilter.run` of many filters in one compiled call: ``filters[k]`` takes the
    time-ordered detections ``stops[k-1]:stops[k]`` of the concatenated ``rays`` (:class:`LosRays`, N rows).
    Returns the ``(N,)`` mask of detections applied. ``take`` (N,): the detections are rows ``take`` of the
    arrays (gathered in the compiled call), not the arrays themselves.

    ``store``, ``rows``: where the caller keeps the filters' states stacked (``store`` = ``(x, P, t, q)``, rows
    ``rows[k]`` of filter ``k``, whose ``x`` and ``P`` are views of them: :class:`~vigil.fusion.events.gating.FilterStates`),
    the filters run in place there and only their times are written back; else their states are gathered
    here and the filters take the updated copies."""
    if not len(filters):
        return np.zeros(0, dtype=bool)
    gathered = store is None
    if gathered:
        store = (
            np.array([f.x for f in filters]),
            np.array([f.P for f in filters]),
            np.array([f.t for f in filters], dtype=float),
            np.array([f.q for f in filters], dtype=float),
        )
        rows = np.arange(len(filters))
    bank = FilterBank(*store)
    rows, stops = np.asarray(rows, dtype=np.int64), np.asarray(stops, dtype=np.int64)
    rays = _contiguous(rays)
    if take is not None:
        accepted = _ekf_batch_take(bank, rows, stops, np.asarray(take, dtype=np.int64), rays, tuning(nis_max))
    else:
        e1, e2 = tangent_basis(rays.los)
        accepted = _ekf_batch(
            bank, rows, stops, TangentRays(rays.time_s, rays.pos, e1, e2, rays.sigma), tuning(nis_max)
        )
    if gathered:
        for f, x, p, t in zip(filters, bank.x, bank.P, bank.t.tolist(), strict=True):
            f.x, f.P, f.t = x, p, t
    else:
        for f, t in zip(filters, bank.t[rows].tolist(), strict=True):
            f.t = t
    return accepted
