"""The releaser: filter, strip, coarsen, delay, sign; and the end-to-end property that a partner never
receives a record type, region or precision that the agreement does not release."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from vigil.errors import ConfigError
from vigil.sharing.agreement import MIN_PRECISION_M, Agreement
from vigil.sharing.audit import AuditLog, MemoryAuditSink, verify_entries
from vigil.sharing.precision import M_PER_DEG_LAT_MIN, VELOCITY_CELL_S
from vigil.sharing.receiver import Accepted, MemorySeenIds, Receiver
from vigil.sharing.records import RECORD_TYPES, judged_points, released_fields
from vigil.sharing.releaser import Denial, Releaser

from .policykit import (
    EAST,
    GEO_ALT_M,
    NORTH,
    T0,
    agreement,
    bisect_earth_hit,
    box,
    notification,
    observation,
    ray_cast_inside,
    registry,
    track,
    warning,
)

ASIA = box(20, 20, 100, 70)


def test_truth_and_internal_fields_never_leave():
    rec = track() | {"truth_pos_ecef_m": [1.0, 2.0, 3.0], "launch_id": "L1", "debug": {"x": 1}}
    (env,) = Releaser(agreement(), "north", NORTH).release("track", rec, T0)
    assert set(env.payload) <= released_fields("track")
    assert {"truth_pos_ecef_m", "launch_id", "debug"}.isdisjoint(env.payload)


def test_track_is_coarsened_and_its_covariance_grows_by_offset_and_rounding_variance():
    p = 5000.0
    (env,) = Releaser(agreement(precision_m=p), "north", NORTH).release("track", track(), T0)
    pos, vel = np.array(env.payload["pos_ecef_m"]), np.array(env.payload["vel_ecef_m_s"])
    qv = p / VELOCITY_CELL_S
    assert np.allclose(pos / p, np.round(pos / p), atol=1e-9, rtol=0)
    assert np.allclose(vel / qv, np.round(vel / qv), atol=1e-9, rtol=0)
    assert np.all(np.abs(pos - track()["pos_ecef_m"]) <= p)  # half a cell of offset + half of rounding
    assert np.all(np.abs(vel - track()["vel_ecef_m_s"]) <= qv / 2)
    # two independent uniform errors over a cell (offset, rounding): 2 × step²/12; velocity rounding qv²/12
    assert np.allclose(np.diag(env.payload["cov"])[:3], 1e4 + p * p / 6)
    assert np.allclose(np.diag(env.payload["cov"])[3:], 25.0 + qv * qv / 12)


def test_denials_name_the_clause():
    r = Releaser(agreement(types=["warning"], region=ASIA), "north", NORTH)
    assert r.release("track", track(), T0).clause == "types"
    assert r.release("rumour", {}, T0).clause == "types"
    assert r.release("warning", warning(launch=(-30.0, 0.0), impact=None), T0).clause == "region"
    assert r.release("warning", {"event_id": "E"}, T0).clause == "record"
    assert r.release("warning", warning(), T0 + 1400 * 86400).clause == "validity"  # past 2030-01-01
    assert r.release("warning", warning() | {"event_id": 2**60}, T0).clause == "record"
    # one direction only: east releases nothing to north under this agreement
    assert Releaser(agreement(), "east", EAST).release("track", track(), T0).clause == "types"


def test_warning_is_released_when_its_launch_or_its_impact_is_in_the_region():
    r = Releaser(agreement(types=["warning"], region=ASIA), "north", NORTH)
    assert isinstance(r.release("warning", warning(launch=(-30.0, 0.0), impact=(50.0, 60.0)), T0), list)
    assert isinstance(r.release("warning", warning(launch=(50.0, 60.0), impact=(-30.0, 0.0)), T0), list)
    assert isinstance(r.release("warning", warning(launch=(-30.0, 0.0), impact=(-31.0, 1.0)), T0), Denial)


def test_observation_missing_the_earth_is_inside_global_only():
    up = observation()
    up["los_ecef"] = (np.array(up["sensor_pos_ecef_m"]) / np.linalg.norm(up["sensor_pos_ecef_m"])).tolist()
    assert isinstance(Releaser(agreement(), "north", NORTH).release("observation", up, T0), list)
    denial = Releaser(agreement(region=box(-180, -90, 180, 90)), "north", NORTH).release(
        "observation", up, T0
    )
    assert denial.clause == "region" and "misses the Earth" in denial.reason


def test_numpy_records_from_the_simulator_are_accepted():
    rec = {k: np.asarray(v) if isinstance(v, list) else v for k, v in observation().items()}
    rec["obs_id"], rec["frame_id"] = np.int64(7), np.int64(42)
    assert isinstance(Releaser(agreement(), "north", NORTH).release("observation", rec, T0), list)


def test_delayed_envelopes_come_out_of_due_in_release_order():
    r = Releaser(agreement(delay_s=30.0), "north", NORTH)
    (late,) = r.release("track", track(), T0 + 5)
    (early,) = r.release("track", track(), T0)
    assert (early.release_at, late.release_at) == (T0 + 30, T0 + 35)
    assert r.due(T0 + 29.9) == [] and r.pending == 2
    assert r.due(T0 + 40) == [early, late] and r.pending == 0


def test_every_release_and_denial_is_audited_in_a_valid_chain():
    sink = MemoryAuditSink()
    r = Releaser(agreement(types=["track"]), "north", NORTH, audit=AuditLog(sink, NORTH, clock=lambda: T0))
    (env,) = r.release("track", track(), T0)
    r.release("warning", warning(), T0)
    assert [e["kind"] for e in sink.entries] == ["release", "denial"]
    assert sink.entries[0]["detail"]["msg_id"] == env.msg_id
    assert sink.entries[1]["detail"]["clause"] == "types"
    assert verify_entries(sink.entries, NORTH.public_key).ok


def test_releaser_refuses_a_non_party_or_someone_elses_key():
    with pytest.raises(ConfigError, match="'third' is not a party"):
        Releaser(agreement(), "third", NORTH)
    with pytest.raises(ConfigError, match="belongs to 'east'"):
        Releaser(agreement(), "north", EAST)


# ---- the property: release -> sign -> receive -> check against independent truth ---------------------------


@st.composite
def regions(draw):
    if draw(st.booleans()):
        return "global"
    lat0, lon0 = draw(st.floats(-60, 60)), draw(st.floats(-180, 180))
    n = draw(st.integers(3, 9))
    angles = sorted(2 * math.pi * (k + draw(st.floats(0.1, 0.9))) / n for k in range(n))  # one per sector
    radii = draw(st.lists(st.floats(5, 60), min_size=n, max_size=n))
    ring = [
        [lon0 + r * math.cos(t), max(-89.0, min(89.0, lat0 + r * math.sin(t)))]
        for t, r in zip(angles, radii, strict=True)
    ]
    return {"type": "Polygon", "coordinates": [ring + ring[:1]]}


@st.composite
def agreements(draw) -> Agreement:
    types = draw(st.lists(st.sampled_from(RECORD_TYPES), min_size=1, max_size=4, unique=True))
    try:
        return agreement(
            types=types,
            region=draw(regions()),
            precision_m=draw(st.floats(MIN_PRECISION_M, 300_000.0)),
            delay_s=draw(st.floats(0, 600)),
        )
    except ConfigError:
        assume(False)
        raise


def _near(draw, lat0: float, lon0: float, spread: float) -> tuple[float, float]:
    lat = max(-85.0, min(85.0, lat0 + draw(st.floats(-spread, spread))))
    lon = (lon0 + draw(st.floats(-spread, spread)) + 180.0) % 360.0 - 180.0
    return lat, lon


@st.composite
def records(draw, lat0: float, lon0: float, spread: float) -> tuple[str, dict[str, Any]]:
    """A random record of a random type with its positions within ``spread`` deg of (lat0, lon0)."""
    kind = draw(st.sampled_from(RECORD_TYPES))
    if kind == "track":
        rec = track(*_near(draw, lat0, lon0, spread), draw(st.floats(0, 1.5e6)))
    elif kind == "warning":
        impact = _near(draw, lat0, lon0, spread) if draw(st.booleans()) else None
        rec = warning(_near(draw, lat0, lon0, spread), impact)
    elif kind == "notification":
        lat, lon = _near(draw, lat0, lon0, spread)
        rec = notification(max(-80.0, min(80.0, lat)), max(-160.0, min(160.0, lon)))
    else:
        alt = draw(st.sampled_from([600e3, 1200e3, GEO_ALT_M]))
        reach = 60.0 if alt == GEO_ALT_M else 15.0
        target = _near(draw, lat0, lon0, spread)
        sat_lat, sat_lon = _near(draw, target[0], target[1], reach)
        rec = observation((max(-60.0, min(60.0, sat_lat)), sat_lon, alt), target)
        if draw(st.integers(0, 4)) == 0:  # looking up, away from the Earth
            r = np.array(rec["sensor_pos_ecef_m"])
            rec["los_ecef"] = (r / np.linalg.norm(r)).tolist()
    rec["truth_launch_id"] = "L1"  # never releasable
    return kind, rec


def _independent_points(kind: str, payload: dict[str, Any]) -> list[tuple[float, float]]:
    if kind != "observation":
        return judged_points(kind, payload)
    from vigil.frames import ecef_to_geodetic

    hit = bisect_earth_hit(np.array(payload["sensor_pos_ecef_m"]), np.array(payload["los_ecef"]))
    if hit is None:
        return []
    lat, lon, _ = ecef_to_geodetic(hit)
    return [(math.degrees(lat), math.degrees(lon))]


def _assert_no_finer_than(kind: str, payload: dict[str, Any], p: float) -> None:
    def on(value: float, step: float) -> bool:
        return abs(value / step - round(value / step)) < 1e-6

    if kind == "track":
        assert all(on(x, p) for x in payload["pos_ecef_m"])
    elif kind == "observation":
        r, u = np.array(payload["sensor_pos_ecef_m"]), np.array(payload["los_ecef"])
        assert all(on(x, p) for x in r)
        hit = bisect_earth_hit(r, u)
        if hit is not None:  # the angular cell spans at least p metres where the line meets the Earth
            assert payload["los_quantum_rad"] * np.linalg.norm(hit - r) >= p * (1 - 1e-6)
    else:
        lats = [v for k, v in payload.items() if k.endswith("_lat_deg") and v is not None]
        for area in (payload.get("launch_area"), payload.get("impact_area")):
            if area:
                lats += [area["lat_deg"]] if "lat_deg" in area else [lat for _, lat in area["polygon"]]
        assert all(on(lat, p / M_PER_DEG_LAT_MIN) for lat in lats)


@given(agreements(), st.data())
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
def test_partner_never_receives_a_type_region_or_precision_not_released(agreed, data):
    d = agreed.direction("north", "east")
    if d.region == "global":
        batch = data.draw(st.lists(records(0.0, 0.0, 180.0), min_size=1, max_size=4))
    else:  # around the polygon, so that records fall inside, outside and across its edges
        lons, lats = zip(*d.region["coordinates"][0][:-1], strict=True)
        batch = data.draw(
            st.lists(records(float(np.mean(lats)), float(np.mean(lons)), 50.0), min_size=1, max_size=4)
        )
    releaser = Releaser(agreed, "north", NORTH)
    receiver = Receiver("east", registry(), [agreed], MemorySeenIds(), clock=lambda: T0 + d.delay_s + 1.0)
    for kind, rec in batch:
        out = releaser.release(kind, rec, T0)
        event(
            f"{kind} {'global' if d.region == 'global' else 'polygon'}: "
            f"{out.clause if isinstance(out, Denial) else 'released'}"
        )
        if isinstance(out, Denial):
            assert out.clause in ("types", "region"), out
            assert out.clause != "types" or kind not in d.types
            assert out.clause != "region" or d.region != "global"
            continue
        (env,) = out
        result = receiver.accept(env.to_bytes())
        assert isinstance(result, Accepted), result  # nothing released is lost at the other end
        payload = result.record
        assert result.envelope.record_type == kind and kind in d.types
        assert set(payload) <= released_fields(kind) and "truth_launch_id" not in payload
        assert result.envelope.release_at >= result.envelope.created_at + d.delay_s
        if d.region != "global":
            ring = d.region["coordinates"][0][:-1]
            points = _independent_points(kind, payload)
            assert any(ray_cast_inside(lat, lon, ring) for lat, lon in points) or any(
                min(abs(lat - y) for _, y in ring) < 1e-6 for lat, _ in points
            )  # on the edge: shapely says in
        _assert_no_finer_than(kind, payload, d.precision_m)
