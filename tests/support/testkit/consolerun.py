"""A real two-partner run for the console and report tests: two launches, one on each side of the
shipped agreement's east → north region.

L1 (45.0 N 63.3 E) lies inside the central-Asia box of the east → north direction, SR1 (34.0 N 36.0 E,
flying south) outside it: east's warnings of SR1 must never reach north, through the API or otherwise.
The run is made by the same code as ``vigil run``.
"""

from __future__ import annotations

from pathlib import Path

from .cutscenario import cut_scenario

ROOT = Path(__file__).resolve().parents[3]
TOKENS = {"north": "north-token-0123456789", "east": "east-token-0123456789ab"}
SCENARIO = cut_scenario(
    "console-cut",
    f"""notifications: [{ROOT}/examples/notifications/north.yaml, {ROOT}/examples/notifications/east.yaml]
agreements: [{ROOT}/examples/agreements/north-east.yaml]
""",
)


def make_console_run(base: Path) -> Path:
    """Write the scenario into ``base`` and run it (simulate, fuse, nodes, score); returns the run folder."""
    from vigil.app.run import run_scored

    scenario = base / "cut.yaml"
    scenario.write_text(SCENARIO)
    run_scored(scenario, base / "run", show_progress=False)
    return base / "run"
