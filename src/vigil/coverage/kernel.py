"""The access kernel: for every grid cell and instant, how many satellites of each group see it.

A numba kernel, parallel over cells, streams the satellites' ECEF positions ``(T, N, 3)`` once per cell
and applies the access rule of :class:`vigil.sensors.model.SensorModel` without a square root:
with ``d = s − p`` and ``a = d·up``, the elevation is at least ``E`` iff ``a ≥ |d| sin E``, i.e.
``a ≥ 0 and a² ≥ sin²E |d|²`` for ``E ≥ 0``. Per group (partner) and for all groups together (joint) it
accumulates the number of instants seen by ≥ 1 and by ≥ 2 satellites and the longest run of instants
seen by none. Satellites with NaN positions (SGP4 errors) never see anything.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np


class Satellite(NamedTuple):
    """A satellite at one instant: ECEF position (m) and its squared norm (m²)."""

    x: float
    y: float
    z: float
    r2: float


class Cell(NamedTuple):
    """A grid cell: ECEF position ``p`` (m), its squared norm (m²), unit up ``u`` and ``p·u`` (m)."""

    x: float
    y: float
    z: float
    r2: float
    up_x: float
    up_y: float
    up_z: float
    p_up: float


class AccessRule(NamedTuple):
    """A group's access rule: sine of the minimum elevation, its square, cosine of the field-of-regard
    half-angle (−1: unlimited)."""

    sin_e: float
    sin2_e: float
    cos_for: float


@numba.njit(cache=True, inline="always")
def _sees(sat, cell, rule):
    """Whether ``sat`` (:class:`Satellite`) sees ``cell`` (:class:`Cell`) under ``rule`` (:class:`AccessRule`)."""
    sp = sat.x * cell.x + sat.y * cell.y + sat.z * cell.z  # s·p
    a = sat.x * cell.up_x + sat.y * cell.up_y + sat.z * cell.up_z - cell.p_up
    d2 = sat.r2 - 2.0 * sp + cell.r2
    if rule.sin_e >= 0.0:
        ok = a >= 0.0 and a * a >= rule.sin2_e * d2
    else:
        ok = a >= 0.0 or a * a <= rule.sin2_e * d2
    if ok and rule.cos_for > -1.0:
        # off-nadir angle: cos = (s - p)·s / (|s - p| |s|)
        q = sat.r2 - sp
        ok = q >= 0.0 and q * q >= rule.cos_for * rule.cos_for * d2 * sat.r2
    return ok


@numba.njit(parallel=True, cache=True)
def access_counts(r_sat, group, n_groups, p, up, sin_e, cos_for):
    """Coverage accumulators for cells ``p`` ``(P, 3)`` with unit up ``up`` ``(P, 3)``.

    ``r_sat`` ``(T, N, 3)`` ECEF m; ``group`` ``(N,)`` int in ``[0, n_groups)``; ``sin_e`` and ``cos_for``
    ``(n_groups,)`` (sine of each group's minimum elevation; cosine of its field-of-regard half-angle, −1 =
    unlimited). Returns ``(n1, n2, gap, lead, tail)`` each ``(n_groups + 1, P)`` int64: instants seen by
    ≥ 1, by ≥ 2, the longest run of instants seen by none, and the unseen runs at the start and end of the
    span (so that spans processed in chunks join their gaps); row ``n_groups`` is the joint (all groups).
    """
    n_t, n_sat = r_sat.shape[0], r_sat.shape[1]
    n_pts = p.shape[0]
    g1 = n_groups + 1
    n1 = np.zeros((g1, n_pts), np.int64)
    n2 = np.zeros((g1, n_pts), np.int64)
    gap = np.zeros((g1, n_pts), np.int64)
    lead = np.full((g1, n_pts), n_t, np.int64)
    tail = np.full((g1, n_pts), n_t, np.int64)
    s2 = np.empty((n_t, n_sat))
    for t in range(n_t):
        for n in range(n_sat):
            s2[t, n] = r_sat[t, n, 0] ** 2 + r_sat[t, n, 1] ** 2 + r_sat[t, n, 2] ** 2
    for i in numba.prange(n_pts):
        px, py, pz = p[i, 0], p[i, 1], p[i, 2]
        ux, uy, uz = up[i, 0], up[i, 1], up[i, 2]
        cell = Cell(px, py, pz, px * px + py * py + pz * pz, ux, uy, uz, px * ux + py * uy + pz * uz)
        count = np.zeros(g1, np.int64)
        run = np.zeros(g1, np.int64)
        for t in range(n_t):
            count[:] = 0
            for n in range(n_sat):
                g = group[n]
                sat = Satellite(r_sat[t, n, 0], r_sat[t, n, 1], r_sat[t, n, 2], s2[t, n])
                if _sees(sat, cell, AccessRule(sin_e[g], sin_e[g] * sin_e[g], cos_for[g])):
                    count[g] += 1
            total = 0
            for g in range(n_groups):
                total += count[g]
            count[n_groups] = total
            for g in range(g1):
                c = count[g]
                if c >= 1:
                    n1[g, i] += 1
                    if c >= 2:
                        n2[g, i] += 1
                    run[g] = 0
                    if lead[g, i] == n_t:
                        lead[g, i] = t
                    tail[g, i] = n_t - 1 - t
                else:
                    run[g] += 1
                    if run[g] > gap[g, i]:
                        gap[g, i] = run[g]
    return n1, n2, gap, lead, tail
