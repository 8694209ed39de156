"""A hostile-input suite: one field of a valid file or flag replaced by something it must refuse.

Strategies draw, for each numeric field, values outside its documented range (beyond each bound, NaN,
±inf), the wrong JSON/YAML type (booleans, strings, lists, null) and, for polygons, rings that cross
themselves or do not close. Every draw must be refused with one line that names the file (or flag) and
the field; never a traceback, never accepted. About 380 bad inputs per run (the max_examples below).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.errors import ConfigError, DataError
from vigil.sharing.agreement import parse_agreement
from vigil.sharing.node_config import load_node_config
from vigil.sim import read_observations
from vigil.sim.scenario import load_scenario

from .kit import EXAMPLES, one_error_line, scenario

SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
INF = math.inf


def wrong_type() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.booleans(),
        st.text(max_size=6),
        st.none(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
    )


def outside(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> st.SearchStrategy[Any]:
    """Numbers outside ``lo..hi`` (an open bound itself is outside), NaN and ±inf, and wrong types."""
    parts = [
        st.just(math.nan),
        st.just(-INF) if lo > -INF else st.nothing(),
        st.just(INF) if hi < INF else st.nothing(),
        wrong_type(),
    ]
    if lo > -INF:
        parts.append(
            st.floats(
                max_value=lo,
                exclude_max=not lo_open,
                allow_nan=False,
                allow_infinity=False,
                min_value=lo - 1e12,
            )
        )
    if hi < INF:
        parts.append(
            st.floats(
                min_value=hi,
                exclude_min=not hi_open,
                allow_nan=False,
                allow_infinity=False,
                max_value=hi + 1e12,
            )
        )
    return st.one_of(parts)


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


SENSOR = ("partners", 0, "sensor")
SCENARIO_FIELDS = [
    (SENSOR + ("frame_s",), outside(0.0, INF, lo_open=True)),
    (SENSOR + ("los_sigma_urad",), outside(0.0, INF, lo_open=True)),
    (SENSOR + ("min_elevation_deg",), outside(-90.0, 90.0, hi_open=True)),
    (SENSOR + ("pd_snr50",), outside(0.0, INF, lo_open=True)),
    (SENSOR + ("nei_w_m2",), outside(0.0, INF, lo_open=True)),
    (SENSOR + ("false_alarms_per_frame",), outside(0.0, INF)),
    (SENSOR + ("visible_alt_m",), outside(0.0, INF)),
    (("launches", 0, "site", "lat_deg"), outside(-90.0, 90.0)),
    (("launches", 0, "site", "lon_deg"), outside(-180.0, 180.0)),
    (("launches", 0, "azimuth_deg"), outside(0.0, 360.0, hi_open=True)),
    (("duration_s",), outside(0.0, 7 * 86400.0, lo_open=True)),
    (
        ("seed",),
        st.one_of(st.integers(max_value=-1), st.floats(allow_nan=True), st.booleans(), st.text(max_size=4)),
    ),
]


@settings(SETTINGS, max_examples=120)
@given(st.data())
def test_scenario_with_one_bad_field_is_one_line_naming_file_and_field(tmp_path: Path, data):
    index = data.draw(st.integers(0, len(SCENARIO_FIELDS) - 1))
    path, values = SCENARIO_FIELDS[index]
    value = data.draw(values)
    doc = _set(scenario(), path, value)
    file = tmp_path / "hostile.yaml"
    file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_scenario(file)
    message = str(err.value)
    assert "\n" not in message and message.startswith("hostile.yaml: ")
    assert str(path[-1]) in message, (value, message)


def agreement_doc() -> dict[str, Any]:
    return {
        "name": "t",
        "parties": ["north", "east"],
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2030-01-01T00:00:00Z",
        "directions": {
            "north->east": {"types": ["track"], "region": "global", "precision_m": 1000.0, "delay_s": 0.0}
        },
    }


def bad_rings() -> st.SearchStrategy[Any]:
    """Rings that cross themselves (a bow tie), do not close, or leave the sphere's latitudes."""
    corner = st.floats(-60, 60)

    def bow(lon: float, lat: float) -> list[list[float]]:
        return [[lon, lat], [lon + 2, lat + 2], [lon + 2, lat], [lon, lat + 2], [lon, lat]]

    return st.one_of(
        st.builds(bow, corner, corner),
        st.builds(
            lambda lon, lat: [[lon, lat], [lon + 2, lat], [lon + 2, lat + 2], [lon, lat + 2]], corner, corner
        ),
        st.builds(lambda lon: [[lon, 80], [lon + 2, 80], [lon + 2, 95], [lon, 95], [lon, 80]], corner),
    )


DIRECTION = ("directions", "north->east")
AGREEMENT_FIELDS = [
    (DIRECTION + ("precision_m",), outside(1.0, INF)),
    (DIRECTION + ("delay_s",), outside(0.0, INF)),
    (
        DIRECTION + ("types",),
        st.one_of(
            st.just([]),
            st.lists(
                st.text(max_size=5).filter(
                    lambda t: t not in ("observation", "track", "warning", "notification")
                ),
                min_size=1,
                max_size=2,
            ),
        ),
    ),
    (DIRECTION + ("region",), bad_rings().map(lambda ring: {"type": "Polygon", "coordinates": [ring]})),
    (
        ("valid_from",),
        st.one_of(st.text(alphabet="xyz-:", min_size=1, max_size=8), st.integers(), st.booleans()),
    ),
    (("parties",), st.one_of(st.just(["north", "north"]), st.just(["north"]), st.just(["North!", "east"]))),
]


@settings(SETTINGS, max_examples=80)
@given(st.data())
def test_agreement_with_one_bad_field_is_one_line_naming_it(data):
    path, values = AGREEMENT_FIELDS[data.draw(st.integers(0, len(AGREEMENT_FIELDS) - 1))]
    doc = _set(agreement_doc(), path, data.draw(values))
    with pytest.raises(ConfigError) as err:
        parse_agreement(doc, "a.yaml")
    message = str(err.value)
    assert "\n" not in message and message.startswith("a.yaml: ") and str(path[-1]) in message, message


NODE_FIELDS = [
    ("node", st.one_of(st.text(alphabet="ABC !/", min_size=1, max_size=5), st.integers(), st.booleans())),
    ("agreements", st.one_of(st.just([]), st.integers(), st.booleans())),
    (
        "bus",
        st.one_of(st.just({"url": "http://x"}), st.just({"url": "memory://", "extra": 1}), st.integers()),
    ),
    (
        "audit_log",
        st.one_of(st.integers(), st.booleans(), st.none(), st.lists(st.text(max_size=2), max_size=2)),
    ),
    (
        "observations",
        st.one_of(
            st.builds(lambda s: {"path": "o.parquet", "skip_s": s}, outside(0.0, INF)),
            st.just({"path": "o.parquet", "replay": "now"}),
        ),
    ),
]


@settings(SETTINGS, max_examples=50)
@given(st.data())
def test_node_config_with_one_bad_field_is_one_line_naming_it(tmp_path: Path, data):
    key, values = NODE_FIELDS[data.draw(st.integers(0, len(NODE_FIELDS) - 1))]
    doc = yaml.safe_load((EXAMPLES / "nodes" / "north.yaml").read_text(encoding="utf-8"))
    doc[key] = data.draw(values)
    file = tmp_path / "node.yaml"
    file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_node_config(file)
    message = str(err.value)
    assert "\n" not in message and "node.yaml" in message and key in message, message


def observation_row() -> dict[str, Any]:
    return {
        "epoch": "2026-03-01T12:00:00Z",
        "obs_id": 0,
        "sensor_id": "north-1",
        "partner_id": "north",
        "time_s": 1.0,
        "sensor_pos_ecef_m": [42_164e3, 0.0, 0.0],
        "los_ecef": [-1.0, 0.0, 0.0],
        "los_sigma_rad": 2e-5,
        "snr": 9.0,
        "intensity_w_sr": 1e6,
        "frame_id": 0,
    }


OBSERVATION_FIELDS = [
    ("los_sigma_rad", outside(0.0, 1.0, lo_open=True)),
    ("snr", outside(0.0, INF)),
    ("intensity_w_sr", outside(0.0, INF)),
    ("time_s", st.one_of(st.just(math.nan), st.just(INF), st.text(max_size=4), st.booleans(), st.none())),
    ("los_ecef", st.lists(st.floats(-0.5, 0.5), min_size=3, max_size=3)),  # never a unit vector
    (
        "sensor_pos_ecef_m",
        st.one_of(
            st.lists(st.floats(2e9, 1e12), min_size=3, max_size=3),
            st.lists(st.floats(-1, 1), min_size=2, max_size=2),
        ),
    ),
    ("epoch", st.one_of(st.text(alphabet="xyz", min_size=1, max_size=5), st.integers(), st.none())),
]


@settings(SETTINGS, max_examples=80)
@given(st.data())
def test_observation_file_with_one_bad_field_is_one_line_naming_it(tmp_path: Path, data):
    key, values = OBSERVATION_FIELDS[data.draw(st.integers(0, len(OBSERVATION_FIELDS) - 1))]
    rows = [observation_row(), observation_row() | {"obs_id": 1, "time_s": 2.0}]
    rows[1][key] = data.draw(values)
    file = tmp_path / "obs.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_observations(file)
    message = str(err.value)
    assert "\n" not in message and "obs.jsonl" in message
    assert key in message or "wrong type" in message, message  # arrow names the column in its own words


FLAGS = [
    ("--lat", outside(-90.0, 90.0)),
    ("--lon", outside(-180.0, 180.0)),
    ("--azimuth", outside(0.0, 360.0, hi_open=True)),
    ("--loft", outside(0.0, 90.0)),
]


@settings(SETTINGS, max_examples=50)
@given(st.data())
def test_fly_with_one_bad_flag_is_one_error_line_naming_it(capsys, data):
    flag, values = FLAGS[data.draw(st.integers(0, len(FLAGS) - 1))]
    value = data.draw(values.filter(lambda v: isinstance(v, float) and not isinstance(v, bool)))
    argv = {"--lat": "10", "--lon": "20", "--azimuth": "30", "--loft": "40"} | {flag: repr(value)}
    one_error_line(
        capsys, ["fly", "notional-srbm-1stage", "--quiet", *[x for kv in argv.items() for x in kv]], flag
    )
