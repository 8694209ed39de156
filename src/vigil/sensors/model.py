"""An Earth-staring infrared sensor: where it can look, how often, how precisely.

The access rule (docs/design.md "Access"): a point at altitude h is *seen* by a satellite when the satellite's
elevation above the point's local (geodetic) horizon is at least ``min_elevation_deg`` and the point lies
within the sensor's field of regard. The default field of regard is the whole visible disk (any point
above the horizon); a narrower one is a cone of half-angle ``field_of_regard_deg`` about nadir.
Signal and detection physics live in :mod:`vigil.sensors.signal`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

DEFAULT_MIN_ELEVATION_DEG = 5.0  # notional: keeps long, low, hazy slant paths out of the access rule
DEFAULT_FRAME_S = 1.0  # notional staring-sensor frame time
DEFAULT_LOS_SIGMA_URAD = 20.0  # notional line-of-sight noise, 1σ per axis


@dataclass(frozen=True)
class SensorModel:
    """Parameters of one partner's sensors (all satellites of a partner share them).

    ``min_elevation_deg``: minimum elevation of the satellite above the target's horizon (deg, [-90, 90)).
    ``field_of_regard_deg``: half-angle of the cone about nadir that the sensor can look into (deg);
    ``None`` means the visible disk. ``frame_s``: frame period (s, > 0). ``los_sigma_urad``: line-of-sight
    noise, 1σ per axis (µrad, ≥ 0).
    """

    min_elevation_deg: float = DEFAULT_MIN_ELEVATION_DEG
    field_of_regard_deg: float | None = None
    frame_s: float = DEFAULT_FRAME_S
    los_sigma_urad: float = DEFAULT_LOS_SIGMA_URAD

    def __post_init__(self) -> None:
        if not -90.0 <= self.min_elevation_deg < 90.0:
            raise ConfigError(f"min_elevation_deg: {self.min_elevation_deg} is outside [-90, 90)")
        if self.field_of_regard_deg is not None and not 0.0 < self.field_of_regard_deg <= 90.0:
            raise ConfigError(f"field_of_regard_deg: {self.field_of_regard_deg} is outside (0, 90]")
        if not self.frame_s > 0.0:
            raise ConfigError(f"frame_s: {self.frame_s} must be > 0")
        if not self.los_sigma_urad >= 0.0:
            raise ConfigError(f"los_sigma_urad: {self.los_sigma_urad} must be >= 0")

    @property
    def sin_min_elevation(self) -> float:
        return float(np.sin(np.radians(self.min_elevation_deg)))

    @property
    def cos_field_of_regard(self) -> float:
        """Cosine of the field-of-regard half-angle (-1 when unlimited: every direction passes)."""
        return (
            -1.0 if self.field_of_regard_deg is None else float(np.cos(np.radians(self.field_of_regard_deg)))
        )

    @property
    def los_sigma_rad(self) -> float:
        return self.los_sigma_urad * 1e-6

    def sees(self, r_sat_ecef_m, r_point_ecef_m, up_point) -> np.ndarray:
        """Access mask for satellites and points broadcast together (``(..., 3)`` each) → bool ``(...)``.

        Reference implementation of the access rule (clear rather than fast; the coverage kernel is the
        fast one and is tested against this).
        """
        r_sat = np.asarray(r_sat_ecef_m, dtype=float)
        d = np.asarray(r_point_ecef_m, dtype=float) - r_sat  # satellite -> point
        rng = np.linalg.norm(d, axis=-1)
        sin_el = -np.einsum("...i,...i->...", d, up_point) / rng
        ok = sin_el >= self.sin_min_elevation
        if self.field_of_regard_deg is not None:
            cos_off_nadir = -np.einsum("...i,...i->...", d, r_sat) / (rng * np.linalg.norm(r_sat, axis=-1))
            ok &= cos_off_nadir >= self.cos_field_of_regard
        return ok & np.isfinite(rng)
