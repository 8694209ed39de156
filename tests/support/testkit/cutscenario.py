"""The two-partner scenario cut to 840 s with two launches (an ICBM and an SRBM): the small real run that
fusion, sharing and console tests share."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def cut_scenario(name: str, extra: str = "") -> str:
    """The scenario's YAML text named ``name``; ``extra`` (YAML lines) is appended, e.g. agreements."""
    return f"""
name: {name}
epoch: 2026-03-01T12:00:00Z
duration_s: 840
seed: 7
partners:
  - id: north
    constellation: {ROOT}/examples/constellations/north.tle
    sensor: {{frame_s: 1.0, los_sigma_urad: 20, min_elevation_deg: 5, pd_snr50: 6.0, false_alarms_per_frame: 0.01}}
  - id: east
    constellation: {ROOT}/examples/constellations/east.json
    sensor: {{frame_s: 2.0, los_sigma_urad: 30, nei_w_m2: 2.0e-11, false_alarms_per_frame: 0.02}}
launches:
  - {{id: L1, site: {{lat_deg: 45.0, lon_deg: 63.3}}, time: 2026-03-01T12:05:00Z, azimuth_deg: 40,
     vehicle: notional-icbm-3stage}}
  - {{id: SR1, site: {{lat_deg: 34.0, lon_deg: 36.0}}, time: 2026-03-01T12:12:00Z, azimuth_deg: 180,
     vehicle: notional-srbm-1stage}}
{extra}"""
