"""Coverage of a node's view over its run: the fraction of time each cell is seen by ≥ 1 and ≥ 2 satellites
(stereo), for the node's own satellites alone and with the satellites whose data was released to it.

The numbers come from :func:`vigil.coverage.analysis.compute_coverage` (the access kernel of ``vigil
coverage``) on the scenario's constellations and sensor models, over the scenario's span; the stereo map
of the view is also drawn as an equirectangular RGBA PNG the dashboard lays over the globe.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

GRID_DEG = 4.0
STEP_S = 60.0
OVERLAY_ALPHA = 0.45
OVERLAY_CMAP = "viridis"


@dataclass(frozen=True)
class ViewCoverage:
    """``summary``: JSON-ready figures; ``frac_2``: ``(nlat, nlon)`` stereo fraction of the whole view,
    rows south → north, columns west → east from −180°."""

    summary: dict[str, Any]
    frac_2: np.ndarray


def view_coverage(scenario_path: Path, own: str | None, partners: set[str]) -> ViewCoverage:
    """Coverage of ``partners``' satellites (``own`` alone first, when given) over the scenario."""
    from vigil.coverage.analysis import Partner, compute_coverage
    from vigil.coverage.grid import Grid
    from vigil.sim import load_scenario

    scenario = load_scenario(scenario_path)
    chosen = [Partner(p.id, p.constellation, p.sensor) for p in scenario.partners if p.id in partners]
    result = compute_coverage(chosen, Grid.global_(GRID_DEG), scenario.epoch, scenario.duration_s, STEP_S)
    summary: dict[str, Any] = {
        "partners": sorted(partners),
        "grid_deg": GRID_DEG,
        "step_s": STEP_S,
        "duration_s": scenario.duration_s,
        "per_partner": {name: _fractions(m) for name, m in result.partners.items()},
        "view": _fractions(result.joint),
    }
    if own is not None and own in result.partners:
        summary["own"] = _fractions(result.partners[own])
    return ViewCoverage(summary, result.joint.frac_2)


def _fractions(maps: Any) -> dict[str, float]:
    return {"mean_frac_1": float(maps.mean_frac_1), "mean_frac_2": float(maps.mean_frac_2)}


def overlay_png(frac_2: np.ndarray) -> bytes:
    """The stereo fraction as an RGBA PNG, north up, for a globe-wide single-tile overlay."""
    from matplotlib import colormaps
    from matplotlib.image import imsave

    rgba = colormaps[OVERLAY_CMAP](np.clip(frac_2[::-1], 0.0, 1.0))
    rgba[..., 3] = OVERLAY_ALPHA
    buf = io.BytesIO()
    imsave(buf, rgba, format="png")
    return buf.getvalue()
