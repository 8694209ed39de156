"""Sharing records <-> a node's own types: detections, warnings and tracks as they cross a partner boundary.

On the wire, times inside records are **UTC POSIX seconds** (partners need not share a scenario epoch); inside
the node they are seconds from the node's ``epoch``. Outgoing records are built complete and handed to the
releaser, which strips, coarsens and judges them (:mod:`vigil.sharing.releaser`); incoming ones have passed the
receiver (:mod:`vigil.sharing.receiver`), so their fields are valid; what they lack for a use is a DataError.

A **track** record (:func:`track_record`) is the latest fused state of one of the node's events — ECEF position
and velocity with their 6×6 covariance, its phase and sensors — and the event's launch estimate (point, ellipse,
time and its σ, as in the warning record), so that a partner fuses it with its own estimate of the same launch:
:func:`warning_from_track` makes of a received track the partner estimate the shared view fuses
(:class:`vigil.sharing.view.SharedView`), as :func:`warning_from_record` does of a received warning.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from ..frames import geodetic_to_ecef
from ..records import ObservationBatch
from ..timescale import parse_utc
from ..warning.records import Sources, Warning
from .coarsening import ReleasedErrorModel

DEFAULT_RECEIVED_SIGMA_RAD = (
    1e-4  # a released detection without los_sigma_rad (optional in the record): 100 µrad
)
_OPTIONAL_OBS = ("los_sigma_rad", "snr", "intensity_w_sr")


def posix_s(epoch: str | dt.datetime) -> float:
    """UTC POSIX seconds of an ISO 8601 UTC string or an aware datetime."""
    return (parse_utc(epoch, "epoch") if isinstance(epoch, str) else epoch).timestamp()


def relative_s(value: float | str, epoch_s: float) -> float:
    """A record's time (UTC POSIX s or ISO 8601 UTC) in seconds from the epoch at POSIX ``epoch_s``."""
    return (parse_utc(value, "time").timestamp() if isinstance(value, str) else float(value)) - epoch_s


# --- observations -----------------------------------------------------------------------------------
def observation_records(batch: ObservationBatch, epoch_s: float) -> list[dict[str, Any]]:
    """One observation record per row (``time`` = UTC POSIX s, ``epoch_s`` = POSIX s of the batch epoch)."""
    out = []
    for i in range(len(batch)):
        out.append(
            {
                "obs_id": int(batch.obs_id[i]),
                "time": epoch_s + float(batch.time_s[i]),
                "sensor_id": str(batch.sensor_id[i]),
                "partner_id": str(batch.partner_id[i]),
                "sensor_pos_ecef_m": [float(x) for x in batch.sensor_pos_ecef_m[i]],
                "los_ecef": [float(x) for x in batch.los_ecef[i] / np.linalg.norm(batch.los_ecef[i])],
                "los_sigma_rad": float(batch.los_sigma_rad[i]),
                "snr": float(batch.snr[i]),
                "intensity_w_sr": float(batch.intensity_w_sr[i]),
                "frame_id": int(batch.frame_id[i]),
            }
        )
    return out


def observations_from_records(
    records: Sequence[tuple[str, dict[str, Any]]],
    epoch: str,
    first_id: int,
    own_sensors: frozenset[str] = frozenset(),
    model: ReleasedErrorModel | None = None,
    precision_m: dict[str, float] | None = None,
) -> ObservationBatch:
    """``(sender, record)`` pairs → a batch with local ids ``first_id…``; a partner's sensor whose name
    clashes with one of ``own_sensors`` is renamed ``<sender>/<name>``. Missing optionals become NaN / -1.

    Each row's ``los_sigma_rad`` is what :class:`~vigil.sharing.coarsening.ReleasedErrorModel` (``model``,
    a fresh one when None; keep one per node so it sees each sensor's earlier rows) makes of the stated
    sigma, the LOS quantum and the sender's ``precision_m`` (sender → m, the agreements'; unknown: 0, the
    position rounding then counted as white)."""
    if not records:
        return ObservationBatch.empty(epoch)
    e = posix_s(epoch)
    sensors = []
    for sender, rec in records:
        name = str(rec.get("sensor_id") or f"{sender}/unnamed")
        sensors.append(f"{sender}/{name}" if name in own_sensors else name)
    cols = {
        k: np.array([np.nan if r.get(k) is None else float(r[k]) for _, r in records]) for k in _OPTIONAL_OBS
    }
    q = np.array([float(r.get("los_quantum_rad") or 0.0) for _, r in records])
    t_s = np.array([relative_s(r["time"], e) for _, r in records])
    pos = np.array([r["sensor_pos_ecef_m"] for _, r in records], dtype=float)
    los = np.array([r["los_ecef"] for _, r in records], dtype=float)
    sensor_ids = np.array(sensors, dtype=object)
    grid = np.array([(precision_m or {}).get(s, 0.0) for s, _ in records])
    stated = np.where(np.isfinite(cols["los_sigma_rad"]), cols["los_sigma_rad"], DEFAULT_RECEIVED_SIGMA_RAD)
    cols["los_sigma_rad"] = (model or ReleasedErrorModel()).sigma(sensor_ids, t_s, los, pos, stated, q, grid)
    return ObservationBatch(
        epoch,
        np.arange(first_id, first_id + len(records), dtype=np.int64),
        sensor_ids,
        np.array([str(r.get("partner_id") or s) for s, r in records], dtype=object),
        t_s,
        pos,
        los,
        cols["los_sigma_rad"],
        cols["snr"],
        cols["intensity_w_sr"],
        np.array(
            [-1 if r.get("frame_id") is None else int(r["frame_id"]) for _, r in records], dtype=np.int64
        ),
    )


# --- warnings ---------------------------------------------------------------------------------------
def warning_record(w: Warning, epoch_s: float) -> dict[str, Any]:
    """The sharing warning record of a Warning (times → UTC POSIX s; ``sources`` → partner ids)."""

    def abs_s(t: float | None) -> float | None:
        return None if t is None else epoch_s + t

    rec = {
        "event_id": w.event_id,
        "version": w.version,
        "issued_at": w.issued_at,
        "class": w.class_,
        "class_reason": w.class_reason or None,
        "launch_time": abs_s(w.launch_time_s),
        "launch_time_sigma_s": w.launch_time_sigma_s,
        "launch_lat_deg": w.launch_lat_deg,
        "launch_lon_deg": w.launch_lon_deg,
        "launch_ellipse": None if w.launch_ellipse is None else list(w.launch_ellipse),
        "azimuth_deg": w.azimuth_deg,
        "azimuth_sigma_deg": w.azimuth_sigma_deg,
        "burnout_time": abs_s(w.burnout_time_s),
        "burnout_alt_m": w.burnout_alt_m,
        "burnout_speed_m_s": w.burnout_speed_m_s,
        "impact_time": abs_s(w.impact_time_s),
        "impact_lat_deg": w.impact_lat_deg,
        "impact_lon_deg": w.impact_lon_deg,
        "impact_ellipse": None if w.impact_ellipse is None else list(w.impact_ellipse),
        "notification": w.notification,
        "sources": list(w.sources.partners),
        "confidence": w.confidence,
    }
    return {k: v for k, v in rec.items() if v is not None}


def _ellipse(value: Sequence[float] | None) -> tuple[float, float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]), float(value[2]))


def warning_from_record(sender: str, rec: dict[str, Any], epoch: str, received_at: str) -> Warning:
    """A partner's warning record as a Warning of this node: ``event_id`` ``<sender>:<id>``, issued when
    received (``received_at``, ISO UTC), times relative to this node's ``epoch``. DataError if unusable."""
    e = posix_s(epoch)

    def rel(key: str) -> float | None:
        return None if rec.get(key) is None else relative_s(rec[key], e)

    try:
        return Warning(
            event_id=f"{sender}:{rec['event_id']}",
            version=int(rec.get("version") or 1),
            issued_at=received_at,
            class_=rec.get("class") or "unknown",
            launch_time_s=rel("launch_time") or 0.0,
            launch_time_sigma_s=float(rec.get("launch_time_sigma_s") or 0.0),
            launch_lat_deg=rec["launch_lat_deg"],
            launch_lon_deg=rec["launch_lon_deg"],
            launch_ellipse=_ellipse(rec.get("launch_ellipse")),
            impact_ellipse=_ellipse(rec.get("impact_ellipse")),
            azimuth_deg=rec.get("azimuth_deg"),
            azimuth_sigma_deg=rec.get("azimuth_sigma_deg"),
            burnout_time_s=rel("burnout_time"),
            burnout_alt_m=rec.get("burnout_alt_m"),
            burnout_speed_m_s=rec.get("burnout_speed_m_s"),
            impact_time_s=rel("impact_time"),
            impact_lat_deg=rec.get("impact_lat_deg"),
            impact_lon_deg=rec.get("impact_lon_deg"),
            notification=rec.get("notification"),
            class_reason=rec.get("class_reason") or "",
            sources=Sources((), tuple(sorted({sender, *(rec.get("sources") or [])}))),
            confidence=float(rec["confidence"]) if rec.get("confidence") is not None else 1.0,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"warning from {sender}: {type(err).__name__}: {err}") from None


# --- tracks -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrackState:
    """One event's latest fused state: ``time_s`` from the epoch, ECEF ``r_m`` (3,), ``v_m_s`` (3,) or None,
    ``cov6`` the 6×6 covariance of (r, v) or None, ``phase`` boost | coast."""

    time_s: float
    r_m: np.ndarray
    v_m_s: np.ndarray | None
    cov6: np.ndarray | None
    phase: str


def event_state(events: Iterable[Any], event_id: str) -> TrackState | None:
    """The latest state of the engine event ``event_id`` (:class:`vigil.fusion.events.event.FusedEvent`): its
    burnout state once it has one (coast), else its boost filter's position and velocity; None without either."""
    event = next((e for e in events if e.event_id == event_id), None)
    if event is None:
        return None
    b, f = event.burnout, event.filter
    if b is not None and np.all(np.isfinite(b.r)):
        return TrackState(
            float(b.time_s),
            np.asarray(b.r, float),
            np.asarray(b.v, float),
            np.asarray(b.cov6, float),
            "coast",
        )
    if f is None:
        return None
    return TrackState(
        float(f.t),
        np.asarray(f.x[:3], float),
        np.asarray(f.x[3:6], float),
        np.asarray(f.P[:6, :6], float),
        "boost",
    )


def track_record(w: Warning, state: TrackState | None, epoch_s: float) -> dict[str, Any]:
    """The sharing track record of one own event: its latest ``state`` (without one — a mono event the engine
    holds no filter for — the launch point on the ground at the launch time, no velocity) and the launch
    estimate of its warning ``w`` (``track_id`` = ``event_id``, ``version`` = the warning's)."""
    if state is None:
        r = geodetic_to_ecef(math.radians(w.launch_lat_deg), math.radians(w.launch_lon_deg), 0.0)
        state = TrackState(w.launch_time_s, np.asarray(r, float), None, None, "boost")
    rec: dict[str, Any] = {
        "track_id": w.event_id,
        "version": w.version,
        "time": epoch_s + state.time_s,
        "pos_ecef_m": [float(x) for x in state.r_m],
        "phase": state.phase,
        "sensor_ids": list(w.sources.sensors),
        "partner_ids": list(w.sources.partners),
        "launch_lat_deg": w.launch_lat_deg,
        "launch_lon_deg": w.launch_lon_deg,
        "launch_time": epoch_s + w.launch_time_s,
        "launch_time_sigma_s": w.launch_time_sigma_s,
    }
    if state.v_m_s is not None:
        rec["vel_ecef_m_s"] = [float(x) for x in state.v_m_s]
    if state.cov6 is not None and np.all(np.isfinite(state.cov6)):
        cov = 0.5 * (state.cov6 + state.cov6.T)
        rec["cov"] = [[float(x) for x in row] for row in cov]
    if w.launch_ellipse is not None:
        rec["launch_ellipse"] = list(w.launch_ellipse)
    return rec


def warning_from_track(sender: str, rec: dict[str, Any], epoch: str, received_at: str) -> Warning:
    """A partner's track record as the partner estimate of its launch: a Warning with ``event_id``
    ``<sender>:<track_id>`` (the id the sender's warnings of that event have, so the view holds one estimate of
    it), issued when received, class unknown, no sensors (as a received warning). DataError without a launch
    estimate (a track with no ``launch_*`` fields is stored only)."""
    if rec.get("launch_lat_deg") is None or rec.get("launch_time") is None:
        raise DataError(
            f"track from {sender}: track {str(rec.get('track_id'))[:64]!r} carries no launch estimate"
        )
    e = posix_s(epoch)
    try:
        return Warning(
            event_id=f"{sender}:{rec['track_id']}",
            version=int(rec.get("version") or 1),
            issued_at=received_at,
            class_="unknown",
            launch_time_s=relative_s(rec["launch_time"], e),
            launch_time_sigma_s=float(rec.get("launch_time_sigma_s") or 0.0),
            launch_lat_deg=rec["launch_lat_deg"],
            launch_lon_deg=rec["launch_lon_deg"],
            launch_ellipse=_ellipse(rec.get("launch_ellipse")),
            sources=Sources((), tuple(sorted({sender, *(rec.get("partner_ids") or [])}))),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"track from {sender}: {type(err).__name__}: {err}") from None


def partner_estimates(
    record_type: str, sender: str, records: Iterable[dict[str, Any]], epoch: str, received_posix_s: float
) -> list[Warning]:
    """A partner's received warning or track records as estimates of its events (issued at the instant
    received, UTC POSIX s); a record that is no launch estimate (a track without one) is left out: it is
    stored and audited as received, not fused."""
    received_at = dt.datetime.fromtimestamp(received_posix_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    convert = warning_from_record if record_type == "warning" else warning_from_track
    out = []
    for record in records:
        try:
            out.append(convert(sender, record, epoch, received_at))
        except DataError:
            pass
    return out
