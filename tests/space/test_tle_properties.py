"""Property tests of the TLE reader: random element sets round-trip; corruptions never pass silently."""

from __future__ import annotations

import datetime as dt
import math
import string
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

from vigil.errors import ElementError
from vigil.space.elements import load_constellation

DEG = math.pi / 180.0
XPDOTP = 1440.0 / (2.0 * math.pi)  # rev/day per rad/min
SGP4_EPOCH0 = dt.datetime(1949, 12, 31, tzinfo=dt.UTC)

elements = st.fixed_dictionaries(
    {
        "satnum": st.integers(1, 99999),
        "epoch_days": st.floats(18263.0, 38350.0),  # 2000-01-01 .. 2054-12-31 (two-digit-year window)
        "bstar": st.one_of(
            st.just(0.0), st.floats(1e-8, 1e-3), st.floats(-1e-3, -1e-8)
        ),  # exporter: 1-digit exponent
        "ecc": st.floats(0.0, 0.95),
        "argp_deg": st.floats(0.0, 359.99),
        "incl_deg": st.floats(0.0, 180.0),
        "mo_deg": st.floats(0.0, 359.99),
        "n_rev_day": st.floats(0.5, 16.9),
        "raan_deg": st.floats(0.0, 359.99),
    }
)


def _tle(e) -> tuple[str, str]:
    sat = Satrec()
    sat.sgp4init(WGS72, "i", e["satnum"], e["epoch_days"], e["bstar"], 0.0, 0.0, e["ecc"], e["argp_deg"] * DEG,
                 e["incl_deg"] * DEG, e["mo_deg"] * DEG, e["n_rev_day"] / XPDOTP, e["raan_deg"] * DEG)  # fmt: skip
    return export_tle(sat)


def _load(text: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prop.tle"
        path.write_text(text)
        return load_constellation(path)


def _orbit(sat):
    return (sat.satnum, sat.jdsatepoch, sat.jdsatepochF, sat.ndot, sat.nddot, sat.bstar, sat.inclo, sat.nodeo,
            sat.ecco, sat.argpo, sat.mo, sat.no_kozai)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(elements)
def test_exported_tle_round_trips_to_format_precision(e):
    line1, line2 = _tle(e)
    sat = _load(f"SAT\n{line1}\n{line2}\n").satrecs[0]
    assert sat.satnum == e["satnum"]
    assert abs(sat.ecco - e["ecc"]) <= 0.5e-7 + 1e-15
    for got, want in ((sat.inclo, e["incl_deg"]), (sat.nodeo, e["raan_deg"]), (sat.argpo, e["argp_deg"]),
                      (sat.mo, e["mo_deg"])):  # fmt: skip
        assert abs(got / DEG - want) <= 0.5e-4 + 1e-9
    assert abs(sat.no_kozai * XPDOTP - e["n_rev_day"]) <= 0.5e-8 + 1e-12
    assert abs((sat.jdsatepoch - 2433281.5 + sat.jdsatepochF) - e["epoch_days"]) <= 0.5e-8 + 1e-9


@settings(max_examples=300, deadline=None)
@given(elements, st.integers(1, 2), st.integers(3, 69), st.integers(1, 9))
def test_any_digit_change_is_rejected_by_the_checksum(e, which, col, delta):
    """Changing one digit by d (1..9) changes the mod-10 digit sum, so the line's checksum must fail."""
    lines = list(_tle(e))
    line = lines[which - 1]
    if not line[col - 1].isdigit():
        return
    lines[which - 1] = line[: col - 1] + str((int(line[col - 1]) + delta) % 10) + line[col:]
    try:
        _load("\n".join(lines) + "\n")
    except ElementError as err:
        assert "checksum" in str(err) and "prop.tle" in str(err)
    else:
        raise AssertionError(f"corrupted column {col} of line {which} was accepted")


@settings(max_examples=300, deadline=None)
@given(elements, st.integers(1, 2), st.integers(1, 69), st.sampled_from(string.printable[:95]))
def test_any_single_character_corruption_is_rejected_or_harmless(e, which, col, char):
    """A corrupted line either raises ElementError or reads to exactly the same orbit (e.g. '+' for ' ')."""
    lines = list(_tle(e))
    original = _orbit(_load("\n".join(lines) + "\n").satrecs[0])
    line = lines[which - 1]
    lines[which - 1] = line[: col - 1] + char + line[col:]
    try:
        const = _load("\n".join(lines) + "\n")
    except ElementError as err:
        assert "\n" not in str(err)
        return
    assert _orbit(const.satrecs[0]) == original
