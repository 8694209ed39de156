"""CZML of the run's satellites for the dashboard's globe, from the same SGP4 propagation as the run.

CZML (Cesium's time-dynamic JSON, https://github.com/AnalyticalGraphicsInc/czml-writer/wiki/CZML-Guide):
one ``document`` packet with the clock, then one packet per satellite whose position is sampled in the
``FIXED`` frame (Earth-fixed, which is Vigil's ECEF) every ``step_s`` seconds and interpolated by the
viewer (Lagrange, degree 5). Positions come from :func:`vigil.space.propagation.propagate_ecef`, the
function the simulator uses; satellites whose SGP4 call failed at an instant have that sample left out.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

PARTNER_COLORS = (
    (31, 119, 180),
    (214, 39, 40),
    (44, 160, 44),
    (148, 103, 189),
    (255, 127, 14),
    (140, 86, 75),
)
"""RGB per partner in the order of the scenario (the same palette as the report and the dashboard)."""
STEP_S = 60.0
PATH_TRAIL_S = 1800.0


def partner_color(index: int) -> list[int]:
    """RGBA of the ``index``-th partner."""
    return [*PARTNER_COLORS[index % len(PARTNER_COLORS)], 255]


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def satellites_czml(
    scenario_path: Path, partners: set[str] | None, step_s: float = STEP_S
) -> list[dict[str, Any]]:
    """The CZML document of the satellites of ``partners`` (all when ``None``) over the scenario's span."""
    from vigil.sim import load_scenario
    from vigil.space.propagation import propagate_ecef
    from vigil.timescale import TimeGrid

    scenario = load_scenario(scenario_path)
    start = scenario.epoch
    offsets = np.arange(0.0, scenario.duration_s + step_s, step_s)
    times = TimeGrid.from_offsets(start, offsets)
    end = start + dt.timedelta(seconds=float(offsets[-1]))
    packets: list[dict[str, Any]] = [
        {
            "id": "document",
            "name": scenario.name,
            "version": "1.0",
            "clock": {
                "interval": f"{_iso(start)}/{_iso(end)}",
                "currentTime": _iso(start),
                "multiplier": 30,
                "range": "LOOP_STOP",
                "step": "SYSTEM_CLOCK_MULTIPLIER",
            },
        }
    ]
    for k, partner in enumerate(scenario.partners):
        if partners is not None and partner.id not in partners:
            continue
        eph = propagate_ecef(partner.constellation, times, workers=1)
        for n, name in enumerate(eph.names):
            packets.append(
                _satellite_packet(
                    f"{partner.id}-{n + 1}",
                    name,
                    partner.id,
                    partner_color(k),
                    offsets,
                    eph.r_ecef_m[:, n, :],
                    eph.ok[:, n],
                    start,
                    end,
                )
            )
    return packets


def _satellite_packet(
    sensor_id: str,
    name: str,
    partner: str,
    rgba: list[int],
    offsets_s: np.ndarray,
    r_ecef_m: np.ndarray,
    ok: np.ndarray,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, Any]:
    samples = np.column_stack([offsets_s, r_ecef_m])[ok]
    return {
        "id": f"sat/{sensor_id}",
        "name": f"{sensor_id} ({name})",
        "description": f"partner {partner}",
        "availability": f"{_iso(start)}/{_iso(end)}",
        "position": {
            "epoch": _iso(start),
            "referenceFrame": "FIXED",
            "interpolationAlgorithm": "LAGRANGE",
            "interpolationDegree": 5,
            "cartesian": [round(float(v), 1) for v in samples.ravel()],
        },
        "point": {
            "pixelSize": 7,
            "color": {"rgba": rgba},
            "outlineColor": {"rgba": [255, 255, 255, 255]},
            "outlineWidth": 1,
        },
        "path": {
            "width": 1,
            "leadTime": 0,
            "trailTime": PATH_TRAIL_S,
            "resolution": 120,
            "material": {"solidColor": {"color": {"rgba": [*rgba[:3], 150]}}},
        },
        "label": {
            "text": sensor_id,
            "font": "11px sans-serif",
            "pixelOffset": {"cartesian2": [8, 0]},
            "fillColor": {"rgba": rgba},
            "showBackground": False,
        },
        "properties": {"partner": partner},
    }
