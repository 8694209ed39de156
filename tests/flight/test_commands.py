"""`vigil fly` / `vigil replay` through the CLI entry point (registered here on a private app)."""

import json
from importlib import resources

import pytest
import typer

from vigil import cli
from vigil.flight import commands


@pytest.fixture()
def run(monkeypatch):
    app = typer.Typer(pretty_exceptions_enable=False)
    commands.register(app)
    monkeypatch.setattr(cli, "app", app)
    monkeypatch.setattr(cli, "_register_all", lambda: None)
    return cli.main


def test_fly_writes_figures_json(run, tmp_path):
    out = tmp_path / "f.json"
    code = run(
        [
            "fly",
            "notional-irbm-2stage",
            "--lat",
            "45",
            "--lon",
            "63.3",
            "--azimuth",
            "40",
            "--json",
            str(out),
            "--quiet",
        ]
    )
    data = json.loads(out.read_text())
    assert code == 0 and data["kind"] == "ballistic"
    assert 3000.0 <= data["range_km"] <= 5500.0 and abs(data["end_alt_km"]) < 1e-3
    assert data["burnout_speed_inertial_km_s"] > data["burnout_speed_rel_km_s"]  # launched eastward-ish


def test_replay_writes_orbit_figures(run, tmp_path):
    out = tmp_path / "r.json"
    csv = resources.files("vigil") / "data" / "telemetry" / "spacex-crs-8.csv"
    code = run(
        [
            "replay",
            str(csv),
            "--lat",
            "28.5618",
            "--lon",
            "-80.5772",
            "--azimuth",
            "45",
            "--json",
            str(out),
            "--quiet",
        ]
    )
    data = json.loads(out.read_text())
    assert code == 0 and data["kind"] == "space_launch" and data["perigee_alt_km"] > 150.0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["fly", "notional-irbm-2stage", "--lat", "45", "--lon", "63"],
            "--azimuth/--target: give exactly one",
        ),
        (
            ["fly", "notional-irbm-2stage", "--lat", "45", "--lon", "63", "--target", "x"],
            "--target: 'x' is not",
        ),
        (["fly", "nothing", "--lat", "45", "--lon", "63", "--azimuth", "0"], "no such file or built-in"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(run, capsys, args, needle):
    assert run(args) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
