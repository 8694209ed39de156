"""Shared makings of the hostile-input tests: small valid files to break one field at a time, and the
check every rejection must pass (one ``error:`` line naming the field, exit 2, no traceback)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from vigil.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def scenario(**sensor: Any) -> dict[str, Any]:
    """A one-partner, one-launch scenario document (absolute paths) with ``sensor`` keys overridden."""
    return {
        "name": "hostile",
        "epoch": "2026-03-01T12:10:00Z",
        "duration_s": 120,
        "seed": 1,
        "partners": [
            {
                "id": "north",
                "constellation": str(EXAMPLES / "constellations" / "north.tle"),
                "sensor": {"frame_s": 1.0, "los_sigma_urad": 20, "false_alarms_per_frame": 0.01} | sensor,
            }
        ],
        "launches": [
            {
                "id": "SR1",
                "site": {"lat_deg": 34.0, "lon_deg": 36.0},
                "time": "2026-03-01T12:10:30Z",
                "azimuth_deg": 180,
                "vehicle": "notional-srbm-1stage",
            }
        ],
    }


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def one_error_line(capsys, argv: list[str], *needles: str) -> str:
    """Run the CLI; assert exit 2 and exactly one ``error:`` line on stderr containing every needle."""
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("warning:")]
    assert rc == 2, (rc, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
