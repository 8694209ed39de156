"""Boost-phase filter: 9-state ``[r, v, a]`` ECEF extended Kalman filter updated directly by LOS detections.

Process: constant acceleration driven by white jerk of spectral density :data:`JERK_PSD_M2_S5` (the total
acceleration — thrust, gravity, Coriolis — is one slowly varying state; Bar-Shalom, Li & Kirubarajan,
*Estimation with Applications to Tracking and Navigation*, 2001, §6.2.3 "Wiener-process acceleration").
Measurement: one unit LOS from any sensor at any instant, as two angle residuals in the tangent plane of
the measured LOS (the same residual as :mod:`polytrack`), noise ``los_sigma_rad`` per axis. The update is
in Joseph form for symmetric, positive covariances.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from .triangulate import projector, tangent_basis

JERK_PSD_M2_S5 = 9.0  # thrust acceleration ramps up to ~2 m/s³ near burnout; (3 m/s³)² per Hz covers it


def transition(dt: float) -> np.ndarray:
    """State transition ``F(dt)`` (9×9) of the constant-acceleration model."""
    f1 = np.array([[1.0, dt, 0.5 * dt * dt], [0.0, 1.0, dt], [0.0, 0.0, 1.0]])
    return np.kron(f1, np.eye(3))


def process_noise(dt: float, q: float) -> np.ndarray:
    """Process noise ``Q(dt)`` (9×9) of white jerk with spectral density ``q`` (m²/s⁵)."""
    q1 = q * np.array([
        [dt**5 / 20, dt**4 / 8, dt**3 / 6],
        [dt**4 / 8, dt**3 / 3, dt**2 / 2],
        [dt**3 / 6, dt**2 / 2, dt],
    ])
    return np.kron(q1, np.eye(3))


class BoostFilter(ABC):
    """Base of boost-phase filters: ``predict(t)`` then ``update(pos, los, sigma)``; state ``x``, ``P``, ``t``."""

    x: np.ndarray
    P: np.ndarray
    t: float

    @abstractmethod
    def predict(self, t_s: float) -> None: ...

    @abstractmethod
    def update(self, sensor_pos_m, los, sigma_rad: float) -> float:
        """Apply one LOS; returns its normalised innovation squared (χ², 2 dof)."""


class LosExtendedKalmanFilter(BoostFilter):
    """EKF on ``[r, v, a]`` (m, m/s, m/s²) updated by single LOS detections (see module docstring)."""

    def __init__(self, t_s: float, x0, p0, jerk_psd: float = JERK_PSD_M2_S5) -> None:
        self.t = float(t_s)
        self.x = np.asarray(x0, dtype=float).copy()
        self.P = np.asarray(p0, dtype=float).copy()
        self.q = jerk_psd

    def predict(self, t_s: float) -> None:
        dt = float(t_s) - self.t
        if dt == 0.0:
            return
        f = transition(dt)
        self.x = f @ self.x
        self.P = f @ self.P @ f.T + process_noise(abs(dt), self.q)
        self.t = float(t_s)

    def update(self, sensor_pos_m, los, sigma_rad: float) -> float:
        d = self.x[:3] - np.asarray(sensor_pos_m, dtype=float)
        rho = np.linalg.norm(d)
        u_hat = d / rho
        e1, e2 = tangent_basis(np.asarray(los, dtype=float))
        e = np.stack([e1, e2])
        z = e @ u_hat  # predicted angles; the measurement is (0, 0) in its own tangent plane
        h = np.zeros((2, 9))
        h[:, :3] = e @ projector(u_hat) / rho
        s = h @ self.P @ h.T + sigma_rad**2 * np.eye(2)
        k = np.linalg.solve(s, h @ self.P).T
        self.x = self.x - k @ z
        ikh = np.eye(9) - k @ h
        self.P = ikh @ self.P @ ikh.T + sigma_rad**2 * k @ k.T
        return float(z @ np.linalg.solve(s, z))

    def state_at(self, t_s: float):
        """Predicted ``(x, P)`` at ``t_s`` without changing the filter."""
        dt = float(t_s) - self.t
        f = transition(dt)
        return f @ self.x, f @ self.P @ f.T + process_noise(abs(dt), self.q)
