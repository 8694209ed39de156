"""`vigil simulate` end to end: files written, bit-for-bit reproducible, shipped scenarios run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
import yaml
from typer.testing import CliRunner

from vigil.sim.commands import register, run_simulate
from vigil.sim.io import read_associations, read_observations

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


def _scenario(tmp_path, omm_file) -> Path:
    data = {
        "epoch": "2026-03-01T12:00:00Z",
        "duration_s": 400,
        "seed": 3,
        "partners": [
            {"id": "north", "constellation": omm_file.name, "sensor": {"false_alarms_per_frame": 0.05}}
        ],
        "launches": [
            {
                "id": "SR",
                "site": {"lat_deg": 35.0, "lon_deg": 60.0},
                "time": "2026-03-01T12:01:00Z",
                "azimuth_deg": 45,
                "vehicle": "notional-srbm-1stage",
            }
        ],
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_cli_writes_observations_truth_and_summary_reproducibly(tmp_path, omm_file):
    scenario = _scenario(tmp_path, omm_file)
    runner = CliRunner()
    for out in ("a", "b"):
        res = runner.invoke(_app(), ["simulate", str(scenario), "--out", str(tmp_path / out), "--seed", "5"])
        assert res.exit_code == 0, res.output
    for name in ("observations.parquet", "truth_associations.parquet", "truth.json", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    obs = read_observations(tmp_path / "a")
    assoc = read_associations(tmp_path / "a" / "truth_associations.parquet")
    assert np.array_equal(assoc["obs_id"], obs.obs_id)
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["seed"] == 5
    assert summary["launches"][0]["detections"] == int((assoc["launch_id"] == "SR").sum()) > 0
    assert summary["false_alarms"] == int((assoc["launch_id"] == "clutter").sum())
    truth = json.loads((tmp_path / "a" / "truth.json").read_text())["launches"][0]
    assert truth["class"] == "ballistic" and truth["impact"]["time_s"] > truth["burnout"]["time_s"]
    assert truth["launch_time"] == "2026-03-01T12:01:00.000Z"


def test_jsonl_format_reads_back_equal_to_parquet(tmp_path, omm_file):
    scenario = _scenario(tmp_path, omm_file)
    a, _ = run_simulate(scenario, tmp_path / "p", seed=1, show_progress=False)
    run_simulate(scenario, tmp_path / "j", seed=1, fmt="jsonl", show_progress=False)
    j = read_observations(tmp_path / "j" / "observations.jsonl")
    assert np.array_equal(j.los_ecef, a.observations.los_ecef) and np.array_equal(
        j.time_s, a.observations.time_s
    )


def test_cli_reports_a_bad_scenario_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epoch: 2026-03-01T12:00:00Z\nduration_s: -5\npartners: []\n")
    from vigil.errors import ConfigError

    res = CliRunner().invoke(_app(), ["simulate", str(bad), "--out", str(tmp_path / "o")])
    assert isinstance(res.exception, ConfigError)
    assert str(res.exception) == "bad.yaml: duration_s: -5 is outside (0, 604800]"


@pytest.fixture(scope="module")
def shipped_runs(tmp_path_factory):
    """Every shipped scenario, simulated once for the module: name -> SimulationResult."""
    out = tmp_path_factory.mktemp("shipped")
    return {
        p.name: run_simulate(p, out / p.stem, show_progress=False)[0] for p in sorted(EXAMPLES.glob("*.yaml"))
    }


def test_every_shipped_scenario_runs_and_detects_every_launch(shipped_runs):
    assert shipped_runs
    for name, result in shipped_runs.items():
        for launch in result.summary["launches"]:
            assert launch["detections"] > 0, (name, launch["id"])
            assert launch["first_stereo_visible_s"] is not None


def test_two_partner_has_mixed_classes_a_falcon9_replay_and_a_salvo(shipped_runs):
    result = shipped_runs["two-partner.yaml"]
    truth = {t["id"]: t for t in result.truth}
    assert len(truth) >= 6
    assert {t["class"] for t in truth.values()} == {"ballistic", "space_launch"}
    assert (
        truth["F9"]["source"] == "telemetry:spacex-crs-8.csv"
        and truth["F9"]["orbit"]["perigee_alt_m"] > 150e3
    )
    salvo = sorted(t["launch_time_s"] for k, t in truth.items() if k.startswith("S") and k[1:].isdigit())
    assert len(salvo) == 3 and salvo[-1] - salvo[0] < 300.0
    detected = {la["id"] for la in result.summary["launches"] if la["detections"] > 0}
    assert {"S1", "S2", "S3"} <= detected
