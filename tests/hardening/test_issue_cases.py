"""Every example of issue 16 as a test: each one printed a traceback, was accepted silently or
overwrote something before the hardening; now each is one ``error:`` line naming the field, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vigil.records import ObservationBatch
from vigil.sim import write_observations

from .kit import EXAMPLES, one_error_line, scenario, write_yaml

FLY = ["fly", "notional-srbm-1stage", "--quiet"]


@pytest.mark.parametrize(
    ("flags", "field", "value"),
    [
        (["--lat", "nan", "--lon", "0", "--azimuth", "10"], "--lat", "nan"),
        (["--lat", "0", "--lon", "0", "--azimuth", "inf"], "--azimuth", "inf"),
        (["--lat", "200", "--lon", "0", "--azimuth", "10"], "--lat", "200"),
        (["--lat", "0", "--lon", "-181", "--azimuth", "10"], "--lon", "-181"),
        (["--lat", "0", "--lon", "0", "--azimuth", "10", "--loft", "-30"], "--loft", "-30"),
        (["--lat", "0", "--lon", "0", "--target", "95,10"], "--target latitude", "95"),
    ],
)
def test_fly_refuses_a_site_azimuth_or_loft_out_of_range(capsys, flags, field, value):
    line = one_error_line(capsys, FLY + flags, field, value)
    assert "outside" in line


def test_negative_seed_is_a_usage_error_naming_the_flag(capsys, tmp_path):
    path = write_yaml(tmp_path / "s.yaml", scenario())
    one_error_line(capsys, ["simulate", path, "--out", tmp_path / "o", "--seed", "-5"], "--seed")


@pytest.mark.parametrize(
    ("sensor", "field"),
    [
        ({"los_sigma_urad": 0}, "los_sigma_urad"),
        ({"frame_s": 1e-6}, "partners[0].sensor"),
        ({"false_alarms_per_frame": 1e6}, "partners[0].sensor"),
        ({"frame_s": True}, "frame_s"),  # a YAML boolean is not a number
        ({"pd_snr50": -1.0}, "pd_snr50"),
    ],
)
def test_scenario_sensor_out_of_range_or_beyond_memory_is_one_line(capsys, tmp_path, sensor, field):
    path = write_yaml(tmp_path / "s.yaml", scenario(**sensor))
    line = one_error_line(capsys, ["simulate", path, "--out", tmp_path / "o"], field)
    if "sensor:" in line.split(field)[-1][:3] or field.endswith(".sensor"):
        assert "GiB" in line and "memory limit" in line  # the estimate and the limit are named
    assert not (tmp_path / "o").exists()


def _batch(n: int = 3, los_sigma_rad: float = 2e-5) -> ObservationBatch:
    r = np.tile([42_164e3, 0.0, 0.0], (n, 1))
    u = np.tile([-1.0, 0.0, 0.0], (n, 1))
    return ObservationBatch(
        "2026-03-01T12:00:00Z",
        np.arange(n),
        np.array(["north-1"] * n, object),
        np.array(["north"] * n, object),
        np.arange(n, dtype=float),
        r,
        u,
        np.full(n, los_sigma_rad),
        np.full(n, 9.0),
        np.full(n, 1e6),
        np.arange(n),
    )


def test_utf16_observation_file_is_refused_as_not_utf8(capsys, tmp_path):
    src = write_observations(_batch(), tmp_path / "o.jsonl", "jsonl")
    bad = tmp_path / "u16.jsonl"
    bad.write_text(src.read_text(encoding="utf-8"), encoding="utf-16")
    one_error_line(capsys, ["fuse", bad, "--out", tmp_path / "w.json"], "u16.jsonl", "UTF-8")


@pytest.mark.parametrize("sigma", [-2e-5, 0.0])
def test_observation_file_with_non_positive_los_sigma_is_refused(capsys, tmp_path, sigma):
    path = write_observations(_batch(los_sigma_rad=sigma), tmp_path / "o.parquet")
    one_error_line(capsys, ["fuse", path, "--out", tmp_path / "w.json"], "los_sigma_rad", "record 0")


def test_fuse_never_overwrites_an_existing_file_or_its_own_input(capsys, tmp_path):
    path = write_observations(_batch(), tmp_path / "o.jsonl", "jsonl")
    before = path.read_bytes()
    one_error_line(capsys, ["fuse", path, "--out", path], "--out", "input")
    assert path.read_bytes() == before
    kept = tmp_path / "kept.json"
    kept.write_text("precious")
    one_error_line(capsys, ["fuse", path, "--out", kept], "--out", "already exists", "--force")
    assert kept.read_text() == "precious"


def test_simulate_never_overwrites_a_non_empty_folder_and_force_replaces_it_whole(capsys, tmp_path):
    path = write_yaml(tmp_path / "s.yaml", scenario())
    out = tmp_path / "o"
    out.mkdir()
    (out / "precious.txt").write_text("keep")
    one_error_line(capsys, ["simulate", path, "--out", out], "--out", "already exists")
    assert (out / "precious.txt").read_text() == "keep"
    from vigil.cli import main

    assert main(["simulate", str(path), "--out", str(out), "--force", "--json"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "observations.parquet",
        "summary.json",
        "truth.json",
        "truth_associations.parquet",
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]  # no temporary sibling left


def test_simulate_out_inside_its_input_folder_is_refused(capsys, tmp_path):
    path = write_yaml(tmp_path / "s.yaml", scenario())
    one_error_line(capsys, ["simulate", path, "--out", path], "--out")


@pytest.mark.parametrize(
    "argv",
    [
        ["keys", "generate", "--node", "north", "--out", "/proc/vigil-keys"],
        [
            "fly",
            "notional-srbm-1stage",
            "--lat",
            "0",
            "--lon",
            "0",
            "--azimuth",
            "10",
            "--quiet",
            "--json",
            "/proc/vigil/x.json",
        ],
    ],
)
def test_unwritable_output_place_is_one_line(capsys, argv):
    one_error_line(capsys, argv, "/proc/vigil")


def test_unwritable_sqlite_db_folder_is_one_line_before_any_work(capsys, tmp_path):
    scenario_path = EXAMPLES / "scenarios" / "two-partner.yaml"
    one_error_line(
        capsys, ["run", scenario_path, "--out", tmp_path / "o", "--db", "sqlite:///proc/x"], "--db", "/proc/x"
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("db", "needle"),
    [
        ("postgresql://u@127.0.0.1:99999/test", "port '99999'"),
        ("dbname=test port=zero", "port 'zero'"),
        ("postgresql://[::1/test", "malformed PostgreSQL URL"),
    ],
)
def test_malformed_postgres_url_of_run_is_one_line_before_any_work(capsys, tmp_path, db, needle):
    """``vigil run --db`` shares the node's PostgreSQL URL check (a bad port used to surface from psycopg
    after the simulation, or wait for a connection timeout)."""
    scenario_path = EXAMPLES / "scenarios" / "two-partner.yaml"
    one_error_line(capsys, ["run", scenario_path, "--out", tmp_path / "o", "--db", db], "--db", needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--hours", "0"], "--hours: 0 is outside (0, 8784]"),
        (["--hours", "nan"], "--hours: nan"),
        (["--step-s", "-1"], "--step-s: -1 is outside"),
        (["--hours", "1", "--step-s", "7200"], "--step-s: 7200 is longer than the span"),
        (["--min-elevation-deg", "90"], "--min-elevation-deg: 90 is outside [-90, 90)"),
    ],
)
def test_coverage_flags_are_validated_by_one_options_model(capsys, flags, needle):
    one_error_line(
        capsys,
        [
            "coverage",
            "--constellation",
            EXAMPLES / "constellations" / "north.tle",
            "--start",
            "2026-03-01T00:00:00Z",
            *flags,
            "--quiet",
        ],
        needle,
    )


def test_fine_coverage_grid_over_long_hours_is_refused_with_the_estimate(capsys):
    line = one_error_line(
        capsys,
        [
            "coverage",
            "--constellation",
            EXAMPLES / "constellations" / "north.tle",
            "--start",
            "2026-03-01T00:00:00Z",
            "--hours",
            "8000",
            "--step-s",
            "0.01",
            "--grid-deg",
            "0.05",
            "--quiet",
        ],
        "--grid-deg",
        "GiB",
        "memory limit",
    )
    assert "cells" in line


def _notification_file(tmp_path: Path, polygon: list[list[float]]) -> Path:
    return write_yaml(
        tmp_path / "n.yaml",
        {
            "notifications": [
                {
                    "notification_id": "N1",
                    "partner_id": "north",
                    "class": "ballistic",
                    "window_start": "2026-03-01T12:00:00Z",
                    "window_end": "2026-03-01T13:00:00Z",
                    "launch_area": {"polygon": polygon},
                }
            ]
        },
    )


def test_self_intersecting_notification_polygon_is_refused(tmp_path):
    from vigil.errors import ConfigError
    from vigil.warning import load_notifications

    bow_tie = [[60.0, 40.0], [62.0, 42.0], [62.0, 40.0], [60.0, 42.0]]
    with pytest.raises(ConfigError, match=r"launch_area.polygon.*not a simple ring"):
        load_notifications(_notification_file(tmp_path, bow_tie))


def test_unclosed_agreement_region_is_refused(tmp_path):
    from vigil.errors import ConfigError
    from vigil.sharing.agreement import load_agreement

    doc = yaml_agreement({"type": "Polygon", "coordinates": [[[30, 35], [80, 35], [80, 60], [30, 60]]]})
    with pytest.raises(ConfigError, match=r"region.*not closed"):
        load_agreement(write_yaml(tmp_path / "a.yaml", doc))


def yaml_agreement(region: object) -> dict:
    return {
        "name": "t",
        "parties": ["north", "east"],
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2030-01-01T00:00:00Z",
        "directions": {"north->east": {"types": ["track"], "region": region, "precision_m": 1000.0}},
    }


def test_audit_verify_reports_an_empty_log_and_fails_it_with_head(capsys, tmp_path):
    from vigil.cli import main
    from vigil.sharing.keys import Signer, write_key_files

    _, pub = write_key_files(Signer.generate("north"), tmp_path)
    log = tmp_path / "a.jsonl"
    log.write_text("")
    assert main(["audit", "verify", str(log), "--key", str(pub)]) == 0
    assert capsys.readouterr().out.startswith("empty:")
    assert main(["audit", "verify", str(log), "--key", str(pub), "--head", "ab" * 32]) == 1
    assert "empty" in capsys.readouterr().err


def test_audit_verify_rejects_duplicate_keys_and_non_canonical_lines(tmp_path):
    from vigil.sharing.audit import AuditLog, JsonlAuditSink, verify
    from vigil.sharing.keys import Signer

    signer = Signer.generate("north")
    log = tmp_path / "a.jsonl"
    audit = AuditLog(JsonlAuditSink(log, fsync=False), signer, clock=lambda: 1.0)
    audit.append("receipt", {"msg_id": "m1"})
    assert verify(log, signer.public_key).ok
    line = log.read_text().rstrip("\n")
    log.write_text(line[:-1] + ',"kind":"release"}\n')  # the same key again: parsers disagree on its value
    result = verify(log, signer.public_key)
    assert not result.ok and "duplicate key" in result.reason and "'kind'" in result.reason
    log.write_text(json.dumps(json.loads(line), indent=None) + "\n")  # same content, spaces after separators
    result = verify(log, signer.public_key)
    assert not result.ok and "canonical" in result.reason


@pytest.mark.parametrize("value", ["95", "nan"])
def test_coverage_min_elevation_out_of_range_names_the_flag(capsys, value):
    # found by scripts/hostile_sweep.py: the line named the model's field min_elevation_deg, not the flag
    one_error_line(
        capsys,
        [
            "coverage",
            "--constellation",
            EXAMPLES / "constellations" / "north.tle",
            "--start",
            "2026-03-01T00:00:00Z",
            "--quiet",
            "--min-elevation-deg",
            value,
        ],
        "--min-elevation-deg",
        value,
        "outside",
    )
