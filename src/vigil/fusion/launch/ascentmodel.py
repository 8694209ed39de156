"""The planar from-rest ascent model of the launch back-fit: position, analytic Jacobian and information.

``r = r_g(lat, lon) + h(τ)·up + s(τ)·(sin az·east + cos az·north)``, ``τ = t − t_L`` (docs/fusion.md, step 6);
fitted by :mod:`vigil.fusion.launch.backfit` (compiled: :mod:`~vigil.fusion.launch.ascentnormal`,
:mod:`~vigil.fusion.launch.ascentfit`), bounded by :func:`vigil.fusion.bounds.crlb.launch_crlb` with the same
:func:`information`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vigil.frames import WGS84_A_M, WGS84_E2, enu_basis, geodetic_to_ecef
from vigil.fusion.geometry.polytrack import los_residuals


@dataclass(frozen=True)
class AscentModel:
    """From-rest planar ascent: ``r = r_g + h(τ)·up + s(τ)·(sin az·east + cos az·north)``.

    ``φ = (lat, lon, t_L, az, h_2..h_d, s_m..s_d)`` with ``h, s`` polynomials ``Σ c_k τ^k/k!`` starting
    from rest (no constant or linear term); ``m = 3`` when ``vertical_liftoff`` (no horizontal acceleration
    at liftoff: the vertical rise), else 2. The launch plane neglects the Coriolis drift of the ground track
    over the fitted window (< 0.1 km over 100 s at 2 km/s). ``t_last`` ends the fitted data.
    """

    degree: int
    t_last: float
    vertical_liftoff: bool = True

    def resized(self, phi) -> np.ndarray:
        """An earlier fit's parameters for this model (a cubic's grown to a quartic with zero new terms)."""
        phi = np.asarray(phi, dtype=float)
        old_degree = (phi.size - 1) // 2  # size = 4 + (d-1) + (d-2) for a vertical liftoff
        if old_degree == self.degree:
            return phi.copy()
        nh_old = old_degree - 1
        h = np.zeros(self.degree - 1)
        s_ = np.zeros(self.degree - 2)
        h[:nh_old] = phi[4 : 4 + nh_old]
        s_[: old_degree - 2] = phi[4 + nh_old :]
        return np.concatenate([phi[:4], h, s_])

    @property
    def first_horizontal(self) -> int:
        return 3 if self.vertical_liftoff else 2

    @property
    def size(self) -> int:
        return 4 + (self.degree - 1) + (self.degree - self.first_horizontal + 1)

    def position(self, t_s, phi) -> np.ndarray:
        """ECEF position (m) ``(T, 3)`` (the pad before ``t_L``)."""
        tau = np.maximum(np.atleast_1d(np.asarray(t_s, dtype=float)) - phi[2], 0.0)
        nh = self.degree - 1
        h = sum(phi[4 + j] * tau ** (j + 2) / math.factorial(j + 2) for j in range(nh))
        s = sum(
            phi[4 + nh + j] * tau ** (k) / math.factorial(k)
            for j, k in enumerate(range(self.first_horizontal, self.degree + 1))
        )
        east, north, up = enu_basis(phi[0], phi[1])
        along = math.sin(phi[3]) * east + math.cos(phi[3]) * north
        return geodetic_to_ecef(phi[0], phi[1], 0.0) + np.outer(h, up) + np.outer(s, along)

    def jacobian(self, t_s, phi) -> np.ndarray:
        """``∂r/∂φ`` ``(T, 3, P)``, analytic (ENU basis derivatives: ∂up/∂lat = north, ∂up/∂lon = cos(lat)·east,
        ∂north/∂lat = -up, ∂north/∂lon = -sin(lat)·east, ∂east/∂lon = sin(lat)·north - cos(lat)·up)."""
        phi = np.asarray(phi, dtype=float)
        tau = np.maximum(np.atleast_1d(np.asarray(t_s, dtype=float)) - phi[2], 0.0)
        nh, k0 = self.degree - 1, self.first_horizontal
        hk = np.stack([tau ** (j + 2) / math.factorial(j + 2) for j in range(nh)], -1)
        sk = np.stack([tau**k / math.factorial(k) for k in range(k0, self.degree + 1)], -1)
        h_coef, s_coef = phi[4 : 4 + nh], phi[4 + nh :]
        h, s = hk @ h_coef, sk @ s_coef
        dh = np.stack([tau ** (j + 1) / math.factorial(j + 1) for j in range(nh)], -1) @ h_coef
        ds = (
            np.stack([tau ** (k - 1) / math.factorial(k - 1) for k in range(k0, self.degree + 1)], -1)
            @ s_coef
        )
        east, north, up = enu_basis(phi[0], phi[1])
        sl, cl, sa, ca = math.sin(phi[0]), math.cos(phi[0]), math.sin(phi[3]), math.cos(phi[3])
        along = sa * east + ca * north
        s2 = sl * sl
        n_rad = WGS84_A_M / math.sqrt(1 - WGS84_E2 * s2)
        m_rad = WGS84_A_M * (1 - WGS84_E2) / (1 - WGS84_E2 * s2) ** 1.5
        d_along_lat = -ca * up
        d_along_lon = sa * (sl * north - cl * up) - ca * sl * east
        out = np.empty((len(tau), 3, self.size))
        out[:, :, 0] = m_rad * north + np.outer(h, north) + np.outer(s, d_along_lat)
        out[:, :, 1] = n_rad * cl * east + np.outer(h, cl * east) + np.outer(s, d_along_lon)
        out[:, :, 2] = -(np.outer(dh, up) + np.outer(ds, along))
        out[:, :, 3] = np.outer(s, ca * east - sa * north)
        out[:, :, 4 : 4 + nh] = hk[:, None, :] * up[None, :, None]
        out[:, :, 4 + nh :] = sk[:, None, :] * along[None, :, None]
        return out

    def metric(self, phi) -> np.ndarray:
        """``(m per rad of lat, m per rad of lon)`` at ``φ``: converts the lat/lon covariance to m²."""
        s2 = math.sin(phi[0]) ** 2
        return np.array(
            [
                WGS84_A_M * (1 - WGS84_E2) / (1 - WGS84_E2 * s2) ** 1.5,
                WGS84_A_M / math.sqrt(1 - WGS84_E2 * s2) * math.cos(phi[0]),
            ]
        )


def information(model: AscentModel, phi, times, pos, sigma, los_meas=None) -> np.ndarray:
    """Fisher information of LOS detections w.r.t. ``φ`` (noise-free LOS when ``los_meas`` is None)."""
    r = model.position(times, phi)
    if los_meas is None:
        los_meas = (r - pos) / np.linalg.norm(r - pos, axis=-1, keepdims=True)
    _, h = los_residuals(r, model.jacobian(times, phi), pos, los_meas)
    w = np.concatenate([1.0 / np.asarray(sigma, dtype=float) ** 2] * 2)
    return h.T @ (w[:, None] * h)
