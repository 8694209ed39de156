"""The `vigil coverage` CLI contract: JSON shape, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vigil.cli import main

ROOT = Path(__file__).resolve().parents[2]
NORTH = ROOT / "examples/constellations/north.tle"
EAST = ROOT / "examples/constellations/east.json"
BASE = [
    "coverage",
    "--start",
    "2026-03-01T00:00:00Z",
    "--hours",
    "2",
    "--step-s",
    "600",
    "--grid-deg",
    "10",
    "--min-elevation-deg",
    "5",
    "--quiet",
]


def test_json_contract_with_two_partners(tmp_path):
    out = tmp_path / "c.json"
    png = tmp_path / "maps" / "c.png"
    code = main(
        [
            *BASE,
            "--constellation",
            f"north={NORTH}",
            "--constellation",
            f"east={EAST}",
            "--json",
            str(out),
            "--png",
            str(png),
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert set(data["partners"]) == {"north", "east"}
    for block in [*data["partners"].values(), data["joint"]]:
        assert 0.0 <= block["mean_frac_2"] <= block["mean_frac_1"] <= 1.0
    assert data["joint"]["mean_frac_1"] >= max(b["mean_frac_1"] for b in data["partners"].values())
    assert [row["view"] for row in data["value_of_sharing"]] == ["north alone", "east alone", "north + east"]
    assert png.stat().st_size > 10_000


def test_one_constellation_joint_equals_it(tmp_path):
    out = tmp_path / "c.json"
    assert main([*BASE, "--constellation", str(NORTH), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert list(data["partners"]) == ["north"]  # name defaults to the file stem
    assert data["joint"]["mean_frac_1"] == data["partners"]["north"]["mean_frac_1"]
    assert data["joint"]["mean_frac_2"] == data["partners"]["north"]["mean_frac_2"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--grid-deg", "7"], "--grid-deg"),
        (["--grid-deg", "0"], "--grid-deg"),
        (["--hours", "-1"], "--hours"),
        (["--step-s", "0"], "--step-s"),
        (["--start", "yesterday"], "--start"),
        (["--min-elevation-deg", "95"], "--min-elevation-deg"),
        (["--altitude-km", "5000"], "--altitude-km"),
        (["--constellation", "=x.tle"], "--constellation"),
        (["--constellation", "a=/no/such/file.tle"], "file.tle"),
        (["--constellation", f"a={NORTH}", "--constellation", f"a={EAST}"], "twice"),
        (["--step-s", "abc"], "step"),
    ],
)
def test_bad_flags_give_one_line_and_nonzero_exit(args, needle):
    argv = list(BASE)
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag in argv and flag != "--constellation":
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    if "--constellation" not in args:
        argv += ["--constellation", str(NORTH)]
    proc = subprocess.run(
        [sys.executable, "-m", "vigil.cli", *argv], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error:") and needle in lines[0]
    assert "Traceback" not in proc.stderr
