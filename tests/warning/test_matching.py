"""Matching events to notifications: hand-built scenarios with exact outcomes, and a property test."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.frames import WGS84_A_M, great_circle_destination
from vigil.warning import UNANNOUNCED, Warning
from vigil.warning.matching import NOT_OBSERVED, OBSERVED, MatchPolicy, containment_k, match
from vigil.warning.notifications import load_notifications, parse_notifications

EPOCH = "2026-03-01T12:00:00Z"
EPOCH_DT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
KM_PER_DEG = WGS84_A_M / 1000.0 * math.pi / 180.0  # great-circle arc of 1° on the model sphere
POLICY = MatchPolicy(time_tolerance_s=5.0, area_tolerance_km=2.0, azimuth_tolerance_deg=2.0)
SITE = (45.0, 63.3)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "notifications"


def iso(offset_s: float) -> str:
    return (EPOCH_DT + dt.timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def circle(lat, lon, radius_km):
    return {"circle": {"lat_deg": lat, "lon_deg": lon, "radius_km": radius_km}}


def note(nid="N1", cls="ballistic", start=0, end=1800, launch=None, sector=(20, 60), **extra):
    item = {
        "notification_id": nid,
        "partner_id": "north",
        "class": cls,
        "window_start": iso(start),
        "window_end": iso(end),
        "launch_area": launch or circle(*SITE, 50.0),
        **extra,
    }
    if sector is not None:
        item["azimuth_sector_deg"] = list(sector)
    return parse_notifications({"notifications": [item]})[0]


def warn(eid="E1", t=900.0, sigma=0.0, lat=SITE[0], lon=SITE[1], az=40.0, cls="ballistic", **extra):
    return Warning(
        eid,
        extra.pop("version", 1),
        "2026-03-01T12:20:00Z",
        cls,
        t,
        sigma,
        lat,
        lon,
        azimuth_deg=az,
        azimuth_sigma_deg=0.0 if az is not None else None,
        **extra,
    )


def outcome(warnings, notes, policy=POLICY):
    return match(warnings, notes, EPOCH, policy)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (1800 + 5 - 1, "N1"),
        (1800 + 5 + 1, UNANNOUNCED),
        (0 - 5 + 1, "N1"),
        (0 - 5 - 1, UNANNOUNCED),
        (900, "N1"),
    ],
)
def test_window_edges_with_one_second_margins(t, expected):
    assert outcome([warn(t=t)], [note()]).notification_of("E1") == expected


@pytest.mark.parametrize(("margin", "expected"), [(-1.0, "N1"), (1.0, UNANNOUNCED)])
def test_launch_time_sigma_widens_the_window_by_k_sigma(margin, expected):
    k = 1.959963984540054  # two-sided 95 % normal quantile, from tables (Abramowitz & Stegun 26.2)
    assert containment_k(0.95) == pytest.approx(k, rel=1e-12)
    t = 1800 + k * 10.0 + 5.0 + margin
    assert outcome([warn(t=t, sigma=10.0)], [note()]).notification_of("E1") == expected


@pytest.mark.parametrize(("distance_km", "expected"), [(52.0 - 0.5, "N1"), (52.0 + 0.5, UNANNOUNCED)])
def test_circle_boundary_plus_tolerance(distance_km, expected):
    lat = SITE[0] + distance_km / KM_PER_DEG  # due north along the meridian: an exact arc
    assert outcome([warn(lat=lat)], [note()]).notification_of("E1") == expected


@pytest.mark.parametrize(("bearing", "expected"), [(0.0, "N1"), (90.0, UNANNOUNCED)])
def test_launch_ellipse_reaching_the_circle_is_accepted(bearing, expected):
    # 60 km north of a 50 km circle: the point alone is 10 km out (tolerance 2 km); an ellipse with a=9 km
    # pointing north leaves a 1 km gap (accepted), pointing east it reaches only b=1 km north (9 km gap)
    lat = SITE[0] + 60.0 / KM_PER_DEG
    w = warn(lat=lat, launch_ellipse=(bearing, 9.0, 1.0))
    assert outcome([w], [note()]).notification_of("E1") == expected


@pytest.mark.parametrize(("lon", "expected"), [(-179.8, "N1"), (179.8, "N1"), (179.0, UNANNOUNCED)])
def test_polygon_launch_area_across_the_antimeridian(lon, expected):
    area = {"polygon": [[179.5, -0.5], [-179.5, -0.5], [-179.5, 0.5], [179.5, 0.5]]}
    assert outcome([warn(lat=0.0, lon=lon)], [note(launch=area)]).notification_of("E1") == expected


@pytest.mark.parametrize(
    ("az", "expected"),
    [(355.0, "N1"), (0.0, "N1"), (11.5, "N1"), (12.5, UNANNOUNCED), (348.5, "N1"), (347.5, UNANNOUNCED)],
)
def test_azimuth_sector_wrapping_through_north(az, expected):
    assert outcome([warn(az=az)], [note(sector=(350, 10))]).notification_of("E1") == expected


@pytest.mark.parametrize(("impact_bearing", "expected"), [(40.0, "N1"), (90.0, UNANNOUNCED)])
def test_azimuth_from_launch_to_impact_when_not_stated(impact_bearing, expected):
    lat, lon = great_circle_destination(
        math.radians(SITE[0]), math.radians(SITE[1]), math.radians(impact_bearing), 8.0e6
    )
    w = warn(az=None, impact_lat_deg=math.degrees(lat), impact_lon_deg=math.degrees(lon))
    result = outcome([w], [note()])
    assert result.notification_of("E1") == expected
    if expected == "N1":
        assert "azimuth" in result.events[0].checked


def test_impact_area_is_checked_only_when_the_event_has_an_impact():
    n = note(sector=None, impact_area=circle(55.0, -178.0, 300.0))
    inside = warn("E1", impact_lat_deg=56.0, impact_lon_deg=-178.0)
    outside = warn("E2", t=5000, impact_lat_deg=40.0, impact_lon_deg=-178.0)
    early = warn("E3", t=20000)
    result = outcome(
        [inside, outside, early],
        [n, note("N2", start=19000, end=21000, sector=None, impact_area=circle(55.0, -178.0, 300.0))],
    )
    assert [e.notification for e in result.events] == ["N1", UNANNOUNCED, "N2"]
    assert "impact" in result.events[0].checked and "impact" not in result.events[2].checked


@pytest.mark.parametrize(
    ("cls", "expected"), [("space_launch", UNANNOUNCED), ("unknown", "N1"), ("ballistic", "N1")]
)
def test_class_must_be_consistent(cls, expected):
    assert outcome([warn(cls=cls)], [note()]).notification_of("E1") == expected


def salvo(times, **kw):
    return [warn(f"E{i + 1}", t=t, **kw) for i, t in enumerate(times)]


def test_group_notification_matches_a_salvo_of_three_within_five_minutes():
    result = outcome(salvo([600, 720, 840]), [note(group=True, count=3, group_id="s1")])
    assert result.groups == (("E1", "E2", "E3"),)
    assert [e.notification for e in result.events] == ["N1"] * 3
    assert result.status_of("N1").event_ids == ("E1", "E2", "E3")


def test_group_count_limits_matches_to_the_best_members():
    # window centre 900 s: E3 (840) and E2 (720) fit best, E1 (600) is left UNANNOUNCED
    result = outcome(salvo([600, 720, 840]), [note(group=True, count=2)])
    assert [e.notification for e in result.events] == [UNANNOUNCED, "N1", "N1"]


@pytest.mark.parametrize(("gap_s", "n_groups"), [(299.0, 1), (300.0, 2)])
def test_groups_need_launches_less_than_five_minutes_apart(gap_s, n_groups):
    result = outcome(salvo([600, 600 + gap_s]), [note(group=True)])
    assert len(result.groups) == n_groups
    assert result.unannounced == (() if n_groups == 1 else ("E1",))  # the group nearer the window centre wins


def test_group_notification_prefers_the_larger_group_over_the_better_centred_one():
    events = salvo([600, 720, 840, 3600])  # a salvo of three, and a lone launch at the window centre
    result = outcome(events, [note(start=0, end=7200, group=True)])
    assert result.groups == (("E1", "E2", "E3"), ("E4",))
    assert result.unannounced == ("E4",) and result.status_of("N1").event_ids == ("E1", "E2", "E3")


def test_ordinary_notification_covers_one_launch_of_a_salvo():
    result = outcome(salvo([600, 720, 840]), [note()])
    assert [e.notification for e in result.events] == [UNANNOUNCED, UNANNOUNCED, "N1"]


def test_notification_without_event_is_not_observed():
    result = outcome([warn()], [note(), note("N2", start=86400, end=90000)])
    assert result.status_of("N1").status == OBSERVED
    assert result.status_of("N2").status == NOT_OBSERVED and result.not_observed == ("N2",)


@pytest.mark.parametrize("reverse", [False, True])
def test_two_events_one_notification_goes_to_the_better_fit(reverse):
    near = warn("NEAR", lat=SITE[0] + 1.0 / KM_PER_DEG)
    far = warn("FAR", t=1000.0, lat=SITE[0] + 30.0 / KM_PER_DEG)
    events = [far, near] if reverse else [near, far]
    result = outcome(events, [note()])
    assert result.notification_of("NEAR") == "N1" and result.notification_of("FAR") == UNANNOUNCED


def test_assignment_serves_both_notifications_where_greedy_would_not():
    # A fits both N-wide and N-small best; B fits only N-wide. Greedy by best score gives A to N-wide
    # and leaves B unannounced; the optimal assignment gives A→N-small, B→N-wide.
    a = warn("A")
    b = warn("B", t=950.0, lat=SITE[0] + 80.0 / KM_PER_DEG)
    notes = [note("N-wide", launch=circle(*SITE, 100.0)), note("N-small", launch=circle(*SITE, 10.0))]
    result = outcome([a, b], notes)
    assert result.notification_of("A") == "N-small" and result.notification_of("B") == "N-wide"


def test_latest_version_of_an_event_is_matched_and_returned():
    v1 = warn(lat=10.0)
    v2 = v1.revised(launch_lat_deg=SITE[0])
    result = outcome([v2, v1], [note()])
    assert len(result.warnings) == 1 and result.warnings[0].version == 2
    assert result.warnings[0].notification == "N1"
    json.dumps(result.to_dict())


def test_shipped_examples_match_the_demo_scenario_launches():
    notes = load_notifications(EXAMPLES / "north.yaml") + load_notifications(EXAMPLES / "east.yaml")
    l1 = warn("L1", t=300.0, sigma=2.0, az=40.0)
    f9 = warn("F9", t=600.0, sigma=3.0, lat=28.5618, lon=-80.5772, az=45.0, cls="space_launch")
    result = match([l1, f9], notes, EPOCH)
    assert result.notification_of("L1") == "N-0301-01" and result.notification_of("F9") == "E-0301-F9"
    assert result.not_observed == ("N-0302-S1",)


# --- property: a warning at the centre of a notification's areas, window and sector always matches -------------
def area_around(lat, lon, radius_km, sides):
    if sides == 0:
        return circle(lat, lon, radius_km)
    az = np.radians(np.arange(sides) * 360.0 / sides)
    la, lo = great_circle_destination(np.radians(lat), np.radians(lon), az, radius_km * 1e3)
    return {"polygon": [[float(x), float(y)] for x, y in zip(np.degrees(lo), np.degrees(la), strict=True)]}


centres = st.tuples(
    st.floats(-65, 65), st.floats(-180, 180), st.floats(5, 500), st.sampled_from([0, 3, 4, 7])
)


@settings(max_examples=150, deadline=None)
@given(
    launch=centres,
    impact=centres,
    start=st.integers(-100000, 100000),
    length=st.integers(60, 86400),
    sector=st.tuples(st.floats(0, 359), st.floats(1, 359)),
    sigma=st.floats(0, 60),
    ellipse=st.tuples(st.floats(0, 179), st.floats(0, 50), st.floats(0, 1)),
    cls=st.sampled_from(["ballistic", "space_launch"]),
    unknown=st.booleans(),
)
def test_warning_at_the_centre_always_matches(
    launch, impact, start, length, sector, sigma, ellipse, cls, unknown
):
    lo, width = sector
    n = note(
        cls=cls,
        start=start,
        end=start + length,
        launch=area_around(*launch),
        sector=(lo, (lo + width) % 360.0),
        impact_area=area_around(*impact),
    )
    bearing, a_km, ratio = ellipse
    w = Warning(
        "P",
        1,
        "2026-03-01T12:00:00Z",
        "unknown" if unknown else cls,
        start + length / 2,
        sigma,
        launch[0],
        launch[1],
        launch_ellipse=(bearing, a_km, a_km * ratio),
        azimuth_deg=(lo + width / 2) % 360.0,
        azimuth_sigma_deg=1.0,
        impact_lat_deg=impact[0],
        impact_lon_deg=impact[1],
        impact_ellipse=(bearing, a_km, a_km * ratio),
    )
    result = match([w], [n], EPOCH)
    assert result.notification_of("P") == "N1"
    assert result.events[0].checked == ("class", "time", "launch", "impact", "azimuth")
