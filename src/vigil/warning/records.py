"""The Event / Warning record (docs/design.md "Records"): what a warning centre acts on.

A :class:`Warning` is one version of one event; a better estimate of the same event is a new
``Warning`` with the same ``event_id`` and ``version + 1`` (see :meth:`Warning.revised`).

Units and conventions (a warning is an *edge* record, so degrees and km appear in it):

* times ``launch_time_s``, ``burnout_time_s``, ``impact_time_s`` are float **seconds from the
  scenario epoch**; the epoch (ISO 8601 UTC) is carried once by the containing document
  (:func:`vigil.warning.documents.warnings_to_document`), as for :class:`vigil.records.ObservationBatch`. ``issued_at`` is
  an absolute ISO 8601 UTC instant (wall clock of the issuing centre).
* ``launch_time_sigma_s`` and ``azimuth_sigma_deg`` are one-sigma (1σ) standard deviations.
* ellipses are ``(bearing_deg, a_km, b_km)``: bearing of the semi-major axis clockwise from true
  north in [0, 180), semi-major ``a_km`` ≥ semi-minor ``b_km`` ≥ 0, both *semi*-axes, on the local
  tangent plane, drawn at probability ``containment`` (one value for both ellipses, e.g. 0.95).
* ``azimuth_deg`` is the launch azimuth (initial heading of the ground track), clockwise from north
  in [0, 360).
* the impact fields are ``None`` for an orbital (space launch) or not-yet-estimated event.
* ``notification`` is the matched notification id, ``"UNANNOUNCED"`` or ``None`` (not yet matched).
* ``class_reason`` is one line saying why the class is what it is (the margins in σ of the k-σ test, "still
  thrusting", "plume seen again …": :mod:`vigil.fusion.coast.classify_sigma`); a class change is a new version whose
  reason says why. At most :data:`MAX_REASON_CHARS` characters; ``""`` when the producer gives none (records
  stored before the field existed load with ``""``).
* ``track`` (optional, for displays) is the fitted trajectory as ``((t_s, lat_deg, lon_deg, alt_m), ...)``
  samples in time order (``t_s`` from the epoch, ``alt_m`` above WGS84): see :mod:`vigil.fusion.coast.trajectory`.
  It never crosses a partner boundary (the sharing warning record has no such field: the releaser drops it).

JSON form (:meth:`Warning.to_dict`): the attribute names, except ``class_`` → ``"class"`` and the
sources as ``{"sources": {"sensors": [...], "partners": [...]}}``; ``None`` → ``null``; tuples →
lists. :meth:`Warning.from_dict` validates and raises one-line :class:`~vigil.errors.DataError`
naming the field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataError
from ..timescale import parse_utc
from .fields import as_float, ellipse, parses_as_utc, stored_ellipse, stored_track, track_samples
from .sources import Sources, sources_from

WARNING_CLASSES = ("ballistic", "space_launch", "unknown")
UNANNOUNCED = "UNANNOUNCED"
DEFAULT_CONTAINMENT = 0.95  # probability inside the stated ellipses unless a producer says otherwise
MAX_REASON_CHARS = 240  # a class reason is one line (the classifier's are < 160 characters)

_REQUIRED_FLOATS = ("launch_time_s", "launch_time_sigma_s", "launch_lat_deg", "launch_lon_deg")
_OPTIONAL_FLOATS = (
    "azimuth_deg",
    "azimuth_sigma_deg",
    "burnout_time_s",
    "burnout_alt_m",
    "burnout_speed_m_s",
    "impact_time_s",
    "impact_lat_deg",
    "impact_lon_deg",
)
_NON_NEGATIVE = ("launch_time_sigma_s", "azimuth_sigma_deg", "burnout_speed_m_s")
_LATITUDES = ("launch_lat_deg", "impact_lat_deg")
_LONGITUDES = ("launch_lon_deg", "impact_lon_deg")
_ELLIPSES = ("launch_ellipse", "impact_ellipse")


@dataclass(frozen=True)
class Warning:  # noqa: A001 - the name docs/design.md gives the record; import it as ``vigil.warning.Warning``
    """One version of one event. Field units are in their names; see the module docstring.

    Construction validates every field (ranges, types) and raises :class:`DataError` naming the field;
    numbers are stored as Python ``float`` (numpy scalars are converted), sequences as tuples.
    """

    event_id: str
    version: int
    issued_at: str
    class_: str
    launch_time_s: float
    launch_time_sigma_s: float
    launch_lat_deg: float
    launch_lon_deg: float
    launch_ellipse: tuple[float, float, float] | None = None
    azimuth_deg: float | None = None
    azimuth_sigma_deg: float | None = None
    burnout_time_s: float | None = None
    burnout_alt_m: float | None = None
    burnout_speed_m_s: float | None = None
    impact_time_s: float | None = None
    impact_lat_deg: float | None = None
    impact_lon_deg: float | None = None
    impact_ellipse: tuple[float, float, float] | None = None
    containment: float = DEFAULT_CONTAINMENT
    notification: str | None = None
    sources: Sources = field(default_factory=Sources)
    confidence: float = 1.0
    mono: bool = False
    class_reason: str = ""
    track: tuple[tuple[float, float, float, float], ...] | None = None

    def __post_init__(self) -> None:
        _validate(self)

    # --- convenience -------------------------------------------------------------------------
    @property
    def has_impact(self) -> bool:
        """True when an impact point is estimated (ballistic); False for orbital / unknown."""
        return self.impact_lat_deg is not None and self.impact_lon_deg is not None

    def launch_time_utc(self, epoch: str | dt.datetime) -> dt.datetime:
        """Absolute launch instant: ``epoch`` (ISO 8601 UTC or aware datetime) + ``launch_time_s``."""
        base = parse_utc(epoch, "epoch") if isinstance(epoch, str) else epoch.astimezone(dt.UTC)
        return base + dt.timedelta(seconds=self.launch_time_s)

    def revised(self, **changes: Any) -> Warning:
        """The next version of this event: ``version + 1`` with ``changes`` applied."""
        return dataclasses.replace(self, version=self.version + 1, **changes)

    def with_notification(self, notification: str | None) -> Warning:
        """The same version with its matching outcome set (matching does not make a new estimate)."""
        return dataclasses.replace(self, notification=notification)

    @classmethod
    def of_fields(cls, **fields: Any) -> Warning:
        """``Warning(**fields)`` given every field (in field order): the same record, validated alike (the
        constructor's :func:`_validate`, same errors), without the dataclass ``__init__`` (a frozen
        ``setattr`` per field: ~60 % of the construction of a record the fusion engine issues, ~600 a salvo).
        Fields missing or unknown: the constructor itself (its defaults, its TypeError)."""
        if fields.keys() != _FIELD_NAMES:
            return cls(**fields)
        w = object.__new__(cls)
        w.__dict__.update(fields)
        _validate(w)
        return w

    # --- JSON edge ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (``class_`` → ``"class"``, tuples → lists, ``None`` → null on dump)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "sources":
                value = value.to_dict()
            elif f.name == "track":
                if value is None:
                    continue  # (absent, not null: documents without tracks stay as they were)
                value = [list(sample) for sample in value]
            elif isinstance(value, tuple):
                value = list(value)
            out["class" if f.name == "class_" else f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "warning") -> Warning:
        """Build from the JSON form; unknown or missing keys and bad values raise one-line DataError."""
        if not isinstance(data, Mapping):
            raise DataError(f"{where}: expected an object, got {type(data).__name__}")
        names = {("class" if f.name == "class_" else f.name): f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise DataError(f"{where}: unknown field {unknown[0]!r}")
        missing = [k for k, f in names.items() if _is_required(f) and k not in data]
        if missing:
            raise DataError(f"{where}: missing field {missing[0]!r}")
        kwargs = {names[k].name: v for k, v in data.items()}
        if isinstance(kwargs.get("sources"), Mapping):
            kwargs["sources"] = sources_from(kwargs["sources"], where)
        try:
            return cls(**kwargs)
        except DataError as err:
            raise DataError(f"{where} {err}") from None


_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(Warning))


def _is_required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


# --- validation ------------------------------------------------------------------------------
def _set(w: Warning, name: str, value: Any) -> None:
    object.__setattr__(w, name, value)


def _label(w: Warning, name: str) -> str:
    return f"event {w.event_id!r} field {name}"


def _check_range(w: Warning, name: str, lo: float, hi: float) -> None:
    value = getattr(w, name)
    if value is not None and not lo <= value <= hi:
        raise DataError(f"{_label(w, name)}: {value} is outside [{lo:g}, {hi:g}]")


def _validate(w: Warning) -> None:
    """Check and normalise every field. A record whose fields already have their stored form (Python
    ``float``/``int``/``bool``/``str``, tuples, a :class:`Sources`: what the fusion engine builds, ~100 per
    second of a salvo) passes :func:`_check_stored`: the same checks without conversions, ~7× cheaper. Any
    other record, and any record failing a check, goes through :func:`_validate_converting`, which converts
    and raises the message naming the (first) bad field."""
    if not _check_stored(w):
        _validate_converting(w)


def _validate_converting(w: Warning) -> None:
    _validate_identity(w)
    for name in _REQUIRED_FLOATS:
        _set(w, name, as_float(_label(w, name), getattr(w, name)))
    for name in _OPTIONAL_FLOATS:
        value = getattr(w, name)
        _set(w, name, None if value is None else as_float(_label(w, name), value))
    for name in _NON_NEGATIVE:
        _check_range(w, name, 0.0, math.inf)
    for name in _LATITUDES:
        _check_range(w, name, -90.0, 90.0)
    for name in _LONGITUDES:
        _check_range(w, name, -180.0, 180.0)
    _check_range(w, "azimuth_deg", 0.0, 360.0)
    if w.azimuth_deg is not None:
        _set(w, "azimuth_deg", w.azimuth_deg % 360.0)
    if (w.impact_lat_deg is None) != (w.impact_lon_deg is None):
        raise DataError(f"{_label(w, 'impact')}: impact latitude and longitude must both be set or null")
    for name in _ELLIPSES:
        _set(w, name, ellipse(_label(w, name), getattr(w, name)))
    _set(w, "containment", as_float(_label(w, "containment"), w.containment))
    if not 0.0 < w.containment < 1.0:
        raise DataError(f"{_label(w, 'containment')}: {w.containment} is outside (0, 1)")
    _set(w, "confidence", as_float(_label(w, "confidence"), w.confidence))
    _check_range(w, "confidence", 0.0, 1.0)
    if not isinstance(w.mono, bool):
        raise DataError(f"{_label(w, 'mono')}: expected true or false, got {w.mono!r}")
    if not isinstance(w.class_reason, str):
        raise DataError(f"{_label(w, 'class_reason')}: expected a string, got {w.class_reason!r}")
    if len(w.class_reason) > MAX_REASON_CHARS or not w.class_reason.isprintable():
        raise DataError(
            f"{_label(w, 'class_reason')}: expected one line of printable text, at most "
            f"{MAX_REASON_CHARS} characters"
        )
    if w.notification is not None and (not isinstance(w.notification, str) or not w.notification):
        raise DataError(f"{_label(w, 'notification')}: expected an id, 'UNANNOUNCED' or null")
    if isinstance(w.sources, Mapping):
        _set(w, "sources", Sources(w.sources.get("sensors", ()), w.sources.get("partners", ())))
    elif not isinstance(w.sources, Sources):
        raise DataError(f"{_label(w, 'sources')}: expected {{sensors: [...], partners: [...]}}")
    if w.__dict__.get("track") is not None:  # (a record without the key keeps it absent: the class default)
        _set(w, "track", track_samples(_label(w, "track"), w.__dict__["track"]))


# the fields every record has, and the optional ones but the track (checked after them: fields.stored_track)
_REQUIRED_NAMES = (
    "event_id",
    "version",
    "issued_at",
    "class_",
    "mono",
    "sources",
    "class_reason",
    "notification",
    "containment",
    "confidence",
    "launch_time_s",
    "launch_time_sigma_s",
    "launch_lat_deg",
    "launch_lon_deg",
)
_OPTIONAL_NAMES = (
    "azimuth_deg",
    "azimuth_sigma_deg",
    "burnout_time_s",
    "burnout_alt_m",
    "burnout_speed_m_s",
    "impact_time_s",
    "impact_lat_deg",
    "impact_lon_deg",
    "launch_ellipse",
    "impact_ellipse",
)
assert {*_REQUIRED_NAMES, *_OPTIONAL_NAMES, "track"} == _FIELD_NAMES, "every field has its stored check"
_REQUIRED_FIELDS = operator.itemgetter(*_REQUIRED_NAMES)
_OPTIONAL_FIELDS = operator.itemgetter(*_OPTIONAL_NAMES)


def _check_stored(w: Warning) -> bool:
    """True (and the record normalised) when every field already has its stored type and passes every check
    of :func:`_validate_converting`; False, with nothing changed, otherwise (that path then converts or
    raises). The checks are one expression per group of fields read at once (:func:`_stored_required`,
    :func:`_stored_optional`; ~2x cheaper than a loop per check). Normalisation (azimuth mod 360°, ellipse
    bearing mod 180°) only once all checks passed, and only where it changes something (in range:
    ``x % m == x``)."""
    d = w.__dict__  # the frozen dataclass's own storage (what ``object.__setattr__`` writes)
    if not (_stored_required(d) and _stored_optional(d)):
        return False
    if d.get("track") is not None and not stored_track(d["track"]):
        return False
    az, l_ell, i_ell = d["azimuth_deg"], d["launch_ellipse"], d["impact_ellipse"]
    if az is not None and not 0.0 < az < 360.0:  # 360 -> 0, -0.0 -> 0.0
        d["azimuth_deg"] = az % 360.0
    if l_ell is not None and not 0.0 < l_ell[0] < 180.0:
        d["launch_ellipse"] = (l_ell[0] % 180.0, l_ell[1], l_ell[2])
    if i_ell is not None and not 0.0 < i_ell[0] < 180.0:
        d["impact_ellipse"] = (i_ell[0] % 180.0, i_ell[1], i_ell[2])
    return True


def _stored_required(d: dict[str, Any]) -> bool:
    """The fields every record has: identity, class, sources, reason, probabilities and the launch point
    (a ``float`` is finite iff ``x - x == 0.0``: inf - inf and nan - nan are nan)."""
    (
        event_id,
        version,
        issued_at,
        class_,
        mono,
        sources,
        reason,
        notification,
        containment,
        confidence,
        t_s,
        t_sigma,
        lat,
        lon,
    ) = _REQUIRED_FIELDS(d)
    if not (
        type(event_id) is str
        and event_id
        and type(version) is int
        and version >= 1
        and type(issued_at) is str
        and parses_as_utc(issued_at)
        and class_ in WARNING_CLASSES
        and type(mono) is bool
        and type(sources) is Sources
        and type(reason) is str
        and len(reason) <= MAX_REASON_CHARS
        and reason.isprintable()
        and (notification is None or type(notification) is str and notification)
        and type(containment) is float
        and 0.0 < containment < 1.0
        and type(confidence) is float
        and 0.0 <= confidence <= 1.0
        and type(t_s) is float
        and t_s - t_s == 0.0
        and type(t_sigma) is float
        and 0.0 <= t_sigma < math.inf
        and type(lat) is float
        and -90.0 <= lat <= 90.0
        and type(lon) is float
        and -180.0 <= lon <= 180.0
    ):
        return False
    return True


def _stored_optional(d: dict[str, Any]) -> bool:
    """The optional fields but the track: None, or of their stored type and in range (the impact point's
    latitude and longitude both or neither)."""
    az, az_sigma, bo_t, bo_alt, bo_speed, i_t, i_lat, i_lon, l_ell, i_ell = _OPTIONAL_FIELDS(d)
    if not (
        (az is None or type(az) is float and 0.0 <= az <= 360.0)
        and (az_sigma is None or type(az_sigma) is float and 0.0 <= az_sigma < math.inf)
        and (bo_t is None or type(bo_t) is float and bo_t - bo_t == 0.0)
        and (bo_alt is None or type(bo_alt) is float and bo_alt - bo_alt == 0.0)
        and (bo_speed is None or type(bo_speed) is float and 0.0 <= bo_speed < math.inf)
        and (i_t is None or type(i_t) is float and i_t - i_t == 0.0)
        and (
            i_lat is None
            and i_lon is None
            or type(i_lat) is float
            and -90.0 <= i_lat <= 90.0
            and type(i_lon) is float
            and -180.0 <= i_lon <= 180.0
        )
        and (l_ell is None or stored_ellipse(l_ell))
        and (i_ell is None or stored_ellipse(i_ell))
    ):
        return False
    return True


def _validate_identity(w: Warning) -> None:
    if not isinstance(w.event_id, str) or not w.event_id:
        raise DataError(f"field event_id: expected a non-empty string, got {w.event_id!r}")
    if isinstance(w.version, bool) or not isinstance(w.version, int) or w.version < 1:
        raise DataError(f"{_label(w, 'version')}: expected an integer >= 1, got {w.version!r}")
    if not isinstance(w.issued_at, str):
        raise DataError(f"{_label(w, 'issued_at')}: expected an ISO 8601 UTC string, got {w.issued_at!r}")
    try:
        parse_utc(w.issued_at, "issued_at")
    except Exception:
        raise DataError(f"{_label(w, 'issued_at')}: {w.issued_at!r} is not an ISO 8601 date-time") from None
    if w.class_ not in WARNING_CLASSES:
        raise DataError(f"{_label(w, 'class')}: {w.class_!r} is not one of {', '.join(WARNING_CLASSES)}")
