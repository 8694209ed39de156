"""Boost-phase filter: 9-state ``[r, v, a]`` ECEF extended Kalman filter updated directly by LOS detections.

Process: constant acceleration driven by white jerk of spectral density :data:`JERK_PSD_M2_S5` (the total
acceleration — thrust, gravity, Coriolis — is one slowly varying state; Bar-Shalom, Li & Kirubarajan,
*Estimation with Applications to Tracking and Navigation*, 2001, §6.2.3 "Wiener-process acceleration").
Measurement: one unit LOS from any sensor at any instant, as two angle residuals in the tangent plane of
the measured LOS (the same residual as :mod:`polytrack`), noise ``los_sigma_rad`` per axis. The update is
in Joseph form for symmetric, positive covariances.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from typing import NamedTuple

import numba
import numpy as np

from vigil.fusion.boost.rays import TangentRays
from vigil.fusion.geometry.triangulate import projector, tangent_basis

JERK_PSD_M2_S5 = 9.0  # thrust acceleration ramps up to ~2 m/s³ near burnout; (3 m/s³)² per Hz covers it
STAGING_GAP_S = 3.0  # a gap in detections longer than this may hide a staging (coast, new thrust)
STAGING_ACC_SIGMA_M_S2 = 50.0  # acceleration uncertainty added across such a gap (thrust 0 to 5 g)
NIS_REJECT = 50.0  # a single LOS this far off (χ², 2 dof) is not applied (clutter in the gate)


@numba.njit(cache=True)
def ekf_predict(x, p, dt, q):
    """``(F x, F P Fᵀ + Q)`` over ``dt`` (compiled :func:`transition` / :func:`process_noise`)."""
    f = np.eye(9)
    qm = np.zeros((9, 9))
    adt = abs(dt)
    q1 = (
        np.array(
            [
                [adt**5 / 20, adt**4 / 8, adt**3 / 6],
                [adt**4 / 8, adt**3 / 3, adt**2 / 2],
                [adt**3 / 6, adt**2 / 2, adt],
            ]
        )
        * q
    )
    for k in range(3):
        f[k, 3 + k] = dt
        f[k, 6 + k] = 0.5 * dt * dt
        f[3 + k, 6 + k] = dt
        for a in range(3):
            for b in range(3):
                qm[3 * a + k, 3 * b + k] = q1[a, b]
    return f @ x, f @ p @ f.T + qm


@numba.njit(cache=True, inline="always")  # (inlined in the per-detection loop: ~20 % of the batch was calls)
def _predict_in_place(x, p, dt, q, tmp):
    """``x ← F x``, ``P ← F P Fᵀ + Q`` over ``dt`` without allocation (``F = F₁ ⊗ I₃``: each row of ``F``
    has at most three non-zeros; ``tmp`` (9, 9) scratch). Same values as :func:`ekf_predict`."""
    h2 = 0.5 * dt * dt
    for k in range(3):
        x[k] += dt * x[3 + k] + h2 * x[6 + k]
        x[3 + k] += dt * x[6 + k]
    for j in range(9):  # tmp = F P
        for k in range(3):
            tmp[k, j] = p[k, j] + dt * p[3 + k, j] + h2 * p[6 + k, j]
            tmp[3 + k, j] = p[3 + k, j] + dt * p[6 + k, j]
            tmp[6 + k, j] = p[6 + k, j]
    for i in range(9):  # P = tmp Fᵀ
        for k in range(3):
            p[i, k] = tmp[i, k] + dt * tmp[i, 3 + k] + h2 * tmp[i, 6 + k]
            p[i, 3 + k] = tmp[i, 3 + k] + dt * tmp[i, 6 + k]
            p[i, 6 + k] = tmp[i, 6 + k]
    adt = abs(dt)
    q00, q01, q02 = q * adt**5 / 20, q * adt**4 / 8, q * adt**3 / 6
    q11, q12, q22 = q * adt**3 / 3, q * adt**2 / 2, q * adt
    for k in range(3):
        p[k, k] += q00
        p[k, 3 + k] += q01
        p[3 + k, k] += q01
        p[k, 6 + k] += q02
        p[6 + k, k] += q02
        p[3 + k, 3 + k] += q11
        p[3 + k, 6 + k] += q12
        p[6 + k, 3 + k] += q12
        p[6 + k, 6 + k] += q22


@numba.njit(cache=True, inline="always")  # (as _predict_in_place)
def _update_in_place(x, p, pos, e1, e2, sigma, nis_max, ph, kg):
    """One LOS update in place; returns False (nothing changed) when its χ² exceeds ``nis_max``.

    ``H`` is non-zero in the position columns only; the Joseph form ``(I-KH) P (I-KH)ᵀ + σ² K Kᵀ`` with the
    optimal gain ``K = P Hᵀ S⁻¹`` expands to ``P - K (PHᵀ)ᵀ - PHᵀ Kᵀ + K S Kᵀ``, formed for ``i ≤ j`` and
    mirrored (exactly symmetric; no 9×9 products). Scratch: ``ph``, ``kg`` (9, 2)."""
    d0, d1, d2 = x[0] - pos[0], x[1] - pos[1], x[2] - pos[2]
    rho = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
    u0, u1, u2 = d0 / rho, d1 / rho, d2 / rho
    z0 = e1[0] * u0 + e1[1] * u1 + e1[2] * u2
    z1 = e2[0] * u0 + e2[1] * u1 + e2[2] * u2
    h00, h01, h02 = (e1[0] - z0 * u0) / rho, (e1[1] - z0 * u1) / rho, (e1[2] - z0 * u2) / rho
    h10, h11, h12 = (e2[0] - z1 * u0) / rho, (e2[1] - z1 * u1) / rho, (e2[2] - z1 * u2) / rho
    for i in range(9):
        ph[i, 0] = p[i, 0] * h00 + p[i, 1] * h01 + p[i, 2] * h02
        ph[i, 1] = p[i, 0] * h10 + p[i, 1] * h11 + p[i, 2] * h12
    var = sigma * sigma
    s00 = h00 * ph[0, 0] + h01 * ph[1, 0] + h02 * ph[2, 0] + var
    s01 = h00 * ph[0, 1] + h01 * ph[1, 1] + h02 * ph[2, 1]
    s10 = h10 * ph[0, 0] + h11 * ph[1, 0] + h12 * ph[2, 0]
    s11 = h10 * ph[0, 1] + h11 * ph[1, 1] + h12 * ph[2, 1] + var
    det = s00 * s11 - s01 * s10
    i00, i01, i10, i11 = s11 / det, -s01 / det, -s10 / det, s00 / det
    nis = z0 * (i00 * z0 + i01 * z1) + z1 * (i10 * z0 + i11 * z1)
    if not nis <= nis_max:
        return False
    for i in range(9):
        kg[i, 0] = ph[i, 0] * i00 + ph[i, 1] * i10
        kg[i, 1] = ph[i, 0] * i01 + ph[i, 1] * i11
        x[i] -= kg[i, 0] * z0 + kg[i, 1] * z1
    for i in range(9):  # Joseph form expanded with K = P Hᵀ S⁻¹: P - K (PHᵀ)ᵀ - PHᵀ Kᵀ + K S Kᵀ, symmetric
        ks0 = kg[i, 0] * s00 + kg[i, 1] * s10
        ks1 = kg[i, 0] * s01 + kg[i, 1] * s11
        for j in range(i, 9):
            v = (
                p[i, j]
                - kg[i, 0] * ph[j, 0]
                - kg[i, 1] * ph[j, 1]
                - ph[i, 0] * kg[j, 0]
                - ph[i, 1] * kg[j, 1]
                + ks0 * kg[j, 0]
                + ks1 * kg[j, 1]
            )
            p[i, j] = v
            p[j, i] = v
    return True


class FilterTuning(NamedTuple):
    """What a run applies besides the detections: the χ² rejection and the staging widening."""

    nis_max: float  # a LOS with χ² (2 dof) above this is not applied
    gap_s: float  # a gap longer than this (s) widens the acceleration ...
    acc_var: float  # ... by this variance, (m/s²)²


class EkfWork(NamedTuple):
    """Scratch of :func:`ekf_in_place` (one set for many filters)."""

    tmp: np.ndarray  # (9, 9)
    ph: np.ndarray  # (9, 2)
    kg: np.ndarray  # (9, 2)


def tuning(nis_max: float = NIS_REJECT) -> FilterTuning:
    """The :class:`FilterTuning` of a run with rejection at ``nis_max`` and the module's staging constants."""
    return FilterTuning(float(nis_max), STAGING_GAP_S, STAGING_ACC_SIGMA_M_S2**2)


@numba.njit(cache=True)
def ekf_work():
    """Fresh scratch for :func:`ekf_in_place`."""
    return EkfWork(np.empty((9, 9)), np.empty((9, 2)), np.empty((9, 2)))


@numba.njit(cache=True)
def _ekf_sequence(x, p, t0, q, rays, tune):
    """Predict/update the 9-state filter through ``rays`` (:class:`TangentRays`, time order; compiled, in place
    on copies); returns ``(x, P, t, accepted)`` with ``accepted`` (N,) false for detections rejected (out of
    sequence or χ² > ``tune.nis_max``)."""
    x, p = x.copy(), p.copy()
    accepted = np.zeros(rays.time_s.size, dtype=np.bool_)
    t = ekf_in_place(x, p, t0, q, rays, tune, accepted, ekf_work())
    return x, p, t, accepted


@numba.njit(cache=True)
def ekf_in_place(x, p, t0, q, rays, tune, accepted, work):
    """Body of :func:`_ekf_sequence` on ``x``, ``p`` in place (verdicts into ``accepted``; scratch ``work``);
    returns the filter's new time."""
    times, pos, e1, e2, sigma = rays  # (unpacked once: a field read per detection costs a reference count)
    nis_max, gap_s, acc_var = tune
    tmp, ph, kg = work
    t = t0
    for i in range(times.size):
        dt = times[i] - t
        if dt < 0.0:
            continue  # out of sequence: the batch fits still use it
        if dt > gap_s:
            for k in range(6, 9):
                p[k, k] += acc_var
        if dt > 0.0:
            _predict_in_place(x, p, dt, q, tmp)
            t = times[i]
        accepted[i] = _update_in_place(x, p, pos[i], e1[i], e2[i], sigma[i], nis_max, ph, kg)
    return t


def transition(dt: float) -> np.ndarray:
    """State transition ``F(dt)`` (9×9) of the constant-acceleration model."""
    f1 = np.array([[1.0, dt, 0.5 * dt * dt], [0.0, 1.0, dt], [0.0, 0.0, 1.0]])
    return np.kron(f1, np.eye(3))


def process_noise(dt: float, q: float) -> np.ndarray:
    """Process noise ``Q(dt)`` (9×9) of white jerk with spectral density ``q`` (m²/s⁵)."""
    q1 = q * np.array(
        [
            [dt**5 / 20, dt**4 / 8, dt**3 / 6],
            [dt**4 / 8, dt**3 / 3, dt**2 / 2],
            [dt**3 / 6, dt**2 / 2, dt],
        ]
    )
    return np.kron(q1, np.eye(3))


class BoostFilter(ABC):
    """Base of boost-phase filters: ``predict(t)`` then ``update(pos, los, sigma)``; state ``x``, ``P``, ``t``.

    ``q`` is the white-jerk PSD (m²/s⁵) the compiled batch (:func:`~vigil.fusion.boost.batch.run_filters`) propagates with; NaN (the
    default) for a filter without one. :meth:`ray_misses` (the gating of new strings) has a default through
    :meth:`state_at` that a filter with a compiled form overrides."""

    x: np.ndarray
    P: np.ndarray
    t: float
    q: float = math.nan

    def __deepcopy__(self, memo: dict) -> BoostFilter:
        """``copy.deepcopy`` of a filter whose attributes are numbers and float arrays (its time, state, covariance,
        PSD) without the generic reconstruct (an engine snapshot copies every live filter); any other attribute
        is deep-copied as usual. The same copy as the generic one."""
        out = type(self).__new__(type(self))
        memo[id(self)] = out
        fields = out.__dict__
        for name, value in self.__dict__.items():
            if type(value) is np.ndarray and value.dtype.kind == "f" and id(value) not in memo:
                fields[name] = memo[id(value)] = value.copy(order="K")  # (as ndarray.__deepcopy__)
            else:
                fields[name] = copy.deepcopy(value, memo)
        return out

    @abstractmethod
    def predict(self, t_s: float) -> None: ...

    @abstractmethod
    def update(self, sensor_pos_m, los, sigma_rad: float) -> float:
        """Apply one LOS; returns its normalised innovation squared (χ², 2 dof)."""

    @abstractmethod
    def state_at(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Predicted ``(x, P)`` at ``t_s`` without changing the filter."""

    def ray_misses(self, times: np.ndarray, pos: np.ndarray, los: np.ndarray, sigma: np.ndarray) -> float:
        """Mean normalised miss² of rays (``times`` (K,) s, sensor ``pos`` (K, 3) m, unit ``los`` (K, 3), ``sigma``
        (K,) rad) to the predicted positions, with the ray noise ``σρ`` and the position variance per axis
        (``trace/3``); half the miss² per ray (two axes). Default: :meth:`state_at` per ray."""
        total = 0.0
        for k in range(len(times)):
            x, cov = self.state_at(float(times[k]))
            d = x[:3] - pos[k]
            rho = d @ los[k]
            perp = d - rho * los[k]
            var = (sigma[k] * rho) ** 2 + np.trace(cov[:3, :3]) / 3
            total += perp @ perp / var / 2
        return total / len(times)


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
        rays = TangentRays(np.asarray(times, float), np.asarray(pos, float), e1, e2, np.asarray(sigma, float))
        self.x, self.P, self.t, accepted = _ekf_sequence(
            self.x, self.P, self.t, float(self.q), rays, tuning(nis_max)
        )
        return accepted

    def state_at(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Predicted ``(x, P)`` at ``t_s`` without changing the filter."""
        return ekf_predict(self.x, self.P, float(t_s) - self.t, float(self.q))

    def ray_misses(self, times: np.ndarray, pos: np.ndarray, los: np.ndarray, sigma: np.ndarray) -> float:
        """See :meth:`BoostFilter.ray_misses`: one compiled call (:func:`_ray_misses`)."""
        return _ray_misses(self.x, self.P, self.t, float(self.q), times, pos, los, sigma)

    def position_at(self, t_s) -> np.ndarray:
        """Predicted position (m) ``(T, 3)`` at times ``t_s`` (no covariance)."""
        dt = np.atleast_1d(np.asarray(t_s, dtype=float)) - self.t
        return self.x[:3] + dt[:, None] * self.x[3:6] + 0.5 * dt[:, None] ** 2 * self.x[6:]


@numba.njit(cache=True)
def _ray_misses(x0, p0, t0, q, t, p, u, sigma):
    """:meth:`LosExtendedKalmanFilter.ray_misses` (state ``x0``, covariance ``p0`` at ``t0``, jerk PSD ``q``) of rays
    ``(t, p, u, sigma)``: :func:`ekf_predict` per ray, compiled."""
    total = 0.0
    for k in range(t.size):
        x, cov = ekf_predict(x0, p0, t[k] - t0, q)
        d0, d1, d2 = x[0] - p[k, 0], x[1] - p[k, 1], x[2] - p[k, 2]
        rho = d0 * u[k, 0] + d1 * u[k, 1] + d2 * u[k, 2]
        e0, e1, e2 = d0 - rho * u[k, 0], d1 - rho * u[k, 1], d2 - rho * u[k, 2]
        var = (sigma[k] * rho) ** 2 + (cov[0, 0] + cov[1, 1] + cov[2, 2]) / 3
        total += (e0 * e0 + e1 * e1 + e2 * e2) / var / 2
    return total / t.size
