"""False alarms (clutter): a Poisson number per frame, spread uniformly over the visible Earth disk.

They look exactly like detections (same columns, same ``los_sigma_rad``); only the truth association
(``clutter``) tells them apart. Geometry and SNR draws are in :mod:`vigil.sensors.signal`.
"""

from __future__ import annotations

import numpy as np

from ..sensors.model import SensorModel
from ..sensors.signal import SignalModel, false_alarm_snr, sample_visible_cap
from .observe import SensorFrames, detection_columns


def false_alarms(frames: SensorFrames, sensor: SensorModel, signal: SignalModel, rng) -> dict:
    """False alarms of one satellite over its frames: observation columns plus ``launch`` = -1.

    Random draws, in order: counts per frame (Poisson), points on the cap, SNR of each alarm.
    """
    counts = rng.poisson(signal.false_alarms_per_frame, size=len(frames.t_s))
    f = np.repeat(np.arange(len(frames.t_s)), counts)
    r_sat = frames.r_ecef_m[f]
    points = sample_visible_cap(r_sat, sensor.min_elevation_deg, sensor.field_of_regard_deg, rng)
    d = points - r_sat
    rng_m = np.linalg.norm(d, axis=-1)
    snr = false_alarm_snr(len(f), signal.pd_snr50, rng)
    cols = detection_columns(frames, f, d / rng_m[:, None], snr, snr * signal.nei_w_m2 * rng_m**2, sensor)
    cols["launch"] = np.full(len(f), -1, dtype=np.int64)
    cols["t_emit_s"] = frames.t_s[f]
    return cols
