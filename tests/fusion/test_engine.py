"""End-to-end fusion on synthetic detections: warnings, latency, accuracy, clutter, mono, salvo."""

import json

import numpy as np
import pytest
from fusion_truth import VISIBLE_ALT_M, boost_truth, coast_impact, observe, sensors

from vigil.frames import ecef_to_geodetic, great_circle_distance_m
from vigil.fusion import FusionEngine, fuse
from vigil.records import ObservationBatch


@pytest.fixture(scope="module")
def single():
    truth = boost_truth()
    b = observe([truth], sensors(), np.random.default_rng(3), clutter_per_frame=0.01)
    stream = list(FusionEngine().run(b))
    return truth, b, stream


def _second_sensor_sight(truth, b):
    first = {}
    for t, sid in zip(b.time_s, b.sensor_id, strict=True):
        r, _ = truth.state(t)
        if truth.t_s[0] <= t <= truth.t_s[-1] and ecef_to_geodetic(r)[2] >= VISIBLE_ALT_M:
            first.setdefault(sid, t)
    return sorted(first.values())[1]


def test_one_launch_gives_one_event_with_increasing_versions(single):
    _, _, stream = single
    warnings = [w for _, ws in stream for w in ws]
    assert {w.event_id for w in warnings} == {"E0001"}
    assert [w.version for w in warnings] == list(range(1, len(warnings) + 1))
    json.dumps([w.to_dict() for w in warnings])  # JSON-safe


def test_first_warning_within_5_s_of_the_second_sensor_seeing_the_plume(single):
    truth, b, stream = single
    first = next(t for t, ws in stream if ws)
    assert first - _second_sensor_sight(truth, b) <= 5.0


def test_final_warning_locates_launch_and_classifies_ballistic_with_impact(single):
    truth, _, stream = single
    final = [w for _, ws in stream for w in ws][-1]
    miss = great_circle_distance_m(
        np.radians(final.launch_lat_deg), np.radians(final.launch_lon_deg), truth.lat_rad, truth.lon_rad
    )
    assert miss <= 2000.0
    assert abs(final.azimuth_deg - np.degrees(truth.azimuth_rad)) <= 1.0
    assert abs(final.launch_time_s - truth.launch_time_s) <= 3 * final.launch_time_sigma_s + 2.0
    assert final.class_ == "ballistic"
    assert abs(final.burnout_time_s - truth.burnout_time_s) <= 2.0
    t_imp, lat, lon = coast_impact(truth.r[-1], truth.v[-1], truth.burnout_time_s)
    impact_miss_km = (
        great_circle_distance_m(np.radians(final.impact_lat_deg), np.radians(final.impact_lon_deg), lat, lon)
        / 1e3
    )
    assert impact_miss_km <= final.impact_ellipse[1]  # inside the 95 % semi-major axis
    assert abs(final.impact_time_s - t_imp) < 120.0


def test_clutter_only_gives_no_event():
    b = observe([], sensors(), np.random.default_rng(8), t_end=1800.0, clutter_per_frame=0.01)
    assert fuse(b) == []


def test_single_sensor_gives_an_honest_mono_event():
    truth = boost_truth()
    b = observe([truth], sensors(count=1), np.random.default_rng(9))
    (w,) = fuse(b)
    assert w.mono and w.azimuth_deg is None and w.impact_lat_deg is None
    miss = great_circle_distance_m(
        np.radians(w.launch_lat_deg), np.radians(w.launch_lon_deg), truth.lat_rad, truth.lon_rad
    )
    assert miss <= w.launch_ellipse[1] * 1e3  # inside the stated 95 % ellipse
    assert abs(w.launch_time_s - truth.launch_time_s) <= 2 * w.launch_time_sigma_s


def test_salvo_of_three_gives_three_events():
    kws = [
        dict(),
        dict(lat_deg=45.6, lon_deg=64.4, az_deg=60.0, t0=103.0),
        dict(lat_deg=44.3, lon_deg=62.5, az_deg=20.0, t0=98.0),
    ]
    truths = [boost_truth(**kw) for kw in kws]
    rng = np.random.default_rng(12)
    parts = [observe([tr], sensors(), rng) for tr in truths]
    for k, p in enumerate(parts):
        p.obs_id = p.obs_id + 10_000 * k
    b = ObservationBatch.concatenate(parts[0].epoch, parts)
    final = fuse(b)
    assert len(final) == 3
    for tr in truths:
        d = [
            great_circle_distance_m(
                np.radians(w.launch_lat_deg), np.radians(w.launch_lon_deg), tr.lat_rad, tr.lon_rad
            )
            for w in final
        ]
        assert min(d) <= 2000.0
