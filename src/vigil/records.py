"""Record contracts between stages (docs/design.md "Records"), columnar inside, JSON at the edges.

An :class:`ObservationBatch` holds many detections as parallel arrays (one row per detection in one
sensor frame). False alarms look exactly like true detections; truth lives elsewhere.
Times are seconds from the scenario ``epoch`` (ISO 8601 UTC string carried alongside).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OBSERVATION_FIELDS = (
    "obs_id",  # (M,) int64, unique within a run
    "sensor_id",  # (M,) str, e.g. "north-1"
    "partner_id",  # (M,) str
    "time_s",  # (M,) float64, seconds from epoch (frame mid-exposure instant, sensor clock)
    "sensor_pos_ecef_m",  # (M, 3) float64
    "los_ecef",  # (M, 3) float64, unit vector sensor -> target
    "los_sigma_rad",  # (M,) float64
    "snr",  # (M,) float64
    "intensity_w_sr",  # (M,) float64, estimated radiant intensity
    "frame_id",  # (M,) int64, frame counter of the sensor
)

# Physical ranges of an observation's scalars, shared by every reader (files, partner records):
# (lowest, lowest is allowed). A zero LOS sigma would be an infinitely precise line (and divides fusion's
# weights by zero); SNR and radiant intensity are ratios / powers and cannot be negative.
OBSERVATION_LOWER_BOUNDS = {"los_sigma_rad": (0.0, False), "snr": (0.0, True), "intensity_w_sr": (0.0, True)}
MAX_LOS_SIGMA_RAD = 1.0  # ~57°: beyond any sensor, and beyond a line of sight coarsened to a wide cell
MAX_SENSOR_RADIUS_M = 1.0e9  # ~2.6 lunar distances: farther is a unit mix-up, not a warning satellite


@dataclass
class ObservationBatch:
    """Detections as parallel arrays; see :data:`OBSERVATION_FIELDS` for names, shapes and units."""

    epoch: str
    obs_id: np.ndarray
    sensor_id: np.ndarray
    partner_id: np.ndarray
    time_s: np.ndarray
    sensor_pos_ecef_m: np.ndarray
    los_ecef: np.ndarray
    los_sigma_rad: np.ndarray
    snr: np.ndarray
    intensity_w_sr: np.ndarray
    frame_id: np.ndarray

    def __len__(self) -> int:
        return len(self.time_s)

    def take(self, index) -> ObservationBatch:
        """Rows ``index`` (boolean mask, integer indices or a slice) as a new batch. The fields are spelled out
        (the order of :data:`OBSERVATION_FIELDS`), not read by name in a generator: called per engine chunk."""
        return ObservationBatch(
            self.epoch,
            self.obs_id[index],
            self.sensor_id[index],
            self.partner_id[index],
            self.time_s[index],
            self.sensor_pos_ecef_m[index],
            self.los_ecef[index],
            self.los_sigma_rad[index],
            self.snr[index],
            self.intensity_w_sr[index],
            self.frame_id[index],
        )

    def sorted_by_time(self) -> ObservationBatch:
        return self.take(np.argsort(self.time_s, kind="stable"))

    @staticmethod
    def concatenate(epoch: str, batches: list[ObservationBatch]) -> ObservationBatch:
        if not batches:
            return ObservationBatch.empty(epoch)
        return ObservationBatch(
            epoch, *(np.concatenate([getattr(b, f) for b in batches]) for f in OBSERVATION_FIELDS)
        )

    @staticmethod
    def empty(epoch: str) -> ObservationBatch:
        return ObservationBatch(
            epoch,
            np.zeros(0, np.int64),
            np.zeros(0, dtype=object),
            np.zeros(0, dtype=object),
            np.zeros(0),
            np.zeros((0, 3)),
            np.zeros((0, 3)),
            np.zeros(0),
            np.zeros(0),
            np.zeros(0),
            np.zeros(0, np.int64),
        )
