"""The agreement sweep (vigil sharing sweep) and the joint-fusion limit of sharing, on the two-launch cut.

Truth is the simulator's: which sensors see a launch, and when the joint constellations first see it in
stereo (``first_stereo_visible_s``); the reference for delay 0 is one engine over both partners'
detections (vigil.scoring.score_result), with the joint geometry's CRLB.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from testkit.cutscenario import cut_scenario

from vigil.cli import main
from vigil.fusion import FusionConfig
from vigil.scoring import assign_events, final_versions, score_result
from vigil.scoring.assign import launch_distance_km
from vigil.sharing.agreement import parse_agreement
from vigil.sharing.network import run_network
from vigil.sharing.sweep import sweep
from vigil.sim import load_scenario, simulate


def _agreement(precision_m: float = 1000.0, delay_s: float = 0.0):
    return parse_agreement(
        {
            "name": "both-ways",
            "parties": ["north", "east"],
            "valid_from": "2026-01-01T00:00:00Z",
            "valid_until": "2030-01-01T00:00:00Z",
            "directions": {
                d: {
                    "types": ["observation", "warning"],
                    "region": "global",
                    "precision_m": precision_m,
                    "delay_s": delay_s,
                }
                for d in ("north->east", "east->north")
            },
        }
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "both.yaml").write_text(_agreement().to_yaml())
    path = folder / "cut.yaml"
    path.write_text(cut_scenario("two-partner-cut", f"agreements: [{folder / 'both.yaml'}]"))
    scenario = load_scenario(path)
    return path, scenario, simulate(scenario, np.random.default_rng(7))


def test_first_shared_triangulation_waits_for_the_delay(world: tuple) -> None:
    _, scenario, sim = world
    rows = sweep(scenario, [0.0, 30.0], [1000.0], [_agreement()], simulation=sim)
    stereo = {la["id"]: la["first_stereo_visible_s"] for la in sim.summary["launches"]}
    launch_s = {t["id"]: float(t["launch_time_s"]) for t in sim.truth}
    # truth: east alone sees L1 from one satellite only, so its triangulation needs north's detections
    alone = next(r for r in rows if r["partner"] == "east" and r["view"] == "alone")
    assert not alone["launches"]["L1"]["triangulated"]
    shared = {
        d: next(r for r in rows if r["partner"] == "east" and r["view"] == "shared" and r["delay_s"] == d)
        for d in (0.0, 30.0)
    }
    joint_stereo_after_launch = stereo["L1"] - launch_s["L1"]
    lat = {d: shared[d]["launches"]["L1"]["triangulated_latency_s"] for d in shared}
    assert lat[0.0] is not None and lat[30.0] is not None
    # physics: north's detections reach east delay_s after they were made, no earlier than joint stereo
    assert lat[0.0] >= joint_stereo_after_launch - 1e-6
    assert lat[30.0] >= joint_stereo_after_launch + 30.0 - 1e-6
    assert lat[30.0] >= lat[0.0] + 30.0 - FusionConfig().chunk_s
    # and the medians over launches grow with the delay too (never shrink)
    for pid in ("north", "east"):
        med = {
            r["delay_s"]: r["first_triangulated_latency_s"]
            for r in rows
            if r["partner"] == pid and r["view"] == "shared"
        }
        assert med[30.0] >= med[0.0]


def test_sweep_command_writes_table_csv_json_and_png(world: tuple, tmp_path: Path, capsys) -> None:
    path, _, _ = world
    out = tmp_path / "out"
    assert (
        main(["sharing", "sweep", str(path), "--delay-s", "0", "--precision-m", "5000", "--out", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "Agreement sweep" in printed and "east" in printed
    with (out / "sweep.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {(r["partner"], r["view"]) for r in rows} == {
        (p, v) for p in ("north", "east") for v in ("alone", "shared")
    }
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["delays_s"] == [0.0] and doc["precisions_m"] == [5000.0] and len(doc["rows"]) == 4
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args, field",
    [
        (["--delay-s", "0,-5"], "--delay-s"),
        (["--precision-m", "abc"], "--precision-m"),
        (["--precision-m", "nan"], "--precision-m"),
    ],
)
def test_sweep_bad_values_are_one_line_exit_2(world: tuple, tmp_path: Path, capsys, args, field) -> None:
    path, _, _ = world
    assert main(["sharing", "sweep", str(path), "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and field in err
    assert not (tmp_path / "o").exists()


def test_with_delay_0_the_shared_view_is_the_joint_fusion(world: tuple) -> None:
    _, scenario, sim = world
    joint = score_result(scenario, sim)
    crlb = {r["id"]: r["launch_crlb_km"] for r in joint.score["launches"]}
    joint_of = assign_events(joint.finals, sim.truth).event_of
    result = run_network(scenario, simulation=sim, agreements=[_agreement(precision_m=1.0)])
    for pid, part in result.partners.items():
        finals = final_versions(part.shared)
        mine = assign_events(finals, sim.truth).event_of
        assert set(mine) == set(joint_of), pid  # the same launches found
        for lid, eid in mine.items():
            w = next(f for f in finals if f.event_id == eid)
            j = next(f for f in joint.finals if f.event_id == joint_of[lid])
            gap_km = launch_distance_km(
                w, {"site": {"lat_deg": j.launch_lat_deg, "lon_deg": j.launch_lon_deg}}
            )
            assert crlb[lid] is not None and math.isfinite(crlb[lid])
            assert gap_km <= 0.1 * crlb[lid], (pid, lid, gap_km, crlb[lid])
