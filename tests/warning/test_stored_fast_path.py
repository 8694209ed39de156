"""The no-conversion validation of Warning records accepts exactly what the converting validation accepts, with
the same stored values (differential test over boundary and bad values of every checked field)."""

import itertools
import math

import numpy as np

from vigil.errors import DataError
from vigil.warning import Sources, Warning, records

BASE = dict(
    event_id="E1",
    version=3,
    issued_at="2026-03-01T12:07:31.500000Z",
    class_="ballistic",
    launch_time_s=300.25,
    launch_time_sigma_s=1.5,
    launch_lat_deg=45.0,
    launch_lon_deg=63.0,
    launch_ellipse=(30.0, 4.0, 1.5),
    azimuth_deg=40.0,
    azimuth_sigma_deg=0.8,
    burnout_time_s=480.0,
    burnout_alt_m=210e3,
    burnout_speed_m_s=6800.0,
    impact_time_s=2100.0,
    impact_lat_deg=55.0,
    impact_lon_deg=-178.0,
    impact_ellipse=(200.0, 40.0, 12.0),
    containment=0.95,
    notification=None,
    sources=Sources(("s1",), ("p",)),
    confidence=0.9,
    mono=False,
    class_reason="dv +4.1 sigma",
)
NUMBERS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    45.5,
    89.999,
    90.0,
    90.5,
    -90.0,
    -90.5,
    179.0,
    180.0,
    180.5,
    -180.0,
    -180.5,
    359.9,
    360.0,
    360.5,
    1.0e300,
    math.inf,
    -math.inf,
    math.nan,
    None,
    1,
    True,
    np.float64(2.0),
    "3.0",
]
ELLIPSES = [
    (0.0, 2.0, 1.0),
    (-0.0, 2.0, 1.0),
    (180.0, 2.0, 2.0),
    (-30.0, 2.0, 0.0),
    (190.0, 1.0, 2.0),
    (math.nan, 2.0, 1.0),
    (10.0, math.inf, 1.0),
    (10.0, 2.0, -0.0),
    (10.0, 2.0, -1.0),
    [10.0, 2.0, 1.0],
    (10.0, 2.0),
    (10.0, 2, 1.0),
    (np.float64(10.0), 2.0, 1.0),
    "abc",
    None,
]
OTHER = {
    "event_id": ["", "E2", 7],
    "version": [1, 0, True, 2.0],
    "issued_at": ["2026-02-30T00:00:00Z", 5],
    "class_": ["space_launch", "orbital"],
    "containment": [0.0, 1.0, 0.5, math.nan, 1],
    "confidence": [0.0, 1.0, 1.0001, -0.0, math.nan, 1],
    "notification": ["", "N-1", 3],
    "mono": [True, 0],
    "sources": [{"sensors": ["b", "a"]}, ("s1",)],
    "class_reason": [
        "",
        "γ over 9° by 3.2 σ",
        "x" * records.MAX_REASON_CHARS,
        "x" * (records.MAX_REASON_CHARS + 1),
        "two\nlines",
        "tab\there",
        None,
        5,
    ],
}


def _outcome(fields, fast):
    """(stored fields as repr, or the error message) by the fast path (falling back as _validate does) or by
    the converting path alone."""
    w = object.__new__(Warning)
    w.__dict__.update(fields)
    try:
        if not (fast and records._check_stored(w)):
            assert vars(w) == fields or not fast  # a rejected fast check changes nothing
            records._validate_converting(w)
    except DataError as err:
        return str(err)
    return {k: repr(v) for k, v in vars(w).items()}


def _variants():
    floats = [*records._REQUIRED_FLOATS, *records._OPTIONAL_FLOATS]
    for name, value in itertools.product(floats, NUMBERS):
        yield {name: value}
    for name, value in itertools.product(records._ELLIPSES, ELLIPSES):
        yield {name: value}
    for name, values in OTHER.items():
        for value in values:
            yield {name: value}
    for lat, lon in itertools.product([None, 10.0, 95.0], [None, 10.0, 185.0]):
        yield {"impact_lat_deg": lat, "impact_lon_deg": lon}


def test_fast_path_accepts_and_stores_exactly_what_the_converting_path_does():
    fast_taken = 0
    for change in _variants():
        fields = {**BASE, **change}
        assert _outcome(fields, True) == _outcome(fields, False), change
        w = object.__new__(Warning)
        w.__dict__.update(fields)
        fast_taken += records._check_stored(w)
    assert fast_taken > 100
