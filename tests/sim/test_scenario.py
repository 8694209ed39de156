"""Scenario files: a good one resolves; each bad one is one ConfigError line naming the key and the reason."""

from __future__ import annotations

import copy

import pytest
import yaml

from vigil.errors import ConfigError
from vigil.sim.scenario import load_scenario


def _base(constellation: str) -> dict:
    return {
        "name": "t",
        "epoch": "2026-03-01T12:00:00Z",
        "duration_s": 600,
        "partners": [{"id": "north", "constellation": constellation, "sensor": {"frame_s": 1.0}}],
        "launches": [
            {
                "id": "A",
                "site": {"lat_deg": 45.0, "lon_deg": 63.3},
                "time": "2026-03-01T12:05:00Z",
                "azimuth_deg": 40,
                "vehicle": "notional-srbm-1stage",
            },
            {
                "id": "B",
                "site": {"lat_deg": 30.0, "lon_deg": 50.0},
                "time": "2026-03-01T12:06:00Z",
                "target": {"lat_deg": 32.0, "lon_deg": 55.0},
                "vehicle": "notional-srbm-1stage",
            },
            {
                "id": "F9",
                "site": {"lat_deg": 28.5618, "lon_deg": -80.5772},
                "time": "2026-03-01T12:01:00Z",
                "azimuth_deg": 45,
                "telemetry": "falcon9/spacex-crs-8",
            },
        ],
    }


def _write(tmp_path, data, name="s.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_good_scenario_resolves_times_sensors_and_files(tmp_path, omm_file):
    sc = load_scenario(_write(tmp_path, _base(omm_file.name)))
    assert sc.epoch_iso == "2026-03-01T12:00:00Z"
    assert [la.time_s for la in sc.launches] == [300.0, 360.0, 60.0]
    assert sc.launches[1].target == (32.0, 55.0) and sc.launches[2].telemetry.name == "spacex-crs-8.csv"
    assert len(sc.partners[0].constellation) == 2
    assert sc.partners[0].signal.visible_alt_m == 10_000.0


def _mutations():
    def setp(path, value):
        def apply(d):
            node = d
            for k in path[:-1]:
                node = node[k]
            if value is _DELETE:
                del node[path[-1]]
            else:
                node[path[-1]] = value

        return apply

    return [
        (setp(["launches", 2, "azimuth_deg"], 400), "launches[2].azimuth_deg: 400 is outside [0, 360)"),
        (setp(["launches", 0, "site", "lat_deg"], 91), "launches[0].site.lat_deg: 91 is outside [-90, 90]"),
        (
            setp(["launches", 0, "site", "lon_deg"], -181),
            "launches[0].site.lon_deg: -181 is outside [-180, 180]",
        ),
        (setp(["launches", 0, "colour"], "red"), "launches[0].colour: unknown key"),
        (
            setp(["partners", 0, "sensor", "frame_s"], "fast"),
            "partners[0].sensor.frame_s: Input should be a valid",
        ),
        (setp(["partners", 0, "sensor", "frame_s"], 0), "partners[0].sensor.frame_s: 0 is outside (0, inf)"),
        (
            setp(["partners", 0, "sensor", "nei_w_m2"], -1e-12),
            "partners[0].sensor.nei_w_m2: -1e-12 is outside",
        ),
        (
            setp(["partners", 0, "sensor", "min_elevation_deg"], 90),
            "min_elevation_deg: 90 is outside [-90, 90)",
        ),
        (
            setp(["partners", 0, "sensor", "false_alarms_per_frame"], -0.1),
            "false_alarms_per_frame: -0.1 is outside",
        ),
        (setp(["partners", 0, "sensor", "pd_snr"], 6), "partners[0].sensor.pd_snr: unknown key"),
        (setp(["duration_s"], _DELETE), "duration_s: required key is missing"),
        (setp(["partners", 0, "constellation"], "nope.tle"), "partners[0].constellation: file not found"),
        (
            setp(["launches", 0, "time"], "2026-03-01T13:00:00Z"),
            "launches[0].time: 2026-03-01T13:00:00Z is outside",
        ),
        (setp(["launches", 0, "time"], "2026-02-28T12:00:00Z"), "launches[0].time"),
        (setp(["launches", 0, "time"], "noon"), "launches[0].time: 'noon' is not an ISO 8601"),
        (
            setp(["launches", 0, "target"], {"lat_deg": 1.0, "lon_deg": 2.0}),
            "launches[0].azimuth_deg/target: give exactly one",
        ),
        (setp(["launches", 0, "vehicle"], "notional-death-star"), "launches[0].vehicle: unknown vehicle"),
        (setp(["launches", 0, "vehicle"], "vehicles/missing.yaml"), "launches[0].vehicle: file not found"),
        (
            setp(["launches", 2, "telemetry"], "falcon9/no-such-flight"),
            "launches[2].telemetry: no shipped profile",
        ),
        (setp(["launches", 2, "telemetry"], "flights/x.csv"), "launches[2].telemetry: file not found"),
        (setp(["launches", 2, "vehicle"], "notional-srbm-1stage"), "launches[2].telemetry: a replay takes"),
        (setp(["launches", 1, "id"], "A"), "launches[1].id: 'A' is used twice"),
        (setp(["partners"], []), "partners: List should have at least 1 item"),
        (setp(["epoch"], "yesterday"), "epoch: 'yesterday' is not an ISO 8601"),
        (setp(["launches", 0, "loft_deg"], 95), "launches[0].loft_deg: 95 is outside [0, 90]"),
    ]


_DELETE = object()


@pytest.mark.parametrize(("mutate", "expected"), _mutations(), ids=[m[1].split(":")[0] for m in _mutations()])
def test_bad_scenario_is_one_line_naming_the_key(tmp_path, omm_file, mutate, expected):
    data = copy.deepcopy(_base(omm_file.name))
    mutate(data)
    with pytest.raises(ConfigError) as err:
        load_scenario(_write(tmp_path, data, "two-partner.yaml"))
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("two-partner.yaml: ")
    assert expected in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: [unclosed\n", "bad.yaml:2: not valid YAML"),
        ("- 1\n- 2\n", "must be a mapping"),
        ("", "must be a mapping"),
    ],
)
def test_unreadable_yaml_is_one_line(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=expected):
        load_scenario(_write(tmp_path, text, "bad.yaml"))


def test_missing_scenario_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the scenario"):
        load_scenario(tmp_path / "absent.yaml")
