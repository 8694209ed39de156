"""Vehicle YAML loader: built-ins load, derived quantities are right, bad files fail in one line."""

import pytest
import yaml

from vigil.errors import ConfigError
from vigil.flight.atmosphere import G0_M_S2
from vigil.flight.vehicle import builtin_vehicles, load_vehicle

BUILTINS = [
    "notional-icbm-3stage",
    "notional-irbm-2stage",
    "notional-launcher-2stage",
    "notional-srbm-1stage",
]


def test_builtins_are_listed_and_load():
    assert builtin_vehicles() == BUILTINS
    for name in BUILTINS:
        v = load_vehicle(name)
        assert v.name == name
        assert all(1e5 <= s.plume_intensity_w_sr <= 1e7 for s in v.stages)


def test_burn_time_derives_thrust_by_rocket_relations():
    stage = load_vehicle("notional-srbm-1stage").stages[0]
    assert stage.burn_time_s == pytest.approx(75.0, rel=1e-12)
    assert stage.thrust_vac_n == pytest.approx(6300.0 * 260.0 * G0_M_S2 / 75.0, rel=1e-12)


def _write(tmp_path, mutate):
    data = yaml.safe_load(
        load_vehicle.__globals__["resources"]
        .files("vigil")
        .joinpath("data/vehicles/notional-irbm-2stage.yaml")
        .read_text()
    )
    mutate(data)
    path = tmp_path / "v.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.update(colour="red"), "colour: unknown key"),
        (lambda d: d["stages"][0].update(isp_vac_s="high"), "stages[0].isp_vac_s: expected a number"),
        (lambda d: d["stages"][1].update(cd=9.0), "stages[1].cd: 9.0 out of range"),
        (lambda d: d["payload"].pop("mass_kg"), "payload.mass_kg: missing required key"),
        (lambda d: d.update(kind="rocket"), "kind: 'rocket' is not one of"),
        (
            lambda d: d["stages"][0].update(thrust_vac_n=1e6),
            "exactly one of 'thrust_vac_n' and 'burn_time_s'",
        ),
        (lambda d: d.update(stages=[]), "stages: at least one stage"),
    ],
)
def test_bad_vehicle_files_fail_with_one_line(tmp_path, mutate, needle):
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as info:
        load_vehicle(path)
    text = str(info.value)
    assert needle in text and str(path) in text and "\n" not in text


def test_unknown_name_and_broken_yaml(tmp_path):
    with pytest.raises(ConfigError, match="no such file or built-in"):
        load_vehicle("notional-nothing")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        load_vehicle(bad)
