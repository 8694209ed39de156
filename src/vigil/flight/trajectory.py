"""The contract between flight physics and everything that watches a flight: a sampled trajectory.

Flight models (integrated vehicles, telemetry replays) produce a :class:`Trajectory`; the simulator,
the truth files and the scorers consume it. Times are seconds from the scenario epoch; positions and
velocities are ECEF (ITRS, WGS84) in m and m/s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Trajectory:
    """A flight sampled at increasing times.

    Fields (arrays share the leading axis K):
      ``t_s`` (K,) seconds from the scenario epoch; ``r_ecef_m`` (K, 3); ``v_ecef_m_s`` (K, 3);
      ``a_ecef_m_s2`` (K, 3) acceleration (for Hermite-quality interpolation and filters);
      ``stage`` (K,) int, index of the burning stage or -1 when no engine burns;
      ``intensity_w_sr`` (K,) plume radiant intensity in the sensors' band (0 when not burning).
    ``events`` maps names (``liftoff``, ``staging_1``, ``burnout``, ``impact``, ``orbit``) to times (s).
    ``kind`` is ``ballistic`` or ``space_launch``.
    """

    launch_id: str
    kind: str
    t_s: np.ndarray
    r_ecef_m: np.ndarray
    v_ecef_m_s: np.ndarray
    a_ecef_m_s2: np.ndarray
    stage: np.ndarray
    intensity_w_sr: np.ndarray
    events: dict[str, float] = field(default_factory=dict)

    def state_at(self, t_s) -> tuple[np.ndarray, np.ndarray]:
        """Position and velocity ``(..., 3)`` at times ``t_s`` by cubic Hermite interpolation (NaN outside)."""
        t = np.asarray(t_s, dtype=float)
        k = np.clip(np.searchsorted(self.t_s, t, side="right") - 1, 0, len(self.t_s) - 2)
        t0, t1 = self.t_s[k], self.t_s[k + 1]
        h = t1 - t0
        s = ((t - t0) / h)[..., None]
        p0, p1 = self.r_ecef_m[k], self.r_ecef_m[k + 1]
        m0, m1 = self.v_ecef_m_s[k] * h[..., None], self.v_ecef_m_s[k + 1] * h[..., None]
        h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
        r = h00 * p0 + h10 * m0 + h01 * p1 + h11 * m1
        dh00, dh10, dh01, dh11 = 6 * s**2 - 6 * s, 3 * s**2 - 4 * s + 1, -6 * s**2 + 6 * s, 3 * s**2 - 2 * s
        v = (dh00 * p0 + dh10 * m0 + dh01 * p1 + dh11 * m1) / h[..., None]
        outside = (t < self.t_s[0]) | (t > self.t_s[-1])
        r = np.where(outside[..., None], np.nan, r)
        v = np.where(outside[..., None], np.nan, v)
        return r, v

    def intensity_at(self, t_s) -> np.ndarray:
        """Plume radiant intensity (W/sr) at ``t_s``: piecewise constant per sample (0 outside the flight)."""
        t = np.asarray(t_s, dtype=float)
        k = np.clip(np.searchsorted(self.t_s, t, side="right") - 1, 0, len(self.t_s) - 1)
        out = self.intensity_w_sr[k]
        return np.where((t < self.t_s[0]) | (t > self.t_s[-1]), 0.0, out)

    @property
    def launch_time_s(self) -> float:
        return float(self.events.get("liftoff", self.t_s[0]))
