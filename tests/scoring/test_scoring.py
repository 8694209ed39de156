"""Scoring on hand-built warnings and truth: assignment, gate, latencies, errors, nulls, false events.

Expected distances are computed independently: along a meridian or the equator the great-circle distance
on the WGS84 equatorial sphere is exactly ``a·Δangle``.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from vigil.frames import WGS84_A_M
from vigil.scoring import LAUNCH_KEYS, Gate, assign_events, score
from vigil.warning.records import Warning

EPOCH = "2026-03-01T12:00:00Z"
KM_PER_DEG = WGS84_A_M / 1000.0 * math.pi / 180.0  # on a meridian or the equator


def issued(offset_s: float) -> str:
    t = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC) + dt.timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def warn(
    event_id, version, at_s, t_launch, lat=0.0, lon=0.0, cls="ballistic", az=None, impact=None, note=None
):
    return Warning(
        event_id,
        version,
        issued(at_s),
        cls,
        t_launch,
        2.0,
        lat,
        lon,
        azimuth_deg=az,
        impact_lat_deg=None if impact is None else impact[0],
        impact_lon_deg=None if impact is None else impact[1],
        notification=note,
    )


def truth(launch_id, t_launch, lat=0.0, lon=0.0, cls="ballistic", az=90.0, burnout_s=None, impact=None):
    return {
        "id": launch_id,
        "class": cls,
        "site": {"lat_deg": lat, "lon_deg": lon},
        "launch_time_s": t_launch,
        "azimuth_deg": az,
        "burnout": {"time_s": burnout_s if burnout_s is not None else t_launch + 100.0},
        "impact": None if impact is None else {"lat_deg": impact[0], "lon_deg": impact[1]},
    }


def test_assignment_is_optimal_not_greedy():
    # E1 is nearer A than B, but giving it A would leave E2 (only within A's gate) unmatched
    launches = [truth("A", 100.0), truth("B", 160.0)]
    events = [warn("E1", 1, 200, 125.0), warn("E2", 1, 200, 95.0)]
    result = assign_events(events, launches)
    assert result.event_of == {"A": "E2", "B": "E1"}
    assert result.false_events == ()


def test_event_outside_the_distance_gate_is_a_false_event():
    # 1° of latitude is 111.3 km > the 100 km gate, even with the exact launch time
    launches = [truth("A", 100.0)]
    result = assign_events([warn("E1", 1, 200, 100.0, lat=1.0)], launches)
    assert result.event_of == {}
    assert result.false_events == ("E1",)
    inside = assign_events([warn("E1", 1, 200, 100.0, lat=0.89)], launches)  # 99.1 km
    assert inside.event_of == {"A": "E1"}


def test_gate_is_an_ellipse_in_normalised_distance_and_time():
    launches = [truth("A", 100.0)]
    # 0.6 of the distance scale and 0.8 of the time scale: 0.36 + 0.64 = 1.0, just inside
    gate = Gate(distance_km=KM_PER_DEG, time_s=50.0)
    on_edge = warn("E1", 1, 200, 100.0 + 0.8 * 50.0 - 1e-6, lat=0.6)
    assert assign_events([on_edge], launches, gate).event_of == {"A": "E1"}
    beyond = warn("E1", 1, 200, 100.0 + 0.8 * 50.0 + 0.5, lat=0.6)
    assert assign_events([beyond], launches, gate).false_events == ("E1",)


def test_duplicate_event_counts_as_false_and_as_duplicate():
    launches = [truth("A", 100.0)]
    events = [warn("E1", 1, 200, 101.0), warn("E2", 1, 210, 103.0, lat=0.05)]
    scored = score(events, launches, {"A": 150.0}, EPOCH)
    assert scored["matches"] == {"A": "E1"}
    assert scored["false_events"] == 1
    assert scored["duplicate_events"] == 1
    assert scored["duplicates"] == {"A": ["E2"]}


def test_launch_record_exact_values():
    launches = [truth("A", 100.0, az=1.0, burnout_s=200.0, impact=(0.0, 10.0))]
    versions = [
        warn("E1", 1, 140.0, 98.0, lat=0.01, cls="unknown", az=359.0),
        warn("E1", 2, 250.0, 99.0, lat=0.01, az=359.0, impact=(0.0, 10.02)),  # in force at 200 + 60 s
        warn("E1", 3, 300.0, 101.0, lat=0.02, az=359.0, impact=(0.0, 10.5), note="N-1"),  # final
    ]
    scored = score(versions, launches, {"A": 137.0}, EPOCH, bounds={"A": {"launch_crlb_km": 1.5}})
    rec = scored["launches"][0]
    assert tuple(rec) == LAUNCH_KEYS
    assert rec["detected"] is True
    assert rec["latency_s"] == pytest.approx(40.0)
    assert rec["latency_from_stereo_s"] == pytest.approx(3.0)
    assert rec["launch_error_km"] == pytest.approx(0.02 * KM_PER_DEG, rel=1e-9)
    assert rec["launch_crlb_km"] == 1.5
    assert rec["azimuth_error_deg"] == pytest.approx(2.0)
    assert rec["impact_error_km"] == pytest.approx(0.02 * KM_PER_DEG, rel=1e-9)
    assert rec["impact_crlb_km"] is None
    assert (rec["class_true"], rec["class_est"]) == ("ballistic", "ballistic")
    assert rec["notification"] == "N-1"
    assert scored["false_events"] == 0


def test_impact_judged_on_first_later_version_when_none_in_force_at_burnout_plus_60s():
    launches = [truth("A", 100.0, burnout_s=200.0, impact=(0.0, 10.0))]
    versions = [
        warn("E1", 1, 140.0, 100.0),
        warn("E1", 2, 270.0, 100.0, impact=(0.0, 10.1)),
        warn("E1", 3, 400.0, 100.0, impact=(0.0, 10.3)),
    ]
    rec = score(versions, launches, {"A": 137.0}, EPOCH)["launches"][0]
    assert rec["impact_error_km"] == pytest.approx(0.1 * KM_PER_DEG, rel=1e-9)


def test_unknown_values_are_null():
    launches = [truth("A", 100.0, cls="space_launch", az=None), truth("B", 500.0)]
    versions = [warn("E1", 1, 160.0, 100.0, cls="space_launch")]
    scored = score(versions, launches, {"A": None, "B": 520.0}, EPOCH)
    a, b = scored["launches"]
    assert a["detected"] and a["latency_s"] == pytest.approx(60.0)
    assert a["latency_from_stereo_s"] is None  # never stereo-visible
    assert a["azimuth_error_deg"] is None and a["impact_error_km"] is None and a["notification"] is None
    assert b == {
        "id": "B",
        "detected": False,
        "class_true": "ballistic",
        **{k: None for k in LAUNCH_KEYS[3:]},
    }


def test_no_warnings_no_events():
    scored = score([], [truth("A", 100.0)], {"A": 130.0}, EPOCH)
    assert scored["false_events"] == 0 and scored["events"] == 0
    assert scored["launches"][0]["detected"] is False
