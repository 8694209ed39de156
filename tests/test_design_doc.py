"""docs/design.md's scenario example is a scenario the real schema accepts (docs/style.md rule 9).

Independent truth: :func:`vigil.sim.load_scenario`, the schema every scenario file goes through, on the
YAML block copied out of the document (its relative paths resolved against the shipped examples/)."""

from __future__ import annotations

import re
from pathlib import Path

from vigil.sim import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_design_scenario_example_loads(tmp_path):
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = text[text.index("## Scenario file") :]
    block = re.search(r"```yaml\n(.*?)```", section, flags=re.S).group(1)
    for folder in ("constellations", "agreements", "notifications"):
        (tmp_path / folder).symlink_to(ROOT / "examples" / folder)
    (tmp_path / "design.yaml").write_text(block, encoding="utf-8")
    scenario = load_scenario(tmp_path / "design.yaml")
    assert scenario.name == "two-partner-demo"
    assert [p.id for p in scenario.partners] == ["north", "east"]
    assert [la.id for la in scenario.launches] == ["L1", "F9"]
    assert len(scenario.agreements) == 1 and len(scenario.notifications) == 1
