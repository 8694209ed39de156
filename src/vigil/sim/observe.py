"""Observation generation for one satellite: frame clock, plume detections (light time, Pd, LOS noise).

Each satellite (a *sensor*, ``sensor_id = <partner>-<n>``) reads out frames at ``φ + k · frame_s`` with its
own random phase ``φ ~ U[0, frame_s)`` (asynchronous frames), ``k = 0, 1, …`` while inside the scenario.
Its positions come from SGP4 (:func:`vigil.space.propagation.propagate_ecef`) at exactly those instants.
The work of one satellite is vectorized over every (frame, launch) pair in which a plume may be lit;
nothing loops over frames. The physics is in :mod:`vigil.sensors.signal`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..frames import ecef_to_geodetic, up_vector
from ..sensors.model import SensorModel
from ..sensors.signal import (
    SignalModel,
    detect,
    light_time_solve,
    perturb_los,
    to_reception_frame,
)
from ..space.constellation import Constellation
from ..space.propagation import propagate_ecef
from ..timescale import TimeGrid
from .plumes import PlumeStack

LIGHT_TIME_MARGIN_S = 1.0  # frames this long after burnout may still receive its light (GEO: 0.12 s)


@dataclass(frozen=True)
class SensorFrames:
    """The frame clock of one satellite: ``t_s`` (K,) reception instants, ``r_ecef_m`` (K, 3), ``frame_id`` (K,)."""

    sensor_id: str
    partner_id: str
    satellite: str
    t_s: np.ndarray
    r_ecef_m: np.ndarray
    frame_id: np.ndarray


def frame_clock(duration_s: float, frame_s: float, phase_s: float) -> np.ndarray:
    """Frame instants ``phase + k frame_s`` in ``[0, duration_s)`` (s)."""
    n = int(np.ceil((duration_s - phase_s) / frame_s))
    return phase_s + np.arange(max(n, 0)) * frame_s


def satellite_frames(
    constellation: Constellation, partner_id: str, frame_s: float, epoch: dt.datetime, duration_s: float, rng
) -> list[SensorFrames]:
    """Frame clocks of every satellite of a partner, each with an independent phase; SGP4 positions at them.

    Frames where SGP4 fails for the satellite (NaN position) are dropped.
    """
    phases = rng.uniform(0.0, frame_s, size=len(constellation))
    out = []
    for i, (sat, name, num) in enumerate(
        zip(constellation.satrecs, constellation.names, constellation.catalog_numbers, strict=True)
    ):
        t = frame_clock(duration_s, frame_s, float(phases[i]))
        one = Constellation(name, (sat,), (name,), (num,), source=constellation.source)
        eph = propagate_ecef(one, TimeGrid.from_offsets(epoch, t), workers=1)
        ok = eph.ok[:, 0]
        frame_id = np.arange(len(t), dtype=np.int64)
        out.append(
            SensorFrames(f"{partner_id}-{i + 1}", partner_id, name, t[ok], eph.r_ecef_m[ok, 0], frame_id[ok])
        )
    return out


def candidate_pairs(
    t_frames: np.ndarray, lo_s: np.ndarray, hi_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All (frame, launch) index pairs with ``lo[l] ≤ t[f] ≤ hi[l]`` for sorted ``t_frames``: ``(f (P,), l (P,))``."""
    i0 = np.searchsorted(t_frames, lo_s, side="left")
    i1 = np.searchsorted(t_frames, hi_s, side="right")
    counts = np.maximum(i1 - i0, 0)
    launch = np.repeat(np.arange(len(lo_s)), counts)
    first = np.repeat(i0 - (np.cumsum(counts) - counts), counts)
    return first + np.arange(counts.sum()), launch


@dataclass(frozen=True)
class PlumeView:
    """Geometry of (frame, launch) pairs after light time: indices, emission time, ranges, visibility."""

    frame: np.ndarray  # (P,) index into the satellite's frames
    launch: np.ndarray  # (P,) index into the plume stack
    t_emit_s: np.ndarray  # (P,)
    r_plume_rx_m: np.ndarray  # (P, 3) plume at emission, in the ECEF axes of reception
    intensity_w_sr: np.ndarray  # (P,)
    visible: np.ndarray  # (P,) bool: lit, above the cloud tops, seen by the sensor


def view_plumes(
    frames: SensorFrames, stack: PlumeStack, sensor: SensorModel, signal: SignalModel
) -> PlumeView:
    """Light-time-corrected plume geometry and visibility for every lit (frame, launch) pair of a satellite."""
    hi = np.minimum(stack.t_dark_s, stack.t_last_s) + LIGHT_TIME_MARGIN_S
    f, lau = candidate_pairs(frames.t_s, stack.t_first_s, hi)
    t_rx, r_sat = frames.t_s[f], frames.r_ecef_m[f]
    t_emit, r_emit, r_rx = light_time_solve(t_rx, r_sat, lambda te: stack.position(lau, te))
    intensity = stack.intensity(lau, t_emit)
    lat, lon, alt = ecef_to_geodetic(r_emit)
    up_rx = to_reception_frame(up_vector(lat, lon), t_rx - t_emit)
    with np.errstate(invalid="ignore"):
        visible = (alt >= signal.visible_alt_m) & (intensity > 0.0) & sensor.sees(r_sat, r_rx, up_rx)
    return PlumeView(f, lau, t_emit, r_rx, intensity, visible & np.isfinite(t_emit))


def detect_plumes(
    frames: SensorFrames, stack: PlumeStack, sensor: SensorModel, signal: SignalModel, rng
) -> dict:
    """Detections of plumes by one satellite: dict of columns (see :func:`detection_columns`) plus ``launch``
    (M,) and ``t_emit_s`` (M,). Random draws, in order: measured SNR of visible pairs, then LOS noise."""
    view = view_plumes(frames, stack, sensor, signal)
    sel = np.nonzero(view.visible)[0]
    f = view.frame[sel]
    r_sat = frames.r_ecef_m[f]
    d = view.r_plume_rx_m[sel] - r_sat
    rng_m = np.linalg.norm(d, axis=-1)
    snr = view.intensity_w_sr[sel] / rng_m**2 / signal.nei_w_m2
    hit, measured = detect(snr, signal.pd_snr50, rng)
    los = d[hit] / rng_m[hit, None]
    if sensor.los_sigma_rad > 0.0:
        los = perturb_los(los, sensor.los_sigma_rad, rng)
    cols = detection_columns(
        frames, f[hit], los, measured[hit], measured[hit] * signal.nei_w_m2 * rng_m[hit] ** 2, sensor
    )
    cols["launch"] = view.launch[sel][hit]
    cols["t_emit_s"] = view.t_emit_s[sel][hit]
    return cols


def detection_columns(frames: SensorFrames, f, los, snr, intensity, sensor: SensorModel) -> dict:
    """Observation columns (names of :data:`vigil.records.OBSERVATION_FIELDS`, less ``obs_id``) for frames ``f``."""
    m = len(f)
    return {
        "sensor_id": np.full(m, frames.sensor_id, dtype=object),
        "partner_id": np.full(m, frames.partner_id, dtype=object),
        "time_s": frames.t_s[f],
        "sensor_pos_ecef_m": frames.r_ecef_m[f],
        "los_ecef": los,
        "los_sigma_rad": np.full(m, sensor.los_sigma_rad),
        "snr": snr,
        "intensity_w_sr": intensity,
        "frame_id": frames.frame_id[f],
    }
