"""The engine's working state of one event, and its conversion to a :class:`vigil.warning.records.Warning`.

The Warning record itself lives in :mod:`vigil.warning.records` (the contract shared with notifications,
sharing and the API); this module only fills it. Confidence levels are ordinal, not probabilities:
:data:`CONFIDENCE_MONO` for one sensor, :data:`CONFIDENCE_STEREO` for two, :data:`CONFIDENCE_MULTI` for
three or more.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
from dataclasses import dataclass, field

import numpy as np

from vigil.frames import ecef_to_geodetic
from vigil.fusion.association.associate import Detections, Seeds, detections_and_seeds
from vigil.fusion.boost.batch import start_filter
from vigil.fusion.boost.filter import BoostFilter, LosExtendedKalmanFilter
from vigil.fusion.boost.rays import LosRays
from vigil.fusion.coast.burnout import smooth_burnout
from vigil.fusion.coast.classify import AscentCues, Classifier
from vigil.fusion.coast.ellipse import ellipse_from_cov
from vigil.fusion.coast.impact import ImpactPrediction, ImpactPredictor
from vigil.fusion.coast.trajectory import ascent_samples, boost_samples, coast_samples, joined
from vigil.fusion.launch.backfit import LaunchEstimate, track_azimuth
from vigil.fusion.strings.stringer import SensorString
from vigil.timescale import parse_utc
from vigil.warning.records import MAX_REASON_CHARS, Sources, Warning

CONFIDENCE_MONO = 0.5
CONFIDENCE_STEREO = 0.9
CONFIDENCE_MULTI = 0.99
INIT_POS_SIGMA_M = 2_000.0  # filter start: triangulation scatter plus seed-fit error, generous
INIT_VEL_SIGMA_M_S = 1_500.0
INIT_ACC_MIN_SPAN_S = 15.0  # seeds spanning less than this give no usable acceleration (0.5 km noise)
INIT_ACC_SIGMA_M_S2 = 30.0


@dataclass
class BurnoutState:
    """End of boost: time (s), ECEF state (m, m/s) and its 6×6 covariance."""

    time_s: float
    r: np.ndarray
    v: np.ndarray
    cov6: np.ndarray


@dataclass
class FusedEvent:
    """Mutable per-event state kept by the engine."""

    event_id: str
    strings: list[SensorString] = field(default_factory=list)
    filter: BoostFilter | None = None
    launch: LaunchEstimate | None = None
    burnout: BurnoutState | None = None
    impact: ImpactPrediction | None = None
    class_: str = "unknown"
    class_reason: str = "not classified yet"  # why the class is what it is (one line; the flip's reason)
    class_checked_s: float = -math.inf  # filter time of the last in-flight classification (classify_live)
    held: tuple[str, str] | None = (
        None  # (class, reason) decided on the coast state, issued once dark long enough
    )
    mono: bool = False
    version: int = 0
    dirty: bool = False
    launch_final: bool = False
    fitted_span_s: float = -1.0  # data span (s) of the last launch fit
    cut_s: float = (
        -math.inf
    )  # latest detection time when one of its strings was cut (late rows before it re-run)
    last_detection_s: float = -math.inf
    last_issue_s: float = -math.inf
    # (launch estimate, containment, its ellipse) of the last warning: versions that keep the estimate (burnout,
    # a refit rejected as worse) reuse the ellipse; the estimate is frozen, so identity is enough
    launch_ellipse_of: tuple | None = field(default=None, repr=False, compare=False)
    # (strings, their Sources, number of sensors) of the last warning: reused while the strings are the same objects
    sources_of: tuple | None = field(default=None, repr=False, compare=False)
    next_refit_s: tuple | None = field(
        default=None, repr=False, compare=False
    )  # (fitted span, next refit mark)
    # the warning's track (vigil.fusion.coast.trajectory): "ascent" (launch estimate, samples), "tail" (samples from
    # burnout on), "track" (ascent samples, tail, the joined track): reused while the estimates are the same
    track_of: dict = field(default_factory=dict, repr=False, compare=False)
    tracked: bool = False  # whether its warnings carry the track (FusionConfig.tracks; off: no sampling cost)

    def __deepcopy__(self, memo: dict) -> FusedEvent:
        """A deep copy (an engine snapshot, :mod:`vigil.fusion.oosm.buffer`) without the generic reduce/reconstruct: its
        fields copied one by one, numbers and strings as they are, objects in ``memo`` (the frozen estimates a
        snapshot shares) taken from it, the strings list element by element (a boost filter by its own
        :meth:`~vigil.fusion.boost.filter.BoostFilter.__deepcopy__`); the same copy as :func:`copy.deepcopy`'s generic one."""
        out = FusedEvent.__new__(FusedEvent)
        memo[id(self)] = out
        fields = out.__dict__
        for name, value in self.__dict__.items():
            if value is None or type(value) in _ATOMIC:
                fields[name] = value
            elif id(value) in memo:
                fields[name] = memo[id(value)]
            elif name == "strings":
                strings = fields[name] = memo[id(value)] = []
                for s in value:
                    held = memo.get(id(s))
                    strings.append(copy.deepcopy(s, memo) if held is None else held)
            else:
                fields[name] = copy.deepcopy(value, memo)
        return out

    def detections(self):
        """All detections of the event's strings, time-sorted: ``(t (T,), pos (T,3), los (T,3), sigma (T,))``."""
        parts = [s.arrays() for s in self.strings]
        t, p, u, sigma = (np.concatenate([a[k] for a in parts]) for k in range(4))
        order = np.argsort(t, kind="stable")
        return t[order], p[order], u[order], sigma[order]


_ATOMIC = frozenset({str, float, int, bool})  # field types a copy shares (immutable)


def live_filters(events: list[FusedEvent]) -> list[BoostFilter]:
    """The boost filters of ``events``, in order (live events: each has one)."""
    return [e.filter for e in events if e.filter is not None]


_INIT_P0 = np.diag(np.repeat([INIT_POS_SIGMA_M, INIT_VEL_SIGMA_M_S, INIT_ACC_SIGMA_M_S2], 3) ** 2)


def init_filter(
    event: FusedEvent, seed_times, seed_points, jerk_psd: float, detections=None
) -> LosExtendedKalmanFilter:
    """Start the boost filter at the first seed from a polynomial through the seeds, then run all detections
    (``detections``: the event's :meth:`FusedEvent.detections` where the caller has them already); one
    compiled call (:func:`~vigil.fusion.boost.batch.start_filter`)."""
    times, pos, los, sigma = event.detections() if detections is None else detections
    return start_filter(
        seed_times, seed_points, INIT_ACC_MIN_SPAN_S, _INIT_P0, jerk_psd, LosRays(times, pos, los, sigma)
    )


def estimate_burnout(
    event: FusedEvent,
    classifier: Classifier,
    predictor: ImpactPredictor,
    containment: float,
    detections_seeds: tuple[Detections, Seeds] | None = None,
) -> None:
    """Burnout at the last detection (end of the plume): state, class and, if ballistic, impact.
    ``detections_seeds``: :func:`~vigil.fusion.association.associate.detections_and_seeds` of the event's strings (with
    points) where the caller has them already."""
    if event.filter is None:
        event.burnout = BurnoutState(
            event.last_detection_s, np.full(3, np.nan), np.full(3, np.nan), np.eye(6)
        )
        return
    f = event.filter
    if detections_seeds is None:
        detections_seeds = detections_and_seeds(event.strings)  # one concatenation for both
    detections, seeds = detections_seeds
    smoothed = smooth_burnout(*detections, f.x, seeds=seeds)
    if smoothed is None:
        event.burnout = BurnoutState(f.t, f.x[:3].copy(), f.x[3:6].copy(), f.P[:6, :6].copy())
    else:
        event.burnout = BurnoutState(*smoothed)
    b = event.burnout
    decision = classifier.decide(b.r, b.v, b.cov6, _cues(event, b.time_s, thrusting=False))
    event.held = None
    if decision.class_ == "ballistic":  # held until dark for CLASS_HOLD_S: a stage may light again
        event.held = (decision.class_, decision.reason)
        event.class_, event.class_reason = (
            "unknown",
            f"ballistic on its coast state unless it lights again: {decision.reason}",
        )
    elif (
        decision.class_ != "unknown" or event.class_ == "unknown"
    ):  # (a class decided in flight stays when the
        event.class_, event.class_reason = (
            decision.class_,
            decision.reason,
        )  # coast state alone cannot decide)
    if event.class_ == "space_launch" and event.launch is not None and np.all(np.isfinite(b.r)):
        event.launch = track_azimuth(event.launch, b.r, b.cov6[:3, :3])
    event.impact = None
    if decision.class_ == "ballistic" or (event.class_ == "unknown" and decision.falls):
        event.impact = predictor.predict(b.time_s, b.r, b.v, b.cov6, containment)
    if not event.tracked:
        return
    tail = boost_samples(-math.inf, seeds[0], seeds[1], b.time_s, b.r)
    if event.impact is not None:
        tail += coast_samples(b.time_s, b.r, b.v, event.impact)
    event.track_of["tail"] = tail


LIVE_CLASS_INTERVAL_S = 10.0  # in-flight classification at most this often (filter time) per event
CLASS_HOLD_S = 45.0  # a ballistic call is issued once the plume has been gone this long (a launcher's stages
#   coast apart 8-12 s on Falcon 9, longer on some vehicles; until then the version says unknown, impact given)


def confirm_held(event: FusedEvent, now_s: float, final: bool = False) -> bool:
    """Issue a held coast-state class once the event has been dark :data:`CLASS_HOLD_S`, or at the end of the
    data (``final``: nothing more will be seen); True when changed (the event is dirty: a new version with
    the reason)."""
    if event.held is None or (not final and now_s - event.last_detection_s < CLASS_HOLD_S):
        return False
    event.class_, reason = event.held
    event.class_reason = f"{reason}; dark {now_s - event.last_detection_s:.0f} s"
    event.held = None
    event.dirty = True
    return True


def classify_live(event: FusedEvent, classifier: Classifier) -> bool:
    """Classify a still-thrusting stereo event on its boost filter state and its burn so far (a launcher's
    level flight above the atmosphere after a long burn is a space launch before its cutoff; a thrusting
    object is never called ballistic). Only ``unknown`` → ``space_launch``; True (and the event dirty: a new
    version with the reason) when the class changed."""
    f = event.filter
    if (
        f is None
        or event.mono
        or event.launch is None
        or event.class_ != "unknown"
        or f.t - event.class_checked_s < LIVE_CLASS_INTERVAL_S
    ):
        return False
    event.class_checked_s = f.t
    decision = classifier.decide(f.x[:3], f.x[3:6], f.P[:6, :6], _cues(event, f.t, thrusting=True))
    if decision.class_ != "space_launch":
        return False
    event.class_, event.class_reason = decision.class_, "in flight: " + decision.reason
    event.dirty = True
    return True


def _cues(event: FusedEvent, t_s: float, thrusting: bool) -> AscentCues | None:
    """The event's burn so far (``t_s`` − launch time, σ of the launch time) as :class:`AscentCues`."""
    if event.launch is None:
        return None
    return AscentCues(float(t_s) - float(event.launch.time_s), float(event.launch.time_sigma_s), thrusting)


def to_warning(event: FusedEvent, epoch: str, now_s: float, containment: float) -> Warning:
    """The current estimate of ``event`` as a Warning (version ``event.version``, issued at epoch + now).

    Every number is handed over as a Python ``float`` (what the record stores), so the record's validation
    takes its no-conversion path (:func:`vigil.warning.records._check_stored`; same checks); every field is
    given, in order, for :meth:`Warning.of_fields` (the same record without the dataclass ``__init__``)."""
    launch = event.launch
    assert launch is not None  # (a warning is made only of an event with a launch estimate)
    sources, n_sensors = _sources(event)
    burnout_time = burnout_alt = burnout_speed = None
    b = event.burnout
    if b is not None:
        burnout_time = float(b.time_s)
        r = np.asarray(b.r, dtype=float).tolist()
        if math.isfinite(r[0]) and math.isfinite(r[1]) and math.isfinite(r[2]):
            burnout_alt = float(ecef_to_geodetic(b.r)[2])
            burnout_speed = float(np.linalg.norm(b.v))
    impact = event.impact
    return Warning.of_fields(
        event_id=event.event_id,
        version=event.version,
        issued_at=_issued_at(epoch, float(now_s)),
        class_=event.class_,
        launch_time_s=float(launch.time_s),
        launch_time_sigma_s=float(launch.time_sigma_s),
        launch_lat_deg=math.degrees(launch.lat_rad),
        launch_lon_deg=math.degrees(launch.lon_rad),
        launch_ellipse=_launch_ellipse(event, containment),
        azimuth_deg=None if launch.azimuth_rad is None else math.degrees(launch.azimuth_rad),
        azimuth_sigma_deg=None
        if launch.azimuth_sigma_rad is None
        else math.degrees(launch.azimuth_sigma_rad),
        burnout_time_s=burnout_time,
        burnout_alt_m=burnout_alt,
        burnout_speed_m_s=burnout_speed,
        impact_time_s=None if impact is None else float(impact.time_s),
        impact_lat_deg=None if impact is None else math.degrees(impact.lat_rad),
        impact_lon_deg=None if impact is None else math.degrees(impact.lon_rad),
        impact_ellipse=None if impact is None else impact.ellipse,
        containment=float(containment),
        notification=None,
        sources=sources,
        confidence=CONFIDENCE_MONO
        if event.mono
        else (CONFIDENCE_MULTI if n_sensors > 2 else CONFIDENCE_STEREO),
        mono=event.mono,
        class_reason=event.class_reason[:MAX_REASON_CHARS],
        track=_track(event) if event.tracked else None,
    )


def _track(event: FusedEvent) -> tuple:
    """The event's track (:mod:`vigil.fusion.coast.trajectory`): the ascent samples of its launch estimate (once
    per estimate) and the samples from burnout on; the same tuple while both are the same."""
    cache, launch = event.track_of, event.launch
    assert launch is not None  # (a warning is made only of an event with a launch estimate)
    ascent = cache.get("ascent")
    if ascent is None or ascent[0] is not launch:
        ascent = cache["ascent"] = (launch, ascent_samples(launch))
    tail = cache.get("tail", [])
    track = cache.get("track")
    if track is None or track[0] is not ascent[1] or track[1] is not tail:
        track = cache["track"] = (ascent[1], tail, joined(ascent[1], tail))
    return track[2]


def _sources(event: FusedEvent) -> tuple[Sources, int]:
    """The event's :class:`Sources` and its number of sensors. Recomputed only when the event's strings are no
    longer the same objects as at the last warning (a string's sensor and partner never change; ~70 % of the
    warnings of a salvo keep their strings); a recomputed Sources equal to the last one is the last one (frozen:
    one object serves every version it is true of)."""
    strings = tuple(event.strings)
    cached = event.sources_of
    if (
        cached is not None and cached[0] == strings
    ):  # SensorString has no __eq__: identity, element by element
        return cached[1], cached[2]
    sensors = tuple(sorted({s.sensor_id for s in strings}))
    partners = tuple(sorted({s.partner_id for s in strings}))
    if cached is not None and cached[1].sensors == sensors and cached[1].partners == partners:
        sources = cached[1]
    else:
        sources = Sources(sensors, partners)
    event.sources_of = (strings, sources, len(sensors))
    return sources, len(sensors)


def _launch_ellipse(event: FusedEvent, containment: float) -> tuple[float, float, float]:
    """:func:`~vigil.fusion.coast.ellipse.ellipse_from_cov` of the event's launch covariance, once per estimate."""
    cached = event.launch_ellipse_of
    if cached is not None and cached[0] is event.launch and cached[1] == containment:
        return cached[2]
    assert event.launch is not None  # (as in to_warning)
    ellipse = ellipse_from_cov(event.launch.cov_en_m2, containment)
    event.launch_ellipse_of = (event.launch, containment, ellipse)
    return ellipse


@functools.lru_cache(maxsize=64)
def _issued_at(epoch: str, now_s: float) -> str:
    """``epoch + now_s`` as the record's ISO 8601 UTC string (cached: every event warned in a chunk shares it)."""
    issued = parse_utc(epoch, "epoch") + dt.timedelta(seconds=now_s)
    return issued.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
