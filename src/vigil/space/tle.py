"""Two-line element sets (TLE, 2-line and 3-line "0 NAME" style): strict column checks, then python-sgp4.

The column layout is the one of the NORAD two-line element format as documented by CelesTrak
("FAQs: Two-Line Element Set Format", T.S. Kelso) and by Vallado et al., AIAA 2006-6753 (``sgp4io.cpp``).
python-sgp4's ``Satrec.twoline2rv`` reads the numbers but forgives most format faults (a letter in a
number reads as 0, a checksum is never looked at), so every column is checked here first and each fault
is reported as one line naming the file, the line number and the field. Strictness is what makes a single
corrupted character detectable: numeric fields must match their exact punch-card pattern.
"""

from __future__ import annotations

import calendar
import re

from sgp4.api import Satrec

from ..errors import ElementError, where
from .records import MAX_MEAN_MOTION_REV_DAY, ElementRecord

TLE_LINE_LENGTH = 69  # columns 1-68 data + column 69 checksum (CelesTrak TLE format FAQ)

_ANGLE = r" *\d{1,3}\.\d{4}"
_EXP_FIELD = r"[ +-]\d{5}[ +-]\d"  # assumed-decimal mantissa and power of ten, e.g. " 28098-4"
_SATNUM = r"(?:[A-HJ-NP-Z]\d{4}| *\d{1,5})"  # plain or Alpha-5 catalog number

# (field, first column, last column (1-based, inclusive), pattern)
_LINE1_FIELDS = (
    ("catalog number", 3, 7, _SATNUM),
    ("classification", 8, 8, r"[UCS ]"),
    ("international designator", 10, 17, r"[ 0-9A-Z]{8}"),
    ("epoch year", 19, 20, r"[ \d]\d"),
    ("epoch day", 21, 32, r" *\d{1,3}\.\d{8}"),
    ("mean motion first derivative", 34, 43, r"[ +-]\.\d{8}"),
    ("mean motion second derivative", 45, 52, _EXP_FIELD),
    ("BSTAR", 54, 61, _EXP_FIELD),
    ("ephemeris type", 63, 63, r"[ \d]"),
    ("element set number", 65, 68, r" *\d{0,4}"),
    ("checksum", 69, 69, r"\d"),
)
_LINE2_FIELDS = (
    ("catalog number", 3, 7, _SATNUM),
    ("inclination", 9, 16, _ANGLE),
    ("right ascension of the ascending node", 18, 25, _ANGLE),
    ("eccentricity", 27, 33, r"\d{7}"),
    ("argument of perigee", 35, 42, _ANGLE),
    ("mean anomaly", 44, 51, _ANGLE),
    ("mean motion", 53, 63, r" *\d{1,2}\.\d{8}"),
    ("revolution number", 64, 68, r" *\d{0,5}"),
    ("checksum", 69, 69, r"\d"),
)
_BLANK_COLUMNS = {1: (2, 9, 18, 33, 44, 53, 62, 64), 2: (2, 8, 17, 26, 34, 43, 52)}
_FIELDS = {1: _LINE1_FIELDS, 2: _LINE2_FIELDS}


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of columns 1-68: the sum of the digits, with 1 for each minus sign."""
    return sum(int(c) if c.isdigit() else c == "-" for c in line[:68]) % 10


def _check_line(path: object, lineno: int, line: str, number: int) -> dict[str, str]:
    """Column, length and checksum checks of TLE line ``number`` (1 or 2); returns the raw fields."""
    loc = where(path, lineno)
    if len(line) != TLE_LINE_LENGTH:
        raise ElementError(f"{loc}: TLE line {number} has {len(line)} columns, expected {TLE_LINE_LENGTH}")
    if not line.isascii():
        raise ElementError(f"{loc}: TLE line {number} contains non-ASCII characters")
    if line[0] != str(number):
        raise ElementError(f"{loc}: line number is {line[0]!r}, expected '{number}'")
    for col in _BLANK_COLUMNS[number]:
        if line[col - 1] != " ":
            raise ElementError(
                f"{loc}: column {col} of TLE line {number} must be blank, found {line[col - 1]!r}"
            )
    fields = {}
    for name, first, last, pattern in _FIELDS[number]:
        text = line[first - 1 : last]
        if not re.fullmatch(pattern, text):
            raise ElementError(f"{loc}: {name} {text!r} (columns {first}-{last}) is malformed or non-numeric")
        fields[name] = text
    expected = tle_checksum(line)
    if int(line[68]) != expected:
        raise ElementError(f"{loc}: bad checksum {line[68]} on TLE line {number}, computed {expected}")
    return fields


def _check_ranges(loc: str, f1: dict[str, str], f2: dict[str, str]) -> None:
    """Physical range checks on the numbers of one element set (degrees, revolutions per day)."""
    if f1["catalog number"].strip() != f2["catalog number"].strip():
        raise ElementError(
            f"{loc}: catalog number mismatch: line 1 has {f1['catalog number'].strip()}, "
            f"line 2 has {f2['catalog number'].strip()}"
        )
    year = int(f1["epoch year"])
    year += 1900 if year >= 57 else 2000  # two-digit years 57-99 are 1957-1999 (sgp4io.cpp)
    day = float(f1["epoch day"])
    if not 1.0 <= day < 366.0 + calendar.isleap(year):
        raise ElementError(f"{loc}: epoch day {day} is outside year {year}")
    if float(f2["inclination"]) > 180.0:
        raise ElementError(f"{loc}: inclination {float(f2['inclination'])} deg is outside [0, 180]")
    for name in ("right ascension of the ascending node", "argument of perigee", "mean anomaly"):
        if float(f2[name]) > 360.0:
            raise ElementError(f"{loc}: {name} {float(f2[name])} deg is outside [0, 360]")
    n = float(f2["mean motion"])
    if not 0.0 < n <= MAX_MEAN_MOTION_REV_DAY:
        raise ElementError(
            f"{loc}: mean motion {n} rev/day is outside (0, {MAX_MEAN_MOTION_REV_DAY}] (no orbit above the Earth)"
        )


def _name_of(line: str) -> str:
    name = line.strip()
    if name.startswith("0 "):  # Space-Track "3LE" style title line
        name = name[2:].strip()
    return name


def parse_tle_text(text: str, path: object) -> list[ElementRecord]:
    """Element sets of a TLE file's text: pairs of lines 1 and 2, each optionally after a name line.

    Blank lines and lines starting with ``#`` are skipped. Each record's ``where`` is ``file:line`` of its
    line 1. Raises :class:`ElementError` on the first fault.
    """
    lines = [(i, raw.rstrip()) for i, raw in enumerate(text.splitlines(), start=1)]
    lines = [(i, s) for i, s in lines if s.strip() and not s.lstrip().startswith("#")]
    records: list[ElementRecord] = []
    pending_name: tuple[int, str] | None = None
    k = 0
    while k < len(lines):
        lineno, line = lines[k]
        if line.startswith("1 "):
            if k + 1 >= len(lines) or not lines[k + 1][1].startswith("2"):
                raise ElementError(f"{where(path, lineno)}: TLE line 1 is not followed by a line 2")
            records.append(_element_set(path, lines[k], lines[k + 1], pending_name))
            pending_name = None
            k += 2
            continue
        if line.startswith("2 "):
            raise ElementError(f"{where(path, lineno)}: TLE line 2 without a line 1 before it")
        if pending_name is not None:
            raise ElementError(
                f"{where(path, pending_name[0])}: name line {pending_name[1]!r} is not followed by TLE line 1 "
                f"(next is line {lineno})"
            )
        pending_name = (lineno, line)
        k += 1
    if pending_name is not None:
        raise ElementError(
            f"{where(path, pending_name[0])}: name line {pending_name[1]!r} has no element set"
        )
    return records


def _element_set(path, first: tuple[int, str], second: tuple[int, str], name_line) -> ElementRecord:
    (n1, l1), (n2, l2) = first, second
    f1 = _check_line(path, n1, l1, 1)
    f2 = _check_line(path, n2, l2, 2)
    loc = where(path, n1)
    _check_ranges(loc, f1, f2)
    try:
        satrec = Satrec.twoline2rv(l1, l2)
    except ValueError as err:  # python-sgp4's own format check (multi-line text): keep its first line
        raise ElementError(f"{loc}: {str(err).splitlines()[0]}") from None
    name = _name_of(name_line[1]) if name_line else f"NORAD {satrec.satnum}"
    return ElementRecord(name=name, satrec=satrec, catalog_number=int(satrec.satnum), where=loc)
