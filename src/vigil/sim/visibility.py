"""When could the satellites first see each plume? Geometric truth, independent of frames and of Pd.

On a grid of :data:`VISIBILITY_GRID_S` steps over the scenario, a plume *could be seen* by a satellite when
it radiates (lit, before burnout), is above the partner's ``visible_alt_m`` and satisfies the partner's
access rule (:meth:`vigil.sensors.model.SensorModel.sees`); light time is neglected here (< 0.15 s).
``first_stereo_visible_s`` is the first grid instant at which at least two satellites (of any partners)
could see it — the earliest moment a triangulation is geometrically possible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from ..frames import ecef_to_geodetic, up_vector
from ..space.propagation import propagate_ecef
from ..timescale import TimeGrid
from .observe import candidate_pairs
from .plumes import PlumeStack

VISIBILITY_GRID_S = 1.0  # resolution of the first-visibility times (s)


def visible_counts(
    stack: PlumeStack, partners: Sequence, grid: TimeGrid
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Number of satellites that could see each lit (grid instant, launch) pair: ``(t_index, launch, count)``."""
    t = grid.offsets_s
    f, lau = candidate_pairs(t, stack.t_first_s, np.minimum(stack.t_dark_s, stack.t_last_s))
    r = stack.position(lau, t[f])
    lit = stack.intensity(lau, t[f]) > 0.0
    lat, lon, alt = ecef_to_geodetic(r)
    up = up_vector(lat, lon)
    count = np.zeros(len(f), np.int64)
    for p in partners:
        eph = propagate_ecef(p.constellation, grid)
        r_sat = eph.r_ecef_m[f]  # (P, N, 3)
        with np.errstate(invalid="ignore"):
            sees = p.sensor.sees(r_sat, r[:, None, :], up[:, None, :]) & eph.ok[f]
        ok = lit & (alt >= p.signal.visible_alt_m)
        count += np.where(ok, sees.sum(axis=1), 0)
    return f, lau, count


def first_visible_times(stack: PlumeStack, partners: Sequence, epoch: dt.datetime, duration_s: float) -> dict:
    """Per launch (stack order): ``first_visible_s`` (≥ 1 satellite) and ``first_stereo_visible_s`` (≥ 2),
    seconds from the epoch or ``None`` when never within the scenario."""
    grid = TimeGrid.span(epoch, duration_s, VISIBILITY_GRID_S)
    f, lau, count = visible_counts(stack, partners, grid)
    out: dict[str, list] = {"first_visible_s": [], "first_stereo_visible_s": []}
    for key, need in (("first_visible_s", 1), ("first_stereo_visible_s", 2)):
        first = np.full(len(stack), np.inf)
        sel = count >= need
        np.minimum.at(first, lau[sel], grid.offsets_s[f[sel]])
        out[key] = [float(x) if np.isfinite(x) else None for x in first]
    return out
