"""The Warning record contract: JSON round trip, validation messages naming the field, versions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest

from vigil.errors import DataError
from vigil.warning import UNANNOUNCED, Sources, Warning, warnings_from_document, warnings_to_document

EPOCH = "2026-03-01T12:00:00Z"


def full_warning() -> Warning:
    return Warning(
        event_id="E7",
        version=2,
        issued_at="2026-03-01T12:07:31.5Z",
        class_="ballistic",
        launch_time_s=np.float64(300.25),
        launch_time_sigma_s=1.5,
        launch_lat_deg=45.0,
        launch_lon_deg=63.3,
        launch_ellipse=(30.0, 4.0, 1.5),
        azimuth_deg=40.0,
        azimuth_sigma_deg=0.8,
        burnout_time_s=480.0,
        burnout_alt_m=210e3,
        burnout_speed_m_s=6800.0,
        impact_time_s=2100.0,
        impact_lat_deg=55.0,
        impact_lon_deg=-178.0,
        impact_ellipse=[200.0, 40.0, 12.0],
        containment=0.95,
        notification="N-0301-01",
        sources={"sensors": ["north-2", "north-1", "north-1"], "partners": ["north"]},
        confidence=0.9,
        mono=False,
        class_reason="climbing (gamma over 9 deg by 12.3 sigma) 1100 m/s or more short of orbit (8.0 sigma)",
    )


def test_json_round_trip_is_exact_and_uses_design_names():
    w = full_warning()
    text = json.dumps(w.to_dict())
    data = json.loads(text)
    assert data["class"] == "ballistic" and "class_" not in data
    assert data["sources"] == {"sensors": ["north-1", "north-2"], "partners": ["north"]}
    assert data["impact_ellipse"] == [20.0, 40.0, 12.0]  # bearing of an axis is taken modulo 180°
    assert type(data["launch_time_s"]) is float
    assert Warning.from_dict(data) == w


def test_reason_round_trips_and_a_record_stored_before_it_loads_with_an_empty_one():
    w = full_warning()
    data = json.loads(json.dumps(w.to_dict()))
    assert data["class_reason"] == w.class_reason != ""
    assert Warning.from_dict(data).class_reason == w.class_reason
    del data["class_reason"]  # (a document written before the field existed)
    old = Warning.from_dict(data)
    assert old.class_reason == "" and old == dataclasses.replace(w, class_reason="")
    epoch, (again,) = warnings_from_document(json.loads(json.dumps(warnings_to_document([w], EPOCH))))
    assert again == w


def test_orbital_event_serialises_impact_as_null():
    w = Warning("S1", 1, "2026-03-01T12:12:00Z", "space_launch", 600.0, 3.0, 28.56, -80.58)
    data = json.loads(json.dumps(w.to_dict()))
    assert data["impact_lat_deg"] is None and data["impact_ellipse"] is None and data["notification"] is None
    assert not Warning.from_dict(data).has_impact
    assert Warning.from_dict(data).sources == Sources()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("launch_lat_deg", 95.0, "field launch_lat_deg: 95.0 is outside [-90, 90]"),
        ("impact_lon_deg", 181.0, "field impact_lon_deg: 181.0 is outside [-180, 180]"),
        ("class", "cruise", "field class: 'cruise' is not one of ballistic, space_launch, unknown"),
        ("version", 0, "field version: expected an integer >= 1"),
        ("launch_time_s", "soon", "field launch_time_s: expected a number"),
        ("launch_time_s", float("nan"), "field launch_time_s: nan is not finite"),
        ("launch_time_sigma_s", -1.0, "field launch_time_sigma_s: -1.0 is outside [0, inf]"),
        ("containment", 1.0, "field containment: 1.0 is outside (0, 1)"),
        ("confidence", 1.5, "field confidence: 1.5 is outside [0, 1]"),
        ("launch_ellipse", [0.0, 1.0, 2.0], "field launch_ellipse: semi-axes need 0 <= b_km <= a_km"),
        ("impact_ellipse", [1.0, 2.0], "field impact_ellipse: expected [bearing_deg, a_km, b_km]"),
        ("issued_at", "yesterday", "field issued_at: 'yesterday' is not an ISO 8601 date-time"),
        ("mono", "no", "field mono: expected true or false"),
        ("class_reason", 3, "field class_reason: expected a string"),
        ("class_reason", "two\nlines", "field class_reason: expected one line of printable text"),
        ("class_reason", "x" * 241, "field class_reason: expected one line of printable text, at most 240"),
        ("bogus", 1, "unknown field 'bogus'"),
    ],
)
def test_from_dict_rejects_bad_field_in_one_line_naming_it(field, value, message):
    data = full_warning().to_dict()
    data[field] = value
    with pytest.raises(DataError) as err:
        Warning.from_dict(data, where="warnings.json record 3")
    text = str(err.value)
    assert text.startswith("warnings.json record 3") and message in text and "\n" not in text


def test_from_dict_names_missing_field_and_half_impact():
    data = full_warning().to_dict()
    del data["launch_lon_deg"]
    with pytest.raises(DataError, match="missing field 'launch_lon_deg'"):
        Warning.from_dict(data)
    data = full_warning().to_dict()
    data["impact_lon_deg"] = None
    with pytest.raises(DataError, match="impact latitude and longitude must both be set or null"):
        Warning.from_dict(data)


def test_revised_increments_version_and_keeps_identity():
    w = full_warning()
    w3 = w.revised(launch_time_sigma_s=0.5)
    assert (w3.event_id, w3.version, w3.launch_time_sigma_s) == ("E7", 3, 0.5)
    assert w.with_notification(UNANNOUNCED).version == 2


def test_launch_time_utc_adds_seconds_to_epoch():
    assert full_warning().launch_time_utc(EPOCH) == dt.datetime(2026, 3, 1, 12, 5, 0, 250000, tzinfo=dt.UTC)


def test_document_carries_epoch_once_and_round_trips():
    doc = json.loads(json.dumps(warnings_to_document([full_warning()], EPOCH)))
    assert doc["epoch"] == "2026-03-01T12:00:00.000000Z"
    epoch, items = warnings_from_document(doc)
    assert items == [full_warning()] and epoch == doc["epoch"]
    doc["warnings"][0]["confidence"] = -0.1
    with pytest.raises(DataError, match=r"^warnings record 0 event 'E7' field confidence"):
        warnings_from_document(doc)


def test_stored_form_takes_the_fast_path_and_normalises_as_the_converting_path():
    from vigil.warning import records

    fields = dict(
        event_id="E1",
        version=3,
        issued_at="2026-03-01T12:07:31.500000Z",
        class_="ballistic",
        launch_time_s=300.25,
        launch_time_sigma_s=1.5,
        launch_lat_deg=45.0,
        launch_lon_deg=-180.0,
        launch_ellipse=(-0.0, 4.0, 1.5),
        azimuth_deg=360.0,
        azimuth_sigma_deg=0.8,
        burnout_time_s=480.0,
        impact_time_s=2100.0,
        impact_lat_deg=-90.0,
        impact_lon_deg=180.0,
        impact_ellipse=(200.0, 4.0, 4.0),
        containment=0.95,
        sources=Sources(("s1",), ("p",)),
        confidence=1.0,
        mono=False,
    )
    fast = Warning(**fields)
    converted = Warning(**{k: (np.float64(v) if type(v) is float else v) for k, v in fields.items()})
    assert fast == converted and fast.to_dict() == converted.to_dict()
    assert fast.azimuth_deg == 0.0 and fast.impact_ellipse == (20.0, 4.0, 4.0)
    assert str(fast.launch_ellipse[0]) == str(converted.launch_ellipse[0]) == "0.0"
    assert records._check_stored(fast)
    # every check still applies to records in stored form (the fast path hands them to the converting one)
    for name, value in [
        ("launch_lat_deg", 90.5),
        ("launch_time_s", float("inf")),
        ("azimuth_sigma_deg", -0.1),
        ("impact_lon_deg", None),
        ("launch_ellipse", (0.0, 1.0, 2.0)),
        ("confidence", 1.01),
        ("containment", 0.0),
        ("issued_at", "2026-02-30T00:00:00Z"),
        ("version", True),
        ("notification", ""),
        ("mono", 0),
    ]:
        with pytest.raises(DataError, match=name.split("_deg")[0] if name != "impact_lon_deg" else "impact"):
            Warning(**{**fields, name: value})


def test_of_fields_is_the_constructor_without_its_init():
    import dataclasses

    ref = full_warning()
    fields = {f.name: getattr(ref, f.name) for f in dataclasses.fields(ref)}
    fast = Warning.of_fields(**fields)
    assert fast == Warning(**fields) and fast.to_dict() == ref.to_dict() and vars(fast) == vars(ref)
    converted = Warning.of_fields(**{**fields, "launch_lat_deg": np.float64(45.0), "azimuth_deg": 360.0})
    assert type(converted.launch_lat_deg) is float and converted.azimuth_deg == 0.0
    with pytest.raises(DataError, match="launch_lat"):
        Warning.of_fields(**{**fields, "launch_lat_deg": 91.0})
    partial = {k: v for k, v in fields.items() if k != "notification"}
    assert Warning.of_fields(**partial) == Warning(**partial)  # missing fields: the constructor's defaults
    with pytest.raises(TypeError):
        Warning.of_fields(**{**fields, "bogus": 1})
