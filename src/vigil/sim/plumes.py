"""Many trajectories packed together, so that (launch, time) pairs are evaluated in one vectorized call.

:class:`PlumeStack` concatenates the samples of L :class:`~vigil.flight.trajectory.Trajectory` objects and
evaluates position (cubic Hermite, the same formula as :meth:`Trajectory.state_at`) and radiant intensity
(piecewise constant, as :meth:`Trajectory.intensity_at`) at flat arrays of ``(launch index, time)``.
The sample interval is found with one ``searchsorted`` over the concatenated times, each launch's times
shifted by ``index × span`` so that the launches occupy disjoint, increasing ranges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..flight.trajectory import Trajectory

SHIFT_MARGIN_S = 1000.0  # gap between the shifted time ranges of consecutive launches


@dataclass(frozen=True)
class PlumeStack:
    """Concatenated samples of L trajectories (see module doc). ``start`` (L+1,) row offsets."""

    trajectories: tuple[Trajectory, ...]
    t_s: np.ndarray
    r_ecef_m: np.ndarray
    v_ecef_m_s: np.ndarray
    intensity_w_sr: np.ndarray
    start: np.ndarray
    shift_s: float
    t_first_s: np.ndarray  # (L,) first sample time
    t_last_s: np.ndarray  # (L,) last sample time
    t_dark_s: np.ndarray  # (L,) time after which the plume never radiates again (burnout)
    t_shifted_s: np.ndarray  # t_s + launch index × shift_s (strictly increasing over all rows)

    @classmethod
    def build(cls, trajectories: Sequence[Trajectory]) -> PlumeStack:
        trajs = tuple(trajectories)
        if not trajs:
            z = np.zeros(0)
            return cls((), z, np.zeros((0, 3)), np.zeros((0, 3)), z, np.zeros(1, np.int64), 1.0, z, z, z, z)
        lengths = np.array([len(t.t_s) for t in trajs])
        start = np.concatenate([[0], np.cumsum(lengths)])
        lo = min(float(t.t_s[0]) for t in trajs)
        hi = max(float(t.t_s[-1]) for t in trajs)
        shift = hi - lo + SHIFT_MARGIN_S
        t_all = np.concatenate([np.asarray(t.t_s, float) for t in trajs])
        return cls(
            trajectories=trajs,
            t_s=t_all,
            r_ecef_m=np.concatenate([np.asarray(t.r_ecef_m, float) for t in trajs]),
            v_ecef_m_s=np.concatenate([np.asarray(t.v_ecef_m_s, float) for t in trajs]),
            intensity_w_sr=np.concatenate([np.asarray(t.intensity_w_sr, float) for t in trajs]),
            start=start,
            shift_s=shift,
            t_first_s=np.array([t.t_s[0] for t in trajs], float),
            t_last_s=np.array([t.t_s[-1] for t in trajs], float),
            t_dark_s=np.array([_dark_time(t) for t in trajs], float),
            t_shifted_s=t_all + np.repeat(np.arange(len(trajs)), lengths) * shift,
        )

    def __len__(self) -> int:
        return len(self.trajectories)

    def _row(self, launch, t, last: int) -> np.ndarray:
        """Global row k of the sample at or before ``t`` within each launch, clipped to [first, last-from-end]."""
        k = np.searchsorted(self.t_shifted_s, t + launch * self.shift_s, side="right") - 1
        return np.clip(k, self.start[launch], self.start[launch + 1] - 1 - last)

    def position(self, launch, t_s) -> np.ndarray:
        """ECEF positions ``(M, 3)`` (m) of launches ``launch`` (M,) at times ``t_s`` (M,); NaN outside."""
        launch = np.asarray(launch, np.int64)
        t = np.asarray(t_s, float)
        k = self._row(launch, t, last=1)
        t0, t1 = self.t_s[k], self.t_s[k + 1]
        h = t1 - t0
        s = ((t - t0) / h)[:, None]
        hh = h[:, None]
        p0, p1 = self.r_ecef_m[k], self.r_ecef_m[k + 1]
        m0, m1 = self.v_ecef_m_s[k] * hh, self.v_ecef_m_s[k + 1] * hh
        s2, s3 = s * s, s * s * s
        r = (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * p1 + (s3 - s2) * m1
        outside = (t < self.t_first_s[launch]) | (t > self.t_last_s[launch])
        r[outside] = np.nan
        return r

    def intensity(self, launch, t_s) -> np.ndarray:
        """Radiant intensity (W/sr) ``(M,)``: piecewise constant per sample, 0 outside and after burnout."""
        launch = np.asarray(launch, np.int64)
        t = np.asarray(t_s, float)
        k = self._row(launch, t, last=0)
        out = self.intensity_w_sr[k]
        dark = (t < self.t_first_s[launch]) | (t > self.t_last_s[launch]) | (t > self.t_dark_s[launch])
        return np.where(dark | ~np.isfinite(t), 0.0, out)


def _dark_time(traj: Trajectory) -> float:
    """Burnout time (s): the ``burnout`` event, else the last sample with non-zero intensity."""
    if "burnout" in traj.events:
        return float(traj.events["burnout"])
    lit = np.nonzero(np.asarray(traj.intensity_w_sr) > 0)[0]
    return float(traj.t_s[lit[-1]]) if len(lit) else float(traj.t_s[0]) - 1.0
