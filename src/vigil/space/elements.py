"""Read orbital element files into a :class:`~vigil.space.constellation.Constellation`.

Formats (detected from the extension, else from the content):

- TLE, 2-line or 3-line (name line optional, also Space-Track's ``0 NAME``): ``.tle .txt .2le .3le``
  (:mod:`vigil.space.tle`);
- CCSDS Orbit Mean-Elements Message (CCSDS 502.0-B-3) as CelesTrak / Space-Track JSON (``.json``),
  CelesTrak CSV (``.csv``), NDM/XML (``.xml``) and KVN (``.kvn``, ``.omm``) (:mod:`vigil.space.omm`).

Every fault is an :class:`~vigil.errors.ElementError` whose message is one line naming the file, the
line (TLE, KVN) or record (JSON, CSV, XML) and the reason. Element sets are SGP4 mean elements in TEME
and are initialised with python-sgp4 (WGS72 constants, improved mode, as ``Satrec.twoline2rv`` does).
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

from ..errors import ElementError
from . import omm, tle
from .constellation import Constellation
from .records import ElementRecord

_EXTENSIONS = {
    ".tle": "tle", ".txt": "tle", ".2le": "tle", ".3le": "tle",
    ".json": "json", ".csv": "csv", ".xml": "xml", ".kvn": "kvn", ".omm": "kvn",
}  # fmt: skip


class StaleElementsWarning(UserWarning):
    """Element sets far from the time they are used at (see :meth:`Constellation.stale_warnings`)."""


def load_constellation(
    path: str | Path, name: str | None = None, *, now: dt.datetime | None = None
) -> Constellation:
    """Read a TLE or OMM file into a constellation named ``name`` (default: the file stem).

    With ``now`` (aware UTC datetime), each element set older or newer than
    :data:`~vigil.space.constellation.STALE_ELEMENTS_DAYS` at ``now`` issues a
    :class:`StaleElementsWarning` (one line each). Raises :class:`ElementError` for anything malformed.
    """
    path = Path(path)
    text = _read_text(path)
    records = _parse(detect_format(path, text), text, path)
    if not records:
        raise ElementError(f"{path}: no element sets found")
    _check_unique(records, path)
    constellation = Constellation(
        name=name if name is not None else path.stem,
        satrecs=tuple(r.satrec for r in records),
        names=tuple(r.name for r in records),
        catalog_numbers=tuple(r.catalog_number for r in records),
        source=str(path),
    )
    if now is not None:
        for line in constellation.stale_warnings(now):
            warnings.warn(line, StaleElementsWarning, stacklevel=2)
    return constellation


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ElementError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ElementError(f"{path}: is a directory, not an element file") from None
    except OSError as err:
        raise ElementError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ElementError(
            f"{path}:{line}: unreadable encoding: byte 0x{data[err.start]:02x} is not UTF-8 text"
        ) from None
    if "\x00" in text:
        raise ElementError(f"{path}: unreadable encoding: binary data (NUL bytes), not a text element file")
    if not text.strip():
        raise ElementError(f"{path}: file is empty")
    return text


def detect_format(path: Path, text: str) -> str:
    """``tle``, ``json``, ``csv``, ``xml`` or ``kvn``: by extension, else by the first non-blank content."""
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is not None:
        return fmt
    head = text.lstrip()
    first_line = head.splitlines()[0]
    if head[0] in "[{":
        fmt = "json"
    elif head[0] == "<":
        fmt = "xml"
    elif "CCSDS_OMM_VERS" in first_line or ("=" in first_line and "OMM" in head[:2000]):
        fmt = "kvn"
    elif "," in first_line and ("NORAD_CAT_ID" in first_line or "OBJECT_NAME" in first_line):
        fmt = "csv"
    elif any(s.startswith(("1 ", "2 ")) for s in head.splitlines()[:3]):
        fmt = "tle"
    else:
        raise ElementError(
            f"{path}: unknown element format (extension {path.suffix or 'none'!r}; content is not TLE, "
            "OMM JSON, CSV, XML or KVN)"
        )
    return fmt


def _parse(fmt: str, text: str, path: Path) -> list[ElementRecord]:
    readers = {
        "tle": tle.parse_tle_text,
        "json": omm.parse_omm_json,
        "csv": omm.parse_omm_csv,
        "xml": omm.parse_omm_xml,
        "kvn": omm.parse_omm_kvn,
    }
    return readers[fmt](text, path)


def _check_unique(records: list[ElementRecord], path: Path) -> None:
    seen: dict[int, ElementRecord] = {}
    for rec in records:
        first = seen.setdefault(rec.catalog_number, rec)
        if first is not rec:
            raise ElementError(
                f"{rec.where}: duplicate catalog number {rec.catalog_number} ({rec.name}), "
                f"already defined at {first.where}"
            )
