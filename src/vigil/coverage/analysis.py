"""Coverage statistics per partner and joint, and the value-of-sharing table.

Time is sampled at ``start + k·step`` for ``k = 0 … n−1`` with ``n = duration / step``: each sample stands
for one step of time, so a fraction of samples is a fraction of time. The joint view is every partner's
satellites together, each with its own sensor model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..sensors.model import SensorModel
from ..space.constellation import Constellation
from ..space.propagation import propagate_ecef
from ..timescale import TimeGrid
from .grid import Grid
from .kernel import access_counts

TIME_CHUNK = 240  # instants per kernel call: bounds memory and drives the progress bar


@dataclass(frozen=True)
class Partner:
    """One partner in a coverage study: its name, satellites and sensor model."""

    name: str
    constellation: Constellation
    sensor: SensorModel


@dataclass(frozen=True)
class CoverageMaps:
    """Per-cell results ``(nlat, nlon)``: fraction of time seen by ≥1 and ≥2 satellites; longest gap (s)."""

    frac_1: np.ndarray
    frac_2: np.ndarray
    longest_gap_s: np.ndarray
    mean_frac_1: float
    mean_frac_2: float
    weights: np.ndarray  # (nlat * nlon,) area weights summing to 1

    def summary(self) -> dict:
        gap = self.longest_gap_s
        return {
            "mean_frac_1": self.mean_frac_1,
            "mean_frac_2": self.mean_frac_2,
            "min_frac_1": float(self.frac_1.min()),
            "area_frac_always_1": _area_where(self, self.frac_1 >= 1.0),
            "area_frac_always_2": _area_where(self, self.frac_2 >= 1.0),
            "max_longest_gap_s": float(gap.max()),
        }


def _area_where(maps: CoverageMaps, mask: np.ndarray) -> float:
    return float(maps.weights @ mask.ravel())


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of a study: ``partners`` maps each name to its maps; ``joint`` is all partners together."""

    grid: Grid
    times: TimeGrid
    step_s: float
    partners: dict[str, CoverageMaps]
    joint: CoverageMaps

    def to_json(self) -> dict:
        return {
            "start": self.times.epoch.isoformat().replace("+00:00", "Z"),
            "duration_s": len(self.times) * self.step_s,
            "step_s": self.step_s,
            "grid_deg": self.grid.step_deg,
            "altitude_km": self.grid.altitude_m / 1e3,
            "partners": {name: m.summary() for name, m in self.partners.items()},
            "joint": self.joint.summary(),
            "value_of_sharing": value_of_sharing(self),
        }


def compute_coverage(
    partners: list[Partner],
    grid: Grid,
    start: dt.datetime,
    duration_s: float,
    step_s: float,
    progress: Callable[[int, int], None] | None = None,
) -> CoverageResult:
    """Run the access kernel for ``partners`` over ``grid`` and ``[start, start + duration)`` every ``step_s``."""
    n_t = max(1, int(round(duration_s / step_s)))
    times = TimeGrid.from_offsets(start, np.arange(n_t) * step_s)
    joint = Constellation.merge("joint", [p.constellation for p in partners])
    group = np.concatenate([np.full(len(p.constellation), i) for i, p in enumerate(partners)]).astype(
        np.int64
    )
    sin_e = np.array([p.sensor.sin_min_elevation for p in partners])
    cos_for = np.array([p.sensor.cos_field_of_regard for p in partners])
    pts, up = grid.points_ecef_m()
    g1 = len(partners) + 1
    n1 = np.zeros((g1, grid.size), np.int64)
    n2 = np.zeros_like(n1)
    gap = np.zeros_like(n1)
    run = np.zeros_like(n1)  # unseen run length carried across chunks
    for lo in range(0, n_t, TIME_CHUNK):
        hi = min(n_t, lo + TIME_CHUNK)
        sub = TimeGrid.from_offsets(start, times.offsets_s[lo:hi])
        r = propagate_ecef(joint, sub).r_ecef_m
        c1, c2, cg, lead, tail = access_counts(r, group, len(partners), pts, up, sin_e, cos_for)
        n1 += c1
        n2 += c2
        gap = np.maximum(gap, np.maximum(cg, run + lead))
        run = np.where(tail == hi - lo, run + tail, tail)
        if progress:
            progress(hi, n_t)
    return _result(partners, grid, times, step_s, n1, n2, gap, n_t)


def _result(partners, grid, times, step_s, n1, n2, gap, n_t) -> CoverageResult:
    w = grid.weights()

    def maps(g: int) -> CoverageMaps:
        f1, f2 = n1[g] / n_t, n2[g] / n_t
        return CoverageMaps(
            frac_1=f1.reshape(grid.shape),
            frac_2=f2.reshape(grid.shape),
            longest_gap_s=(gap[g] * step_s).reshape(grid.shape),
            mean_frac_1=float(w @ f1),
            mean_frac_2=float(w @ f2),
            weights=w,
        )

    per = {p.name: maps(i) for i, p in enumerate(partners)}
    return CoverageResult(grid, times, float(step_s), per, maps(len(partners)))


def value_of_sharing(result: CoverageResult) -> list[dict]:
    """Rows of the value-of-sharing table: each partner alone, then all together (≥1 and ≥2)."""
    rows = [
        {"view": f"{name} alone", "mean_frac_1": m.mean_frac_1, "mean_frac_2": m.mean_frac_2}
        for name, m in result.partners.items()
    ]
    rows.append(
        {
            "view": " + ".join(result.partners) if len(result.partners) > 1 else "joint",
            "mean_frac_1": result.joint.mean_frac_1,
            "mean_frac_2": result.joint.mean_frac_2,
        }
    )
    return rows
