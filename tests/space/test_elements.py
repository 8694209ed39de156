"""Element readers: every format loads the same satellites; every malformed file is one clear line."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sgp4.exporter import export_tle

from vigil.errors import ElementError
from vigil.space.elements import StaleElementsWarning, load_constellation

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "constellations"
CORPUS = ROOT / "tests" / "data" / "bad_elements"
VIGIL = Path(sys.executable).with_name("vigil")
EPOCH = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

# corpus file -> a substring its one-line error message must contain (besides the file name)
BAD_FILES = {
    "bad_epoch.json": "field EPOCH",
    "binary.tle": "unreadable encoding",
    "bstar_format.tle": "BSTAR",
    "checksum.tle": "bad checksum",
    "column_shift.tle": "must be blank",
    "duplicate.json": "duplicate catalog number 81101",
    "duplicate.tle": "duplicate catalog number 81001",
    "duplicate_key.kvn": "duplicate field INCLINATION",
    "eccentricity_letter.tle": "eccentricity '00O2000'",
    "eccentricity_range.json": "ECCENTRICITY: 1.2 is outside",
    "empty.tle": "file is empty",
    "epoch_day.tle": "epoch day 400",
    "inclination_range.tle": "inclination 181",
    "latin1.tle": "unreadable encoding",
    "line2_first.tle": "line 2 without a line 1",
    "long_row.csv": "more values",
    "mean_motion_absurd.tle": "mean motion 25",
    "mean_motion_zero.tle": "mean motion 0",
    "missing_epoch.kvn": "missing required field EPOCH",
    "missing_field.json": "missing required field MEAN_MOTION",
    "missing_line2.tle": "not followed by a line 2",
    "mystery.dat": "unknown element format",
    "negative_mean_motion.json": "MEAN_MOTION: -2",
    "no_equals.kvn": "expected 'KEYWORD = value'",
    "no_segment.xml": "no OMM <segment>",
    "nonnumeric.csv": "MEAN_ANOMALY: 'ninety' is not a number",
    "nonnumeric.json": "INCLINATION: 'sixty-three' is not a number",
    "not_a_list.json": "must be a list",
    "not_well_formed.xml": "not well-formed",
    "raan_range.xml": "RA_OF_ASC_NODE: 400",
    "record_not_object.json": "record 1",
    "satnum_mismatch.tle": "catalog number mismatch",
    "short_line.tle": "has 60 columns",
    "short_row.csv": "fewer values",
    "truncated.json": "not valid JSON",
    "two_names.tle": "not followed by TLE line 1",
    "unknown_column.csv": "unknown field 'SATELLITE_COLOR'",
    "unknown_field.json": "unknown field 'ECCENTRICTY'",
    "unknown_key.kvn": "unknown field 'ORBIT_COLOUR'",
    "unknown_tag.xml": "unknown field 'SPIN_RATE'",
    "wrong_frame.kvn": "REF_FRAME: 'GCRF' is not supported",
    "wrong_theory.json": "MEAN_ELEMENT_THEORY: 'SGP4-XP' is not supported",
}


def test_corpus_is_complete_and_large():
    files = {p.name for p in CORPUS.iterdir()}
    assert files == set(BAD_FILES)
    assert len(files) >= 24
    assert {p.suffix for p in CORPUS.iterdir()} >= {".tle", ".json", ".csv", ".xml", ".kvn"}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_raises_one_line_naming_file_and_reason(name):
    with pytest.raises(ElementError) as info:
        load_constellation(CORPUS / name)
    message = str(info.value)
    assert "\n" not in message
    assert name in message
    assert BAD_FILES[name] in message


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_cli_coverage_reports_bad_file_in_one_line(name):
    args = [str(VIGIL), "coverage", "--constellation", str(CORPUS / name), "--start", "2026-03-01T00:00:00Z",
            "--hours", "1", "--step-s", "600", "--grid-deg", "10", "--min-elevation-deg", "5"]  # fmt: skip
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)
    lines = proc.stderr.splitlines()
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert name in lines[0] and BAD_FILES[name] in lines[0]


def test_missing_file_and_directory_are_element_errors(tmp_path):
    with pytest.raises(ElementError, match=r"nowhere\.tle: file not found"):
        load_constellation(tmp_path / "nowhere.tle")
    with pytest.raises(ElementError, match="is a directory"):
        load_constellation(tmp_path)


# ---------------------------------------------------------------- every format, same satellites


def _east_records() -> list[dict]:
    return json.loads((EXAMPLES / "east.json").read_text())


def _csv(records):
    keys = list(records[0])
    return ",".join(keys) + "\n" + "".join(",".join(str(r[k]) for k in keys) + "\n" for r in records)


def _xml(records):
    meta = ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "TIME_SYSTEM", "MEAN_ELEMENT_THEORY")
    mean = ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER",
            "MEAN_ANOMALY")  # fmt: skip

    def tags(r, keys):
        return "".join(f"<{k}>{r[k]}</{k}>" for k in keys)

    segments = "".join(
        f"<segment><metadata>{tags(r, meta)}</metadata><data><COMMENT>x</COMMENT><meanElements>{tags(r, mean)}"
        f"</meanElements><tleParameters>{tags(r, [k for k in r if k not in meta + mean])}</tleParameters>"
        "<userDefinedParameters><USER_DEFINED parameter='ANY'>1</USER_DEFINED></userDefinedParameters>"
        "</data></segment>"
        for r in records
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ndm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<omm id="CCSDS_OMM_VERS" version="2.0"><header><CREATION_DATE/></header><body>{segments}</body></omm></ndm>'
    )


def _kvn(records):
    units = {"INCLINATION": " [deg]", "MEAN_MOTION": " [rev/day]"}
    return "".join(
        "CCSDS_OMM_VERS = 2.0\nCOMMENT a comment\n"
        + "".join(f"{k} = {v}{units.get(k, '')}\n" for k, v in r.items())
        for r in records
    )


def _tle3(const, zero_style=False):
    out = []
    for name, sat in zip(const.names, const.satrecs, strict=True):
        out += [f"0 {name}" if zero_style else name, *export_tle(sat)]
    return "\n".join(out) + "\n"


def _elements(sat):
    return (sat.satnum, sat.jdsatepoch + sat.jdsatepochF, sat.no_kozai, sat.ecco, sat.inclo, sat.nodeo, sat.argpo,
            sat.mo, sat.bstar)  # fmt: skip


def test_json_csv_xml_kvn_give_identical_elements(tmp_path):
    reference = load_constellation(EXAMPLES / "east.json")
    records = _east_records()
    for ext, text in (("csv", _csv(records)), ("xml", _xml(records)), ("kvn", _kvn(records))):
        path = tmp_path / f"east.{ext}"
        path.write_text(text)
        const = load_constellation(path)
        assert const.names == reference.names and const.catalog_numbers == reference.catalog_numbers
        assert [_elements(s) for s in const.satrecs] == [_elements(s) for s in reference.satrecs]


def test_three_line_and_zero_style_tle_match_omm_to_tle_precision(tmp_path):
    reference = load_constellation(EXAMPLES / "east.json")
    for style in (False, True):
        path = tmp_path / f"east{int(style)}.tle"
        path.write_text(_tle3(reference, zero_style=style))
        const = load_constellation(path)
        assert const.names == reference.names
        for a, b in zip(const.satrecs, reference.satrecs, strict=True):
            ea, eb = _elements(a), _elements(b)
            assert ea[0] == eb[0]
            assert ea[1] == pytest.approx(eb[1], abs=1e-8)  # epoch day has 8 decimals
            assert ea[2] == pytest.approx(eb[2], rel=1e-8)
            assert ea[3] == pytest.approx(eb[3], abs=1e-7)
            assert ea[4:8] == pytest.approx(eb[4:8], abs=1e-4 * 3.1416 / 180)


def test_two_line_tle_names_default_and_file_stem(tmp_path):
    lines = (EXAMPLES / "north.tle").read_text().splitlines()
    path = tmp_path / "blue team.txt"
    path.write_text("\n".join(l for i, l in enumerate(lines) if i % 3) + "\n")
    const = load_constellation(path)
    assert const.name == "blue team"
    assert const.names[0] == "NORAD 81001" and len(const) == 5
    assert load_constellation(path, "north").name == "north"


def test_space_track_json_with_string_values_and_gp_columns(tmp_path):
    records = _east_records()
    for r in records:
        for key in list(r):
            r[key] = str(r[key])
        r.update(DECAY_DATE=None, TLE_LINE0="0 X", RCS_SIZE="LARGE", USER_DEFINED_NOTE="x")
    path = tmp_path / "spacetrack.json"
    path.write_text(json.dumps(records))
    const = load_constellation(path)
    reference = load_constellation(EXAMPLES / "east.json")
    assert [_elements(s) for s in const.satrecs] == [_elements(s) for s in reference.satrecs]


def test_format_sniffed_from_content_when_extension_is_unknown(tmp_path):
    for source, fmt_name in (("north.tle", "a.dat"), ("east.json", "b")):
        path = tmp_path / fmt_name
        path.write_text((EXAMPLES / source).read_text())
        assert len(load_constellation(path)) == len(load_constellation(EXAMPLES / source))
    kvn = tmp_path / "c.elements"
    kvn.write_text(_kvn(_east_records()))
    assert len(load_constellation(kvn)) == 4


def test_bad_xml_record_named_by_index_and_object(tmp_path):
    records = _east_records()
    bad = copy.deepcopy(records)
    bad[3]["ECCENTRICITY"] = -0.1
    path = tmp_path / "east.xml"
    path.write_text(_xml(bad))
    with pytest.raises(ElementError, match=r"east\.xml record 3 \(EAST HEO-T2\): field ECCENTRICITY: -0.1"):
        load_constellation(path)


# ---------------------------------------------------------------- stale elements


def test_stale_warnings_name_each_satellite_beyond_threshold():
    const = load_constellation(EXAMPLES / "north.tle")
    assert const.stale_warnings(EPOCH + dt.timedelta(days=13.9)) == []
    late = const.stale_warnings(EPOCH + dt.timedelta(days=30))
    assert len(late) == 5 and all("+30.0 days" in line and "north.tle" in line for line in late)
    assert "81003 (NORTH GEO-3)" in late[2]
    early = const.stale_warnings(EPOCH - dt.timedelta(days=20), max_age_days=7)
    assert len(early) == 5 and "-20.0 days" in early[0]


def test_load_with_now_warns_once_per_stale_satellite():
    with pytest.warns(StaleElementsWarning) as record:
        load_constellation(EXAMPLES / "east.json", now=EPOCH + dt.timedelta(days=15))
    assert len(record) == 4
    assert "81104 (EAST HEO-T2)" in str(record[3].message)


def test_load_with_fresh_now_does_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_constellation(EXAMPLES / "east.json", now=EPOCH + dt.timedelta(days=1))
