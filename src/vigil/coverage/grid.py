"""Global latitude/longitude grids with exact area weights.

Cells are centred on ``(lat, lon)`` with edges every ``step_deg``; a cell's weight is its exact area on
the sphere, proportional to ``sin(lat_north) − sin(lat_south)`` (an Archimedes band split evenly in
longitude), so area-weighted means are correct at every resolution. Points sit at geodetic latitude
on the WGS84 ellipsoid at the requested altitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..frames import geodetic_to_ecef, up_vector


@dataclass(frozen=True)
class Grid:
    """A global grid: centres ``lat_deg`` ``(nlat,)``, ``lon_deg`` ``(nlon,)``; flattened cells row-major."""

    step_deg: float
    altitude_m: float
    lat_deg: np.ndarray
    lon_deg: np.ndarray

    @classmethod
    def global_(cls, step_deg: float, altitude_m: float = 0.0) -> Grid:
        if not (np.isfinite(step_deg) and 0.05 <= step_deg <= 45.0):
            raise ConfigError(f"--grid-deg: {step_deg} is outside [0.05, 45]")
        nlat = 180.0 / step_deg
        if abs(nlat - round(nlat)) > 1e-9:
            raise ConfigError(f"--grid-deg: {step_deg} does not divide 180 evenly")
        if not (np.isfinite(altitude_m) and -500.0 <= altitude_m <= 1_000_000.0):
            raise ConfigError(f"--altitude-km: {altitude_m / 1e3} is outside [-0.5, 1000]")
        nlat = int(round(nlat))
        lat = -90.0 + step_deg * (np.arange(nlat) + 0.5)
        lon = -180.0 + step_deg * (np.arange(2 * nlat) + 0.5)
        return cls(float(step_deg), float(altitude_m), lat, lon)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.lat_deg), len(self.lon_deg)

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    def cell_lat_lon_rad(self) -> tuple[np.ndarray, np.ndarray]:
        lat, lon = np.meshgrid(np.radians(self.lat_deg), np.radians(self.lon_deg), indexing="ij")
        return lat.ravel(), lon.ravel()

    def points_ecef_m(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell centres in ECEF ``(P, 3)`` (m) and their unit geodetic 'up' ``(P, 3)``."""
        lat, lon = self.cell_lat_lon_rad()
        return geodetic_to_ecef(lat, lon, self.altitude_m), up_vector(lat, lon)

    def weights(self) -> np.ndarray:
        """Area weights ``(P,)`` summing to 1."""
        half = np.radians(self.step_deg) / 2
        lat = np.radians(self.lat_deg)
        band = np.sin(np.minimum(lat + half, np.pi / 2)) - np.sin(np.maximum(lat - half, -np.pi / 2))
        w = np.repeat(band[:, None], len(self.lon_deg), axis=1).ravel()
        return w / w.sum()
