"""The rays of one instant and the work buffers of their compiled triangulation
(:func:`~vigil.fusion.association.associate._triangulate_one`), as named arguments."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Rays(NamedTuple):
    """Rays to triangulate, one per row (a caller's buffer: only its first rows may be in use)."""

    pos: np.ndarray  # (R, 3) sensor position (ECEF), m
    los: np.ndarray  # (R, 3) unit line of sight (ECEF)
    sigma: np.ndarray  # (R,) LOS noise, rad


class SolveWork(NamedTuple):
    """Work buffers of the iterated weighted least-squares point of rays (reused for every instant)."""

    rng: np.ndarray  # (R,) range along each ray, m
    a: np.ndarray  # (3, 3) normal matrix
    b: np.ndarray  # (3,) right-hand side
    lu: np.ndarray  # (3, 3) LU factors of the solve
    ipiv: np.ndarray  # (3,) its pivots (:func:`vigil.fusion.geometry.lapack.pivots`)
