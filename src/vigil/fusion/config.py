"""The fusion engine's settings (:class:`FusionConfig`), apart from the engine so that its parts can take them."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.fusion.boost.filter import JERK_PSD_M2_S5
from vigil.fusion.launch.backfit import ASCENT_WINDOW_S


@dataclass(frozen=True)
class FusionConfig:
    """Engine settings (SI). ``containment`` is the probability inside stated ellipses."""

    chunk_s: float = 1.0
    update_interval_s: float = 5.0
    burnout_gap_s: float = 15.0  # > the longest staging coast seen (Falcon 9 MECO→SES: 8-12 s)
    containment: float = 0.95
    mono_after_s: float = 15.0
    mono_min_detections: int = 10
    jerk_psd_m2_s5: float = JERK_PSD_M2_S5
    launch_window_s: float = ASCENT_WINDOW_S
    light_time: bool = True  # correct detections to emission time and axes (lighttime.py)
    lag_horizon_s: float = (
        120.0  # late detections up to this much before the processed time are fused (oosm.py)
    )
    snapshot_interval_s: float = (
        10.0  # engine state kept for re-processing every this much data time (oosm.py)
    )
    tracks: bool = (
        False  # record each warning's fitted track (trajectory.py) for the console: served or run output
    )
