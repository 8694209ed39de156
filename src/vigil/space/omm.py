"""CCSDS Orbit Mean-Elements Messages (OMM) for SGP4: JSON, CSV, NDM/XML and KVN.

Keywords are those of CCSDS 502.0-B-3 "Orbit Data Messages" (section 4, OMM), plus the extra columns of
Space-Track's ``gp`` class (so its JSON loads unchanged); any other key is reported as unknown, which
catches misspelt fields. Each record is checked (required keys, numbers, ranges, SGP4/TEME/UTC/EARTH
metadata) and then initialised with python-sgp4's :func:`sgp4.omm.initialize`, which applies the same
unit conversions as its TLE reader. CSV rows come from :func:`sgp4.omm.parse_csv`; XML is walked here
rather than by :func:`sgp4.omm.parse_xml`, which ignores namespaces and fails with an AttributeError
on a segment lacking ``data`` or ``meanElements``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from sgp4 import omm as sgp4_omm
from sgp4.api import Satrec

from ..errors import ElementError, where
from .records import MAX_CATALOG_NUMBER, MAX_MEAN_MOTION_REV_DAY, ElementRecord

OMM_KEYWORDS = frozenset(
    """CCSDS_OMM_VERS COMMENT CLASSIFICATION CREATION_DATE ORIGINATOR MESSAGE_ID OBJECT_NAME OBJECT_ID
    CENTER_NAME REF_FRAME REF_FRAME_EPOCH TIME_SYSTEM MEAN_ELEMENT_THEORY EPOCH SEMI_MAJOR_AXIS MEAN_MOTION
    ECCENTRICITY INCLINATION RA_OF_ASC_NODE ARG_OF_PERICENTER MEAN_ANOMALY GM MASS SOLAR_RAD_AREA
    SOLAR_RAD_COEFF DRAG_AREA DRAG_COEFF EPHEMERIS_TYPE CLASSIFICATION_TYPE NORAD_CAT_ID ELEMENT_SET_NO
    REV_AT_EPOCH BSTAR BTERM MEAN_MOTION_DOT MEAN_MOTION_DDOT AGOM COV_REF_FRAME""".split()
)  # CCSDS 502.0-B-3 tables 4-1 to 4-4
SPACE_TRACK_GP_KEYWORDS = frozenset(
    """SEMIMAJOR_AXIS PERIOD APOAPSIS PERIAPSIS OBJECT_TYPE RCS_SIZE COUNTRY_CODE LAUNCH_DATE SITE
    DECAY_DATE FILE GP_ID TLE_LINE0 TLE_LINE1 TLE_LINE2""".split()
)  # Space-Track "gp" class columns beyond the OMM standard
_COVARIANCE_KEY = re.compile(r"C(?:X|Y|Z)(?:_DOT)?_(?:X|Y|Z)(?:_DOT)?")
REQUIRED = (
    "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER",
    "MEAN_ANOMALY", "NORAD_CAT_ID",
)  # fmt: skip
_EXPECTED_METADATA = {
    "MEAN_ELEMENT_THEORY": "SGP4",
    "REF_FRAME": "TEME",
    "CENTER_NAME": "EARTH",
    "TIME_SYSTEM": "UTC",
}
_EPOCH_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%jT%H:%M:%S.%f", "%Y-%jT%H:%M:%S")


def is_known_keyword(key: str) -> bool:
    """Whether ``key`` is an OMM (or Space-Track gp) keyword, a covariance term or a USER_DEFINED_ one."""
    return (
        key in OMM_KEYWORDS
        or key in SPACE_TRACK_GP_KEYWORDS
        or key.startswith("USER_DEFINED_")
        or _COVARIANCE_KEY.fullmatch(key) is not None
    )


@dataclass
class _Raw:
    """Fields of one OMM as read (values untouched) with the location of the record and of each field."""

    where: str
    fields: dict[str, object] = field(default_factory=dict)
    field_where: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, value: object, loc: str | None = None) -> None:
        """Record ``key``; ``loc`` is the field's own location where it has one (a KVN line)."""
        if not is_known_keyword(key):
            raise ElementError(f"{loc or self.where}: unknown field {key!r} (not an OMM keyword)")
        if key in self.fields and key != "COMMENT":
            raise ElementError(f"{loc or self.where}: duplicate field {key}")
        self.fields[key] = value
        if loc is not None:
            self.field_where[key] = loc


# ---------------------------------------------------------------- the four encodings


def parse_omm_json(text: str, path: object) -> list[ElementRecord]:
    """CelesTrak / Space-Track OMM JSON: a list of flat objects (a single object is accepted too)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ElementError(f"{where(path, err.lineno)}: not valid JSON: {err.msg}") from None
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise ElementError(f"{path}: OMM JSON must be a list of records, found {type(doc).__name__}")
    raws = []
    for i, item in enumerate(doc):
        raw = _Raw(where(path, record=i))
        if not isinstance(item, dict):
            raise ElementError(
                f"{raw.where}: is a JSON {type(item).__name__}, expected an object of OMM fields"
            )
        for key, value in item.items():
            raw.add(key, value)
        raws.append(raw)
    return [_element_record(r) for r in raws]


def parse_omm_csv(text: str, path: object) -> list[ElementRecord]:
    """CelesTrak OMM CSV: a header row of OMM keywords, then one row per element set."""
    reader = sgp4_omm.parse_csv(io.StringIO(text))
    header = reader.fieldnames or []
    for col, key in enumerate(header, start=1):
        if not is_known_keyword(key.strip()):
            raise ElementError(
                f"{where(path, 1)}: unknown field {key!r} in header column {col} (not an OMM keyword)"
            )
        if header.count(key) > 1:
            raise ElementError(f"{where(path, 1)}: duplicate field {key} in the header")
    raws = []
    for i, row in enumerate(reader):
        raw = _Raw(f"{where(path, reader.line_num)} (record {i})")
        if None in row:
            raise ElementError(f"{raw.where}: row has more values than the {len(header)} header columns")
        if any(v is None for v in row.values()):
            raise ElementError(f"{raw.where}: row has fewer values than the {len(header)} header columns")
        for key, value in row.items():
            raw.add(key.strip(), value)
        raws.append(raw)
    return [_element_record(r) for r in raws]


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def parse_omm_xml(text: str, path: object) -> list[ElementRecord]:
    """CCSDS NDM/XML OMM: ``<segment>`` elements, each with ``<metadata>`` and ``<data>`` leaves."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        line = err.position[0] if err.position else None
        raise ElementError(f"{where(path, line)}: XML not well-formed: {err}") from None
    segments = [el for el in root.iter() if _local(el.tag) == "segment"]
    if not segments:
        raise ElementError(f"{path}: no OMM <segment> in the XML (root element <{_local(root.tag)}>)")
    raws = []
    for i, seg in enumerate(segments):
        raw = _Raw(where(path, record=i))
        blocks = {_local(el.tag): el for el in seg}
        if "metadata" not in blocks or "data" not in blocks:
            raise ElementError(f"{raw.where}: <segment> needs <metadata> and <data>")
        for leaf in _leaves(blocks["metadata"]) + _leaves(blocks["data"]):
            raw.add(_local(leaf.tag), (leaf.text or "").strip())
        raws.append(raw)
    return [_element_record(r) for r in raws]


def _leaves(block: ET.Element) -> list[ET.Element]:
    """Keyword elements of a block: its leaves, skipping ``userDefinedParameters`` (free-form)."""
    out = []
    for el in block:
        if _local(el.tag) == "userDefinedParameters":
            continue
        out.extend(_leaves(el) if len(el) else [el])
    return out


def parse_omm_kvn(text: str, path: object) -> list[ElementRecord]:
    """CCSDS KVN OMM: ``KEY = value [unit]`` lines; each ``CCSDS_OMM_VERS`` line starts a new message."""
    raws: list[_Raw] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("COMMENT"):
            continue
        loc = where(path, lineno)
        key, eq, value = s.partition("=")
        key = key.strip()
        if not eq or not re.fullmatch(r"[A-Z][A-Z0-9_]*", key):
            raise ElementError(f"{loc}: expected 'KEYWORD = value', found {s[:40]!r}")
        if key == "CCSDS_OMM_VERS" or not raws:
            raws.append(_Raw(f"{loc} (record {len(raws)})"))
        raws[-1].add(key, re.sub(r"\s*\[[^\]]*\]\s*$", "", value.strip()), loc)
    return [_element_record(r) for r in raws]


# ---------------------------------------------------------------- one record -> Satrec


def _present(raw: _Raw, key: str) -> bool:
    value = raw.fields.get(key)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _number(raw: _Raw, key: str, default: float | None = None) -> float:
    if not _present(raw, key):
        if default is None:
            raise ElementError(f"{raw.where}: missing required field {key}")
        return default
    value = raw.fields[key]
    loc = raw.field_where.get(key, raw.where)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ElementError(f"{loc}: field {key}: {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ElementError(f"{loc}: field {key}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ElementError(f"{loc}: field {key}: {value!r} is not a finite number")
    return number


def _integer(raw: _Raw, key: str, default: int | None = None) -> int:
    number = _number(raw, key, None if default is None else float(default))
    if number != int(number):
        raise ElementError(
            f"{raw.field_where.get(key, raw.where)}: field {key}: {number!r} is not an integer"
        )
    return int(number)


def _epoch(raw: _Raw) -> dt.datetime:
    if not _present(raw, "EPOCH"):
        raise ElementError(f"{raw.where}: missing required field EPOCH")
    text = str(raw.fields["EPOCH"]).strip().removesuffix("Z")
    for fmt in _EPOCH_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ElementError(
        f"{raw.field_where.get('EPOCH', raw.where)}: field EPOCH: {text!r} is not a UTC date-time "
        "(YYYY-MM-DDThh:mm:ss[.ffffff])"
    )


def _in_range(raw: _Raw, key: str, value: float, lo: float, hi: float, unit: str, hi_open=False) -> None:
    if not (lo <= value < hi if hi_open else lo <= value <= hi):
        bracket = ")" if hi_open else "]"
        loc = raw.field_where.get(key, raw.where)
        raise ElementError(
            f"{loc}: field {key}: {value:g} {unit} is outside [{lo:g}, {hi:g}{bracket}".rstrip()
        )


def _check_metadata(raw: _Raw) -> None:
    for key, expected in _EXPECTED_METADATA.items():
        if _present(raw, key) and str(raw.fields[key]).strip().upper() != expected:
            loc = raw.field_where.get(key, raw.where)
            raise ElementError(
                f"{loc}: field {key}: {raw.fields[key]!r} is not supported (expected {expected})"
            )


def _element_record(raw: _Raw) -> ElementRecord:
    """Validate one OMM and initialise its ``Satrec`` with :func:`sgp4.omm.initialize`."""
    if _present(raw, "OBJECT_NAME"):
        raw.where = f"{raw.where} ({str(raw.fields['OBJECT_NAME']).strip()})"
    for key in REQUIRED:
        if not _present(raw, key):
            raise ElementError(f"{raw.where}: missing required field {key}")
    _check_metadata(raw)
    satnum = _integer(raw, "NORAD_CAT_ID")
    _in_range(raw, "NORAD_CAT_ID", satnum, 1, MAX_CATALOG_NUMBER, "")
    values = {key: _number(raw, key) for key in REQUIRED[1:7]}
    if not 0.0 < values["MEAN_MOTION"] <= MAX_MEAN_MOTION_REV_DAY:
        loc = raw.field_where.get("MEAN_MOTION", raw.where)
        raise ElementError(
            f"{loc}: field MEAN_MOTION: {values['MEAN_MOTION']:g} rev/day is outside "
            f"(0, {MAX_MEAN_MOTION_REV_DAY:g}] (no orbit above the Earth)"
        )
    _in_range(raw, "ECCENTRICITY", values["ECCENTRICITY"], 0.0, 1.0, "", hi_open=True)
    _in_range(raw, "INCLINATION", values["INCLINATION"], 0.0, 180.0, "deg")
    for key in ("RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY"):
        _in_range(raw, key, values[key], 0.0, 360.0, "deg")
    fields = {
        "CLASSIFICATION_TYPE": str(raw.fields.get("CLASSIFICATION_TYPE") or "U").strip()[:1] or "U",
        "OBJECT_ID": str(raw.fields.get("OBJECT_ID") or ""),
        "EPHEMERIS_TYPE": _integer(raw, "EPHEMERIS_TYPE", 0),
        "ELEMENT_SET_NO": _integer(raw, "ELEMENT_SET_NO", 999),
        "REV_AT_EPOCH": _integer(raw, "REV_AT_EPOCH", 0),
        "EPOCH": _epoch(raw).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "BSTAR": _number(raw, "BSTAR", 0.0),
        "MEAN_MOTION_DOT": _number(raw, "MEAN_MOTION_DOT", 0.0),
        "MEAN_MOTION_DDOT": _number(raw, "MEAN_MOTION_DDOT", 0.0),
        "NORAD_CAT_ID": satnum,
        **values,
    }
    satrec = Satrec()
    sgp4_omm.initialize(satrec, fields)
    name = str(raw.fields["OBJECT_NAME"]).strip() if _present(raw, "OBJECT_NAME") else f"NORAD {satnum}"
    return ElementRecord(name=name, satrec=satrec, catalog_number=satnum, where=raw.where)
