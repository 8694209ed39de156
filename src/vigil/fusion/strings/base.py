"""The bases of the string stage: :class:`Stringer` (string builders) and :class:`LosPredictor` (the LOS
predictions a stringer may gate strings on instead of their own extrapolation).

The engine uses a stringer only through :class:`Stringer`; the gated-assignment linker is
:mod:`vigil.fusion.strings.stringer`, the engine's predictor :class:`~vigil.fusion.events.gating.FilterLosPredictor`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from vigil.fusion.strings.sensorstring import SensorString
from vigil.fusion.strings.stringpool import StringPool

MAX_GAP_S = 20.0  # a string survives missed detections (and staging) for this long


Prediction = tuple[
    np.ndarray, np.ndarray, np.ndarray
]  # (mask (S,), unit LOS (S, 3), angular covariance (S, 3, 3))


class LosPredictor(ABC):
    """Base of the LOS predictions a stringer gates strings on instead of their own two-point extrapolation (the
    engine's: its events' filters, :class:`~vigil.fusion.events.gating.FilterLosPredictor`).

    :meth:`__call__` predicts one sensor frame's strings; :meth:`frames` several frames' at once, by default one
    call per frame (a predictor that can do them in one pass overrides it)."""

    @abstractmethod
    def __call__(self, ids: np.ndarray, t: float, sensor_pos: np.ndarray) -> Prediction | None:
        """For the strings ``ids`` (int array) open in a frame at ``t`` (s) of a sensor at ``sensor_pos`` (3,) m:
        ``(mask (S,), u (S, 3), cov (S, 3, 3))`` — for the strings where ``mask`` is set, the predicted unit LOS and
        its angular covariance (rad², measurement noise excluded); None (or a None mask): no prediction."""

    def frames(self, ids: np.ndarray, stops: np.ndarray, t: np.ndarray, sensor_pos: np.ndarray) -> Prediction:
        """:meth:`__call__` of several frames' strings: frame ``f`` has strings ``ids[stops[f]:stops[f + 1]]``;
        string ``j``'s frame time is ``t[j]``, its sensor position ``sensor_pos[j]``. Full-size arrays (the mask
        off where there is no prediction). Default: one call per frame."""
        n = ids.size
        mask, up, cov = np.zeros(n, dtype=np.bool_), np.zeros((n, 3)), np.zeros((n, 3, 3))
        bounds = stops.tolist()
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            if hi <= lo:
                continue
            out = self(ids[lo:hi], float(t[lo]), sensor_pos[lo])
            if out is None or out[0] is None:
                continue
            m = np.asarray(out[0], dtype=np.bool_)
            mask[lo:hi] = m
            if m.any():
                up[lo:hi], cov[lo:hi] = out[1], out[2]
        return mask, up, cov


class Stringer(ABC):
    """Base of string builders: consume detections frame by frame, keep the strings.

    The engine uses :attr:`strings`, :meth:`update`, :meth:`split` and :meth:`prune`; the array views
    (:meth:`changed_ids`, :meth:`appended`, :attr:`rejections`, :meth:`confirmed_ids`, :meth:`long_ids`)
    have defaults from :attr:`strings` that a stringer with arrays of its own overrides."""

    strings: dict[int, SensorString]  # string id -> string, in the stringer's order
    max_gap_s: float = MAX_GAP_S  # a string survives missed detections (and staging) for this long (s)

    @abstractmethod
    def update(
        self,
        index,
        sensor_id,
        partner_id,
        time_s,
        pos,
        los,
        sigma,
        frame_key=None,
        predictor: LosPredictor | None = None,
        sensor_code=None,
    ) -> list[SensorString]:
        """Add detections (parallel arrays of one chunk); return the strings that changed.

        ``frame_key`` (optional, parallel) groups detections into one sensor frame (default: ``time_s``; the
        engine passes the reception time, since light-time-corrected times differ within a frame).
        ``sensor_code`` (optional): :func:`sensor_codes` of ``sensor_id`` (the engine's, computed per batch)."""

    @abstractmethod
    def split(self, s: SensorString, k: int) -> SensorString:
        """Cut ``s`` before its ``k``-th detection; return the tail, a new open string."""

    @abstractmethod
    def prune(self, now_s: float) -> None:
        """Forget strings that can no longer grow."""

    def changed_ids(self, changed: list[SensorString]) -> np.ndarray:
        """The ids of ``changed`` (the last :meth:`update`'s return), in that order."""
        return np.array([s.string_id for s in changed], dtype=np.int64)

    def appended(
        self, obs_id: np.ndarray, changed: list[SensorString], recent: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The last :meth:`update`'s appends in append order: string ids and rows of its arrays (``obs_id``: the
        chunk's). Default: each changed string's last ``recent`` detections found among ``obs_id``."""
        index = {int(i): k for k, i in enumerate(obs_id)}
        pairs = [
            (s.string_id, index[i]) for s in changed for i in s.obs_index[-recent:].tolist() if i in index
        ]
        return np.array([p[0] for p in pairs], dtype=np.int64), np.array(
            [p[1] for p in pairs], dtype=np.int64
        )

    @property
    def rejections(self) -> np.ndarray | None:
        """String id -> :attr:`SensorString.rejections` as one array, read and written in place; None (the
        default): the counts live on the strings only."""
        return None

    @property
    def pool(self) -> StringPool | None:
        """The shared arrays of the strings' detections where the stringer keeps them (late rows are placed in
        known strings there: :mod:`~vigil.fusion.oosm.retrodict`); None (the default): late rows are re-processed."""
        return None

    def confirmed_ids(self) -> np.ndarray:
        """Ids of the confirmed strings in :attr:`strings`, in its order."""
        return np.array([k for k, s in self.strings.items() if s.confirmed], dtype=np.int64)

    def long_ids(self, min_detections: int) -> np.ndarray:
        """Ids of the strings in :attr:`strings` with at least ``min_detections`` detections, in its order."""
        return np.array([k for k, s in self.strings.items() if len(s) >= min_detections], dtype=np.int64)
