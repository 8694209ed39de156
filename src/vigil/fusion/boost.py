"""Boost-phase filter: 9-state ``[r, v, a]`` ECEF extended Kalman filter updated directly by LOS detections.

Process: constant acceleration driven by white jerk of spectral density :data:`JERK_PSD_M2_S5` (the total
acceleration — thrust, gravity, Coriolis — is one slowly varying state; Bar-Shalom, Li & Kirubarajan,
*Estimation with Applications to Tracking and Navigation*, 2001, §6.2.3 "Wiener-process acceleration").
Measurement: one unit LOS from any sensor at any instant, as two angle residuals in the tangent plane of
the measured LOS (the same residual as :mod:`polytrack`), noise ``los_sigma_rad`` per axis. The update is
in Joseph form for symmetric, positive covariances.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numba
import numpy as np

from .triangulate import projector, tangent_basis

JERK_PSD_M2_S5 = 9.0  # thrust acceleration ramps up to ~2 m/s³ near burnout; (3 m/s³)² per Hz covers it
STAGING_GAP_S = 3.0  # a gap in detections longer than this may hide a staging (coast, new thrust)
STAGING_ACC_SIGMA_M_S2 = 50.0  # acceleration uncertainty added across such a gap (thrust 0 to 5 g)
NIS_REJECT = 50.0  # a single LOS this far off (χ², 2 dof) is not applied (clutter in the gate)


@numba.njit(cache=True)
def _predict(x, p, dt, q):
    """``(F x, F P Fᵀ + Q)`` over ``dt`` (compiled :func:`transition` / :func:`process_noise`)."""
    f = np.eye(9)
    qm = np.zeros((9, 9))
    adt = abs(dt)
    q1 = np.array([[adt**5 / 20, adt**4 / 8, adt**3 / 6], [adt**4 / 8, adt**3 / 3, adt**2 / 2],
                   [adt**3 / 6, adt**2 / 2, adt]]) * q
    for k in range(3):
        f[k, 3 + k] = dt
        f[k, 6 + k] = 0.5 * dt * dt
        f[3 + k, 6 + k] = dt
        for a in range(3):
            for b in range(3):
                qm[3 * a + k, 3 * b + k] = q1[a, b]
    return f @ x, f @ p @ f.T + qm


@numba.njit(cache=True)
def _ekf_sequence(x, p, t0, q, times, pos, e1, e2, sigma, nis_max, gap_s, acc_var):
    """Predict/update the 9-state filter through detections in time order (compiled); returns ``(x, P, t,
    accepted)`` with ``accepted`` (N,) false for detections rejected (out of sequence or χ² > ``nis_max``)."""
    t = t0
    accepted = np.zeros(times.size, dtype=np.bool_)
    f = np.eye(9)
    qm = np.zeros((9, 9))
    h = np.zeros((2, 9))
    for i in range(times.size):
        dt = times[i] - t
        if dt < 0.0:
            continue  # out of sequence: the batch fits still use it
        if dt > gap_s:
            for k in range(6, 9):
                p[k, k] += acc_var
        if dt > 0.0:
            for k in range(3):
                f[k, 3 + k] = dt
                f[k, 6 + k] = 0.5 * dt * dt
                f[3 + k, 6 + k] = dt
            q1 = np.array([[dt**5 / 20, dt**4 / 8, dt**3 / 6], [dt**4 / 8, dt**3 / 3, dt**2 / 2],
                           [dt**3 / 6, dt**2 / 2, dt]]) * q
            for a in range(3):
                for b in range(3):
                    for k in range(3):
                        qm[3 * a + k, 3 * b + k] = q1[a, b]
            x = f @ x
            p = f @ p @ f.T + qm
            t = times[i]
        d = x[:3] - pos[i]
        rho = math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
        u = d / rho
        z = np.array([e1[i] @ u, e2[i] @ u])
        h[0, :3] = (e1[i] - z[0] * u) / rho
        h[1, :3] = (e2[i] - z[1] * u) / rho
        ph = p @ h.T
        s = h @ ph
        s[0, 0] += sigma[i] ** 2
        s[1, 1] += sigma[i] ** 2
        s_inv = np.linalg.inv(s)
        if z @ s_inv @ z > nis_max:
            continue
        accepted[i] = True
        k = ph @ s_inv
        x = x - k @ z
        ikh = np.eye(9) - k @ h
        p = ikh @ p @ ikh.T + sigma[i] ** 2 * (k @ k.T)
    return x, p, t, accepted


@numba.njit(cache=True)
def _ekf_batch(xs, ps, ts, qs, stops, times, pos, e1, e2, sigma, nis_max, gap_s, acc_var):
    """:func:`_ekf_sequence` for many filters in one call: filter ``k`` (rows ``k`` of ``xs`` (K, 9), ``ps``
    (K, 9, 9), ``ts``, ``qs``, updated in place) takes detections ``stops[k-1]:stops[k]``; returns the
    accepted mask of all detections."""
    accepted = np.zeros(times.size, dtype=np.bool_)
    lo = 0
    for k in range(stops.size):
        hi = stops[k]
        x, p, t, acc = _ekf_sequence(xs[k].copy(), ps[k].copy(), ts[k], qs[k], times[lo:hi], pos[lo:hi],
                                     e1[lo:hi], e2[lo:hi], sigma[lo:hi], nis_max, gap_s, acc_var)
        xs[k], ps[k], ts[k] = x, p, t
        accepted[lo:hi] = acc
        lo = hi
    return accepted


def run_filters(filters, stops, times, pos, los, sigma, nis_max: float = NIS_REJECT) -> np.ndarray:
    """:meth:`LosExtendedKalmanFilter.run` of many filters in one compiled call: ``filters[k]`` takes the
    time-ordered detections ``stops[k-1]:stops[k]`` of the concatenated ``times`` (N,) s, ``pos`` (N, 3) m,
    ``los`` (N, 3), ``sigma`` (N,) rad. Returns the ``(N,)`` mask of detections applied."""
    if not len(filters):
        return np.zeros(0, dtype=bool)
    xs = np.array([f.x for f in filters])
    ps = np.array([f.P for f in filters])
    ts = np.array([f.t for f in filters], dtype=float)
    qs = np.array([f.q for f in filters], dtype=float)
    e1, e2 = tangent_basis(np.ascontiguousarray(los, dtype=float))
    accepted = _ekf_batch(xs, ps, ts, qs, np.asarray(stops, dtype=np.int64), np.ascontiguousarray(times, float),
                          np.ascontiguousarray(pos, float), e1, e2, np.ascontiguousarray(sigma, float),
                          float(nis_max), STAGING_GAP_S, STAGING_ACC_SIGMA_M_S2**2)
    for k, f in enumerate(filters):
        f.x, f.P, f.t = xs[k], ps[k], float(ts[k])
    return accepted


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

    def run(self, times, pos, los, sigma, nis_max: float = NIS_REJECT) -> np.ndarray:
        """Apply time-ordered detections (compiled); LOS with χ² > ``nis_max`` are skipped, and a gap longer
        than :data:`STAGING_GAP_S` widens the acceleration (a staging may hide in it). Returns the ``(N,)``
        mask of detections applied."""
        if not len(times):
            return np.zeros(0, dtype=bool)
        e1, e2 = tangent_basis(np.asarray(los, dtype=float))
        self.x, self.P, self.t, accepted = _ekf_sequence(self.x, self.P, self.t, float(self.q), np.asarray(times, float),
                                               np.asarray(pos, float), e1, e2, np.asarray(sigma, float),
                                               float(nis_max), STAGING_GAP_S, STAGING_ACC_SIGMA_M_S2**2)
        return accepted

    def state_at(self, t_s: float):
        """Predicted ``(x, P)`` at ``t_s`` without changing the filter."""
        return _predict(self.x, self.P, float(t_s) - self.t, float(self.q))

    def position_at(self, t_s) -> np.ndarray:
        """Predicted position (m) ``(T, 3)`` at times ``t_s`` (no covariance)."""
        dt = np.atleast_1d(np.asarray(t_s, dtype=float)) - self.t
        return self.x[:3] + dt[:, None] * self.x[3:6] + 0.5 * dt[:, None] ** 2 * self.x[6:]
