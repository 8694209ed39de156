"""Agreements: YAML round trip, one-line errors naming the key, regions against ray casting, validity."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.errors import ConfigError
from vigil.sharing.agreement import load_agreement, parse_agreement

from .policykit import T0, agreement, box, ray_cast_inside

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agreements" / "north-east.yaml"


def test_shipped_example_loads_and_round_trips_through_yaml():
    a = load_agreement(EXAMPLE)
    assert a.parties == ["north", "east"]
    assert a.direction("east", "north").delay_s == 30.0
    again = parse_agreement(yaml.safe_load(a.to_yaml()))
    assert again == a
    pacific = a.direction("east", "north")
    assert pacific.contains(0.0, -175.0) and pacific.contains(0.0, 175.0) and not pacific.contains(0.0, 160.0)


def _base() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


BAD = [
    (lambda d: d.update(extra=1), "extra: unknown key"),
    (lambda d: d.update(parties=["north", "north"]), "parties: the two parties must differ"),
    (lambda d: d.update(parties=["North", "east"]), "a.yaml: parties[0]: 'North' is not a node id"),
    (lambda d: d.update(parties=["north"]), "parties: List should have at least 2 items"),
    (lambda d: d.update(valid_from="soon"), "valid_from: 'soon' is not an ISO 8601 date-time"),
    (lambda d: d.update(valid_until="2025-01-01T00:00:00Z"), "valid_until must be after valid_from"),
    (lambda d: d.pop("directions"), "directions: required key is missing"),
    (
        lambda d: d["directions"].update({"north->west": d["directions"]["north->east"]}),
        "direction 'north->west' is not",
    ),
    (
        lambda d: d["directions"]["north->east"].update(types=["tracks"]),
        "directions.north->east.types[0]: Input",
    ),
    (lambda d: d["directions"]["north->east"].update(types=["track", "track"]), "types: lists a type twice"),
    (lambda d: d["directions"]["north->east"].update(types=[]), "types: List should have at least 1 item"),
    (
        lambda d: d["directions"]["north->east"].update(precision_m=0.5),
        "precision_m: Input should be greater",
    ),
    (
        lambda d: d["directions"]["north->east"].update(precision_m="5 km"),
        "precision_m: Input should be a valid",
    ),
    (lambda d: d["directions"]["north->east"].update(delay_s=-1), "delay_s: Input should be greater than"),
    (
        lambda d: d["directions"]["north->east"].update(region="world"),
        "region: must be 'global' or a GeoJSON",
    ),
    (
        lambda d: d["directions"]["north->east"].update(region={"type": "Point", "coordinates": [0, 0]}),
        "GeoJSON type 'Point' is not one of",
    ),
    (lambda d: d["directions"]["north->east"].update(region=box(0, 0, 10, 95)), "latitudes must lie within"),
    (
        lambda d: d["directions"]["north->east"].update(
            region={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 1], [1, 0], [0, 0]]]}
        ),
        "Polygon is empty or invalid (Self-intersection",
    ),
    (
        lambda d: d["directions"]["north->east"].update(
            region={"type": "Polygon", "coordinates": [[[0, 0]]]}
        ),
        "Polygon ring 0 is not closed",
    ),
    (lambda d: d["directions"]["north->east"].update(wait=3), "directions.north->east.wait: unknown key"),
]


@pytest.mark.parametrize(("mutate", "expected"), BAD)
def test_bad_agreement_is_one_line_naming_the_key(mutate, expected, tmp_path):
    data = _base()
    mutate(data)
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_agreement(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert expected in message


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("parties: [north, east]\ndirections: {north->east: [\n")
    with pytest.raises(ConfigError, match=r"a\.yaml:\d+: not valid YAML"):
        load_agreement(path)


def test_validity_is_half_open_from_valid_from_to_valid_until():
    a = agreement()
    start, end = a.valid_from.timestamp(), a.valid_until.timestamp()
    assert a.validity_violation(start) is None and a.validity_violation(end - 1e-3) is None
    assert a.validity_violation(start - 1e-3)[0] == "not_yet_valid"
    assert a.validity_violation(end)[0] == "expired"
    assert a.validity_violation(T0) is None


def test_antimeridian_split_polygon_and_overrun_polygon_agree():
    overrun = agreement(region=box(170, -10, 190, 10)).direction("north", "east")
    split = agreement(
        region={
            "type": "MultiPolygon",
            "coordinates": [box(170, -10, 180, 10)["coordinates"], box(-180, -10, -170, 10)["coordinates"]],
        }
    )
    split = split.direction("north", "east")
    for lon in (-179.9, -175.0, -170.5, 171.0, 179.99, 180.0, -180.0):
        assert overrun.contains(0.0, lon) and split.contains(0.0, lon)
    for lon in (-169.0, 169.0, 0.0):
        assert not overrun.contains(0.0, lon) and not split.contains(0.0, lon)


@st.composite
def star_polygons(draw):
    """Simple (star-shaped) polygons: vertices at sorted angles around a centre, radii 2..40 deg."""
    lat0, lon0 = draw(st.floats(-45, 45)), draw(st.floats(-180, 180))
    n = draw(st.integers(3, 12))
    angles = sorted(
        draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True), min_size=n, max_size=n, unique=True))
    )
    radii = draw(st.lists(st.floats(2, 40), min_size=n, max_size=n))
    ring = [[lon0 + r * math.cos(t), lat0 + r * math.sin(t)] for t, r in zip(angles, radii, strict=True)]
    return ring


@given(
    star_polygons(), st.lists(st.tuples(st.floats(-89, 89), st.floats(-180, 180)), min_size=20, max_size=20)
)
@settings(max_examples=60, deadline=None)
def test_region_membership_matches_ray_casting(ring, points):
    try:
        d = agreement(region={"type": "Polygon", "coordinates": [ring + ring[:1]]}).direction("north", "east")
    except (
        ConfigError
    ):  # sorted angles with tiny gaps can still self-touch numerically; not this test's subject
        return
    for lat, lon in points:
        truth = ray_cast_inside(lat, lon, ring)
        got = d.contains(lat, lon)
        if got != truth:  # only on (numerically) the boundary, where shapely counts inside
            assert got and min(abs(lat - y) for _, y in ring) < 1e-6 or abs(lat) > 89
        else:
            assert got == truth
