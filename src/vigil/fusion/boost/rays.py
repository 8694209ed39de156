"""Line-of-sight detections as the boost filter's compiled kernels take them: named columns, one row per ray."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class LosRays(NamedTuple):
    """Time-ordered LOS detections: ``N`` rays from sensors."""

    time_s: np.ndarray  # (N,) detection time, s
    pos: np.ndarray  # (N, 3) sensor position (ECEF), m
    los: np.ndarray  # (N, 3) unit line of sight (ECEF)
    sigma: np.ndarray  # (N,) LOS noise per axis, rad


class TangentRays(NamedTuple):
    """:class:`LosRays` with each LOS as the tangent basis ``(e1, e2)`` of its measurement plane
    (:func:`~vigil.fusion.geometry.triangulate.tangent_basis`), the form the update takes."""

    time_s: np.ndarray  # (N,) s
    pos: np.ndarray  # (N, 3) m
    e1: np.ndarray  # (N, 3) unit, ⟂ LOS
    e2: np.ndarray  # (N, 3) unit, ⟂ LOS and e1
    sigma: np.ndarray  # (N,) rad
