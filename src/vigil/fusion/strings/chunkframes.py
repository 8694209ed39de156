"""A chunk's sensor frames: its detections grouped by frame (reception time) and sensor, on integer sensor codes.

The stringer links one sensor frame at a time (:mod:`~vigil.fusion.strings.stringer`); the engine codes the sensors once
per batch (:func:`sensor_codes`) so that a chunk's frames are found by one compiled pass on integers.
"""

from __future__ import annotations

import itertools

import numba
import numpy as np


def sensor_codes(sensor_id) -> tuple[np.ndarray, list[str]]:
    """``(code (N,), names)``: each row's sensor as an index into the sorted names (a dict of the few names:
    ~10× faster than :func:`numpy.unique` on an object array of distinct str). The engine computes it once per
    batch so that a chunk's frames are found on integers (comparing str objects was most of :func:`sensor_frames`)."""
    values = sensor_id.tolist() if isinstance(sensor_id, np.ndarray) else list(sensor_id)
    values = values if not values or isinstance(values[0], str) else [str(v) for v in values]
    names = sorted(set(values))
    number = {name: k for k, name in enumerate(names)}
    return np.fromiter(map(number.__getitem__, values), dtype=np.int64, count=len(values)), names


def cumulative_stops(sizes) -> np.ndarray:
    """``[0, cumulative sums of sizes]`` (int64; a few sizes: faster in Python than :func:`numpy.cumsum`)."""
    return np.array([0, *itertools.accumulate(sizes)], dtype=np.int64)


def sensor_frames(
    sensor_id: np.ndarray, frame_key: np.ndarray, sensor_code=None
) -> tuple[np.ndarray, list[int], list[str]]:
    """A chunk's sensor frames, by key then sensor name: ``(order, starts, sensors)`` — frame ``f`` is rows
    ``order[starts[f]:starts[f + 1]]`` of sensor ``sensors[f]``. ``sensor_code``: the rows' :func:`sensor_codes`
    (computed here if None). One compiled call (:func:`_frame_starts`) on the integer codes."""
    order, starts, sensors = frame_table(sensor_id, frame_key, sensor_code)
    return order, starts.tolist(), sensors


def frame_table(sensor_id, frame_key, sensor_code):
    """:func:`sensor_frames` with ``starts`` as an array (the stringer slices it per segment of frames)."""
    code, names = sensor_codes(sensor_id) if sensor_code is None else sensor_code
    order, starts, first = _frame_starts(
        np.ascontiguousarray(code, dtype=np.int64), np.ascontiguousarray(frame_key, dtype=float)
    )
    return order, starts, [names[k] for k in first.tolist()]


@numba.njit(cache=True)
def _frame_starts(code, key):
    """Body of :func:`sensor_frames`: rows ``order`` by key then code (stably: as :func:`numpy.lexsort`; the common
    chunk, already in that order, is not sorted), the frames' starts (and the end) and each frame's code."""
    n = key.size
    ordered = True
    for k in range(n):  # (a NaN key: sorted, last, as lexsort puts it)
        if key[k] != key[k] or (
            k and (key[k] < key[k - 1] or (key[k] == key[k - 1] and code[k] < code[k - 1]))
        ):
            ordered = False
            break
    if ordered:
        order = np.arange(n)
    else:
        order = np.argsort(code, kind="mergesort")
        order = order[np.argsort(key[order], kind="mergesort")]
    starts = np.empty(n + 1, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    m = 0
    for k in range(n):
        r = order[k]
        if k == 0 or code[r] != code[order[k - 1]] or key[r] != key[order[k - 1]]:
            starts[m] = k
            first[m] = code[r]
            m += 1
    starts[m] = n
    return order, starts[: m + 1], first[:m]


class ChunkArrays:
    """One update's detection arrays (contiguous, as the compiled scatter and cost take them)."""

    __slots__ = ("index", "t", "pos", "los", "sigma")

    def __init__(self, index, time_s, pos, los, sigma) -> None:
        self.index = np.ascontiguousarray(index, dtype=np.int64)
        self.t = np.ascontiguousarray(time_s, dtype=float)
        self.pos = np.ascontiguousarray(pos, dtype=float)
        self.los = np.ascontiguousarray(los, dtype=float)
        self.sigma = np.ascontiguousarray(sigma, dtype=float)
