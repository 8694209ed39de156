"""The string pool's arrays as its compiled kernels take them: rows of detections, and per string id its block.

Named columns (:class:`typing.NamedTuple`, which numba takes as one argument and reads field by field at no
cost) for :func:`~vigil.fusion.strings.stringpool._scatter` and
:func:`~vigil.fusion.strings.linkcost.segment_links`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from vigil.fusion.strings.chunkframes import ChunkArrays


class DetectionRows(NamedTuple):
    """Detections, one row each: the pool's rows (every string's block) or one update's chunk."""

    time_s: np.ndarray  # (N,) detection time, s
    pos: np.ndarray  # (N, 3) sensor position (ECEF), m
    los: np.ndarray  # (N, 3) unit line of sight (ECEF)
    sigma: np.ndarray  # (N,) LOS noise per axis, rad
    batch_index: np.ndarray  # (N,) int64: the detection's row in its batch


class Blocks(NamedTuple):
    """Per string id, where its detections lie in the pool's :class:`DetectionRows`."""

    first: np.ndarray  # (S,) int64: first row of its block
    used: np.ndarray  # (S,) int64: rows in use (its detections)
    cap: np.ndarray  # (S,) int64: rows of its block
    last: np.ndarray  # (S,) time of its last detection, s
    stamp: np.ndarray  # (S,) int64: the update that last appended to it


def chunk_rows(chunk: ChunkArrays) -> DetectionRows:
    """The :class:`DetectionRows` of an update's chunk arrays."""
    return DetectionRows(chunk.t, chunk.pos, chunk.los, chunk.sigma, chunk.index)
