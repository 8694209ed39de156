"""``vigil run`` and ``vigil fuse`` end to end on a small scenario, and ``vigil fuse`` on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vigil.cli import main
from vigil.records import ObservationBatch
from vigil.scoring import LAUNCH_KEYS
from vigil.sim import write_observations
from vigil.warning import warnings_from_document

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCENARIO = f"""
name: small
epoch: 2026-03-01T12:10:00Z
duration_s: 360
seed: 5
partners:
  - id: north
    constellation: {EXAMPLES / "constellations" / "north.tle"}
    sensor: {{frame_s: 1.0, los_sigma_urad: 20, false_alarms_per_frame: 0.01}}
  - id: east
    constellation: {EXAMPLES / "constellations" / "east.json"}
    sensor: {{frame_s: 1.0, los_sigma_urad: 20, false_alarms_per_frame: 0.01}}
launches:
  - {{id: SR1, site: {{lat_deg: 34.0, lon_deg: 36.0}}, time: 2026-03-01T12:12:00Z, azimuth_deg: 180,
      vehicle: notional-srbm-1stage}}
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("run")
    scenario = root / "small.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return root, str(scenario)


@pytest.fixture(scope="module")
def scored(run_dir):
    root, scenario = run_dir
    out = root / "out"
    assert main(["run", scenario, "--out", str(out), "--seed", "3", "--json"]) == 0
    return out


def test_run_writes_score_json_with_the_contract_keys(scored):
    data = json.loads((scored / "score.json").read_text())
    assert {"launches", "false_events"} <= set(data)
    assert isinstance(data["false_events"], int) and data["false_events"] >= 0
    (rec,) = data["launches"]
    assert tuple(rec) == LAUNCH_KEYS
    assert rec["id"] == "SR1" and rec["detected"] is True and rec["class_true"] == "ballistic"
    # an SRBM launched at 120 s is hidden by clouds until ~10 km: the first warning comes tens of s later
    assert 20.0 < rec["latency_s"] < 120.0
    assert rec["latency_from_stereo_s"] is not None and rec["latency_from_stereo_s"] >= 0.0
    assert rec["launch_crlb_km"] > 0.0 and rec["launch_error_km"] < 20.0
    assert rec["notification"] == "UNANNOUNCED"  # the scenario lists no notifications
    assert data["processing"]["simulated_s"] == 360.0 and data["processing"]["fusion_wall_s"] > 0.0


def test_run_writes_final_warnings_document(scored):
    epoch, warnings = warnings_from_document(json.loads((scored / "warnings.json").read_text()))
    assert epoch.startswith("2026-03-01T12:10:00")
    assert len({w.event_id for w in warnings}) == len(warnings) >= 1
    assert (scored / "observations.parquet").is_file() and (scored / "truth.json").is_file()


def test_fuse_of_the_run_observations_gives_the_same_events(scored, tmp_path):
    out = tmp_path / "w.json"
    assert main(["fuse", str(scored), "--out", str(out)]) == 0
    _, fused = warnings_from_document(json.loads(out.read_text()))
    _, ran = warnings_from_document(json.loads((scored / "warnings.json").read_text()))
    assert [(w.event_id, w.version, w.launch_lat_deg, w.launch_lon_deg) for w in fused] == [
        (w.event_id, w.version, w.launch_lat_deg, w.launch_lon_deg) for w in ran
    ]


def test_run_prints_a_table_per_launch(run_dir, capsys):
    root, scenario = run_dir
    assert main(["run", scenario, "--out", str(root / "table"), "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "SR1" in text and "false events:" in text and "processing:" in text


def test_run_bad_scenario_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nepoch: 2026-03-01T00:00:00Z\nduration_s: -1\npartners: []\n", encoding="utf-8")
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: bad.yaml") and "\n" not in err


# --- vigil fuse: bad observation files ------------------------------------------------------------
def _batch(n: int = 4) -> ObservationBatch:
    los = np.tile([0.0, 0.6, 0.8], (n, 1))
    return ObservationBatch(
        "2026-03-01T12:00:00Z",
        np.arange(n),
        np.array(["s1"] * n, dtype=object),
        np.array(["p"] * n, dtype=object),
        np.arange(n, dtype=float),
        np.tile([4.2e7, 0.0, 0.0], (n, 1)),
        los,
        np.full(n, 2e-5),
        np.full(n, 10.0),
        np.full(n, 1e6),
        np.arange(n),
    )


def _bad_files(tmp: Path) -> dict[str, Path]:
    files = {}
    lines = write_observations(_batch(), tmp / "ok.jsonl", "jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[2])
    row["los_sigma_rad"] = float("nan")
    lines[2] = json.dumps(row)  # Python writes the NaN token that some producers emit
    (tmp / "nan.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    files["nan"] = tmp / "nan.jsonl"
    long_los = _batch()
    long_los.los_ecef[1] = [0.0, 0.6, 0.81]
    files["non-unit"] = write_observations(long_los, tmp / "nonunit.parquet")
    back = _batch()
    back.time_s[:] = [0.0, 2.0, 1.0, 3.0]
    files["order"] = write_observations(back, tmp / "order.parquet")
    good = write_observations(_batch(), tmp / "good.parquet")
    table = pq.read_table(good)
    renamed = table.rename_columns(["time" if c == "time_s" else c for c in table.column_names])
    renamed = renamed.replace_schema_metadata(table.schema.metadata)
    pq.write_table(renamed, tmp / "schema.parquet")
    files["schema"] = tmp / "schema.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), tmp / "foreign.parquet")
    files["foreign"] = tmp / "foreign.parquet"
    (tmp / "garbage.parquet").write_bytes(b"not parquet at all")
    files["garbage"] = tmp / "garbage.parquet"
    (tmp / "keys.jsonl").write_text('{"epoch": "2026-03-01T12:00:00Z", "obs_id": 1}\n', encoding="utf-8")
    files["keys"] = tmp / "keys.jsonl"
    files["missing"] = tmp / "nowhere"
    return files


EXPECTED = {
    "nan": "not finite",
    "non-unit": "not a unit vector",
    "order": "before the previous",
    "schema": "missing",
    "foreign": "vigil.epoch",
    "garbage": "not a readable Parquet",
    "keys": "expected the keys",
    "missing": "no such observation file",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_fuse_bad_observation_file_is_one_line_and_non_zero(kind, tmp_path, capsys):
    path = _bad_files(tmp_path)[kind]
    rc = main(["fuse", str(path), "--out", str(tmp_path / "w.json")])
    err = capsys.readouterr().err.strip()
    assert rc != 0
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    assert EXPECTED[kind] in err
    assert not (tmp_path / "w.json").exists()


def test_fuse_good_file_without_launches_writes_an_empty_document(tmp_path):
    path = write_observations(_batch(), tmp_path / "good.parquet")
    out = tmp_path / "w.json"
    assert main(["fuse", str(path), "--out", str(out)]) == 0
    epoch, warnings = warnings_from_document(json.loads(out.read_text()))
    assert warnings == [] and epoch.startswith("2026-03-01T12:00:00")


@pytest.mark.slow
def test_demo_runs_coverage_then_the_scored_chain(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--examples", str(EXAMPLES)]) == 0
    text = capsys.readouterr().out
    assert "north + east" in text  # the value-of-sharing table
    for launch_id in ("L1", "IR1", "SR1", "SL1", "F9", "S1", "S2", "S3"):
        assert launch_id in text
    assert "false events:" in text
    score = json.loads((out / "run" / "score.json").read_text())
    assert [r["id"] for r in score["launches"]] == ["L1", "IR1", "SR1", "SL1", "F9", "S1", "S2", "S3"]
    assert (out / "coverage.png").is_file() and (out / "run" / "warnings.json").is_file()


def test_run_with_an_agreement_adds_the_sharing_block(run_dir):
    root, _ = run_dir
    scenario = root / "shared.yaml"
    agreement = EXAMPLES / "agreements" / "north-east.yaml"
    scenario.write_text(SCENARIO.replace("name: small", "name: shared") + f"agreements: [{agreement}]\n")
    out = root / "shared-out"
    assert main(["run", str(scenario), "--out", str(out), "--seed", "3", "--json"]) == 0
    sharing = json.loads((out / "score.json").read_text())["sharing"]
    assert sharing["launches"] == 1 and set(sharing["partners"]) == {"north", "east"}
    for part in sharing["partners"].values():
        # sharing never makes a partner see fewer launches or triangulate fewer
        assert part["shared"]["events_seen"] >= part["alone"]["events_seen"]
        assert part["shared"]["triangulated"] >= part["alone"]["triangulated"]
    # east releases observations whose line of sight meets the Earth inside its region box (false alarms
    # there included) to north; north releases all its observations to east (30 s late, fused all the same)
    assert sharing["partners"]["north"]["messages"]["received_detections"] > 0
    assert sharing["partners"]["east"]["messages"]["received_detections"] > 0


@pytest.mark.parametrize(("flag", "value"), [("--bus", "foo://x"), ("--db", "mysql://x")])
def test_run_with_a_bad_bus_or_db_url_is_one_line_before_any_work(flag, value, tmp_path, capsys):
    scenario = tmp_path / "shared.yaml"
    agreement = EXAMPLES / "agreements" / "north-east.yaml"
    scenario.write_text(SCENARIO + f"agreements: [{agreement}]\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), flag, value]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {flag} '{value}'") and "\n" not in err
    assert not (tmp_path / "out").exists()  # rejected before simulating
