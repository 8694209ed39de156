"""A real two-partner run for the console and report tests: two launches, one on each side of the
shipped agreement's east → north region.

L1 (45.0 N 63.3 E) lies inside the central-Asia box of the east → north direction, SR1 (34.0 N 36.0 E,
flying south) outside it: east's warnings of SR1 must never reach north, through the API or otherwise.
The run is made by the same code as ``vigil run``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOKENS = {"north": "north-token-0123456789", "east": "east-token-0123456789ab"}
SCENARIO = f"""
name: console-cut
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
notifications: [{ROOT}/examples/notifications/north.yaml, {ROOT}/examples/notifications/east.yaml]
agreements: [{ROOT}/examples/agreements/north-east.yaml]
"""



def make_console_run(base: Path) -> Path:
    """Write the scenario into ``base`` and run it (simulate, fuse, nodes, score); returns the run folder."""
    from vigil.fusion.commands import run_scored

    scenario = base / "cut.yaml"
    scenario.write_text(SCENARIO)
    run_scored(scenario, base / "run", show_progress=False)
    return base / "run"
