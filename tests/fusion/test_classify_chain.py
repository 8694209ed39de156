"""Class versions through the full chain (simulate → fuse → match): a Falcon 9 whose telemetry stops 60 s before
its cutoff is never called ballistic, a missile ends ballistic, a launcher coasting 30 s between its stages is
reopened when its second stage lights, and the notification check judges the class the warnings carry."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from vigil.fusion.events.event import CLASS_HOLD_S
from vigil.scoring.metrics import issued_s, versions_by_event
from vigil.scoring.pipeline import score_scenario
from vigil.sim.scenario import load_scenario
from vigil.timescale import parse_utc
from vigil.warning import load_notifications

ROOT = Path(__file__).resolve().parents[2]


def _cut(src: Path, cut_s: float, out: Path) -> Path:
    """``src`` less its last ``cut_s`` seconds of rows, the cutoff event dropped (the plume ends there)."""
    lines = src.read_text().splitlines()
    t_end = max(float(x.split(",")[0]) for x in lines if x[:1].isdigit()) - cut_s
    keep = [x for x in lines if not x[:1].isdigit() or float(x.split(",")[0]) <= t_end]
    keep = [
        ", ".join(i for i in x.split(":", 1)[1].split(",") if float(i.split("=")[1]) < t_end).join(
            ("# events_s:", "")
        )
        if x.startswith("# events_s:")
        else x
        for x in keep
    ]
    out.write_text("\n".join(keep) + "\n")
    return out


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chain")
    f9 = _cut(ROOT / "src/vigil/data/telemetry/spacex-crs-8.csv", 60.0, tmp / "crs8-cut60.csv")
    coast = yaml.safe_load((ROOT / "src/vigil/data/vehicles/notional-launcher-2stage.yaml").read_text())
    coast["name"], coast["stages"][0]["coast_after_s"] = "launcher-coast", 30.0
    (tmp / "coast.yaml").write_text(yaml.safe_dump(coast))
    sensor = {"frame_s": 1.0, "los_sigma_urad": 20, "false_alarms_per_frame": 0.01}
    doc = {
        "name": "classify-chain",
        "epoch": "2026-03-01T12:00:00Z",
        "duration_s": 1500,
        "seed": 5,
        "partners": [
            {
                "id": "north",
                "constellation": str(ROOT / "examples/constellations/north.tle"),
                "sensor": sensor,
            },
            {
                "id": "east",
                "constellation": str(ROOT / "examples/constellations/east.json"),
                "sensor": sensor,
            },
        ],
        "launches": [
            {
                "id": "F9",
                "site": {"lat_deg": 28.5618, "lon_deg": -80.5772},
                "time": "2026-03-01T12:01:00Z",
                "azimuth_deg": 45.0,
                "telemetry": str(f9),
            },
            {
                "id": "SR",
                "site": {"lat_deg": 34.0, "lon_deg": 36.0},
                "time": "2026-03-01T12:02:00Z",
                "azimuth_deg": 180.0,
                "vehicle": "notional-srbm-1stage",
            },
            {
                "id": "CO",
                "site": {"lat_deg": 5.2, "lon_deg": -52.8},
                "time": "2026-03-01T12:03:00Z",
                "azimuth_deg": 90.0,
                "vehicle": str(tmp / "coast.yaml"),
            },
        ],
    }
    (tmp / "s.yaml").write_text(yaml.safe_dump(doc))
    window = {"window_start": "2026-03-01T12:00:00Z", "window_end": "2026-03-01T12:05:00Z"}
    notes = {
        "notifications": [  # the F9's true announcement, and a space launch 'announced' where the SRBM flies
            {
                "notification_id": "N-F9",
                "partner_id": "east",
                "class": "space_launch",
                **window,
                "launch_area": {"circle": {"lat_deg": 28.5618, "lon_deg": -80.5772, "radius_km": 15}},
                "azimuth_sector_deg": [35, 55],
            },
            {
                "notification_id": "N-SR",
                "partner_id": "east",
                "class": "space_launch",
                **window,
                "launch_area": {"circle": {"lat_deg": 34.0, "lon_deg": 36.0, "radius_km": 15}},
                "azimuth_sector_deg": [170, 190],
            },
        ]
    }
    (tmp / "n.yaml").write_text(yaml.safe_dump(notes))
    scenario = load_scenario(tmp / "s.yaml")
    run = score_scenario(
        scenario, np.random.default_rng(scenario.seed), notifications=load_notifications(tmp / "n.yaml")
    )
    events = versions_by_event(run.versions)
    return run, {lid: events[eid] for lid, eid in run.score["matches"].items()}


def test_cut_falcon9_starts_undetermined_or_space_launch_and_is_never_ballistic(chain):
    run, by_launch = chain
    classes = [w.class_ for w in by_launch["F9"]]
    assert classes[0] in ("unknown", "space_launch") and "ballistic" not in classes
    assert classes[-1] == "space_launch" and not by_launch["F9"][-1].has_impact


def test_missile_ends_ballistic_with_an_impact_and_each_class_change_is_a_new_version(chain):
    run, by_launch = chain
    versions = by_launch["SR"]
    assert versions[0].class_ == "unknown" and versions[-1].class_ == "ballistic" and versions[-1].has_impact
    assert [w.version for w in versions] == list(range(1, len(versions) + 1))
    for a, b in zip(versions, versions[1:], strict=False):
        if a.class_ == "ballistic":
            assert b.class_ == "ballistic"  # decided on its coast: never revised back
    first = next(k for k, w in enumerate(versions) if w.class_ == "ballistic")
    held = versions[first - 1]  # burnout: the impact is given at once, the ballistic class once dark 45 s
    assert held.class_ == "unknown" and held.has_impact and held.burnout_time_s is not None
    epoch = parse_utc(run.result.epoch, "epoch")
    assert issued_s(versions[first], epoch) - held.burnout_time_s >= CLASS_HOLD_S


def test_launcher_coasting_between_stages_is_reopened_and_ends_space_launch(chain):
    run, by_launch = chain
    versions = by_launch["CO"]
    classes = [w.class_ for w in versions]
    assert classes[-1] == "space_launch" and not versions[-1].has_impact
    assert (
        "ballistic" not in classes
    )  # its first cutoff looked ballistic, but the class was held: it lit again
    reopened = [w for a, w in zip(versions, versions[1:], strict=False) if a.has_impact and not w.has_impact]
    assert reopened and reopened[0].class_ == "unknown"  # the coast's impact withdrawn when the 2nd stage lit
    assert run.score["false_events"] == 0 and run.score["duplicate_events"] == 0


def test_notification_check_uses_the_warnings_class(chain):
    run, by_launch = chain
    status = {w.event_id: w.notification for w in run.finals}
    assert status[by_launch["F9"][-1].event_id] == "N-F9"
    assert status[by_launch["SR"][-1].event_id] == "UNANNOUNCED"  # ballistic: not the announced space launch


def test_each_class_change_carries_its_reason_on_the_new_version(chain):
    run, by_launch = chain
    changes = 0
    for lid, versions in by_launch.items():
        assert all(w.class_reason for w in versions), lid  # every version says why its class is what it is
        for a, b in zip(versions, versions[1:], strict=False):
            if a.class_ != b.class_:
                changes += 1
                assert b.version == a.version + 1 and b.class_reason != a.class_reason, (lid, a, b)
    assert (
        changes >= 3
    )  # (F9 unknown → space launch, SR unknown → ballistic, CO unknown → ... → space launch)
    final = {lid: v[-1] for lid, v in by_launch.items()}
    assert "dark" in final["SR"].class_reason  # the held ballistic call: issued once the plume was gone 45 s
    reopened = [w for w in by_launch["CO"] if w.class_reason.startswith("plume seen again")]
    assert reopened and reopened[0].class_ == "unknown"
