"""The launch back-fit's compiled arguments as named structures: the window's detections, the objective, the
blocked detections with their scratch, and the fit's iteration controls.

Named fields (:class:`typing.NamedTuple`, which numba takes as one argument and reads field by field at no
cost) for the kernels of :mod:`~vigil.fusion.launch.ascentnormal` and :mod:`~vigil.fusion.launch.ascentfit`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Detections(NamedTuple):
    """The fitted window's ``N`` LOS detections, each measured LOS as the tangent basis ``(e1, e2)`` of its
    measurement plane (:func:`~vigil.fusion.geometry.triangulate.tangent_basis`), the form the residuals take."""

    t: np.ndarray  # (N,) detection (emission) time, s
    pos: np.ndarray  # (N, 3) sensor position (ECEF), m
    e1: np.ndarray  # (N, 3) unit, ⟂ measured LOS
    e2: np.ndarray  # (N, 3) unit, ⟂ measured LOS and e1
    w: np.ndarray  # (N,) weight 1/σ² of both axes, 1/rad²


class Objective(NamedTuple):
    """What the χ² is of: the ascent model's shape (:class:`~vigil.fusion.launch.ascentmodel.AscentModel`,
    ``φ = (lat, lon, t_L, az, h_2..h_d, s_k0..s_d)``) and the Gaussian prior on the launch time ``t_L``."""

    degree: int  # d: highest power of τ in h(τ) and s(τ)
    k0: int  # first power of τ in s(τ): 3 for a vertical liftoff, else 2
    prior_t: float  # prior mean of t_L, s
    prior_w: float  # prior weight 1/σ², 1/s² (0: no prior)


class Blocks(NamedTuple):
    """The window's detections in blocks (:func:`~vigil.fusion.launch.ascentnormal.blocked_data`) and the
    kernels' scratch for them (:func:`~vigil.fusion.launch.ascentnormal.workspace`)."""

    n: int  # detections (the last block's padding excluded)
    data: np.ndarray  # (blocks, DATA_ROWS, BLOCK): one quantity per row
    ws: np.ndarray  # (blocks, scratch rows, BLOCK): residual terms, gradients, Jacobian


class FitControls(NamedTuple):
    """When the back-fit's two stages stop (:func:`~vigil.fusion.launch.ascentfit.backfit`)."""

    lm_iterations: int  # Levenberg–Marquardt iterations at most
    polish_steps: int  # Gauss–Newton polishing steps at most
    polish_tol: float  # polishing stops when χ² improves by less than this


class PadFrame(NamedTuple):
    """The pad's frame at ``φ`` in scalars (:func:`~vigil.fusion.launch.ascentnormal.pad_up_along`): ECEF
    components, in scalars so that the residual loops' loads need no alias check."""

    pad_x: float  # pad position (WGS84 surface point under lat, lon), m
    pad_y: float
    pad_z: float
    up_x: float  # local vertical (unit)
    up_y: float
    up_z: float
    along_x: float  # along-track unit: sin az·east + cos az·north
    along_y: float
    along_z: float
