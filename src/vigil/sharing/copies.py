"""Received detections a node must not fuse: copies of detections it already holds, and rows of no named sensor.

A partner's releaser offers its node's own detections, but nothing stops a partner relaying others' — the
receiving node's own (echoed back), or a third partner's it received — nor two partners relaying the same one.
A copy is the same measurement: fused again it would count twice in every fit. The engine's duplicate key
(sensor, time and line of sight to 1 nrad, :mod:`vigil.fusion.oosm.buffer`) misses it, because each release re-snaps the
line of sight and the sensor position to its own grid, and the node renames a partner's sensor whose name clashes
with one of its own (names are unique only per partner).

A received row is a **copy** when the node holds a detection — its own, or one received earlier from any partner —
of a sensor of the same name at the same time (to 1 ms) whose sensor position and line of sight agree within the
two releases' grids (docs/sharing.md, "Precision"): each position axis within ``(p₁ + p₂)/2`` (a release snaps it
to a multiple of its ``precision_m``: error ≤ p/2), the line of sight within ``q₁ + q₂`` (each of its two grid
angles rounded to ``los_quantum_rad``: ≤ q/√2 of arc); own detections have ``p = q = 0``. Two satellites are never
inside one grid cell of each other at one instant, so two partners' satellites that share a name are kept apart.
A row without a ``sensor_id`` cannot be strung (a string is one sensor's frames): counted, not fused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

POSITION_SLACK_M = (
    1.0  # float slack on the position test (the grids are whole multiples of precision_m ≥ 1 m)
)
LOS_SLACK_RAD = 1e-7  # and on the line-of-sight test (10× the engine's duplicate key)


class CopyScreen:
    """Detections a node holds, by ``(sensor name, time in ms)``; :meth:`screen` keeps the received rows that are
    not copies of them. Times are seconds from the node's epoch; entries older than :meth:`prune`'s cut are
    dropped (a row that old is past the fusion's lag horizon anyway)."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, int], list[tuple[np.ndarray, np.ndarray, float, float]]] = {}

    def hold_own(
        self, sensor_id: Sequence[Any] | np.ndarray, time_s: np.ndarray, pos: np.ndarray, los: np.ndarray
    ) -> None:
        """Hold the node's own detections (exact: no grid)."""
        for name, t, p, u in zip(sensor_id, time_s, pos, los, strict=True):
            self._add(str(name), float(t), np.asarray(p, dtype=float), _unit(u), 0.0, 0.0)

    def screen(
        self,
        rows: Sequence[tuple[str, dict[str, Any]]],
        time_s: Sequence[float],
        precision_m: dict[str, float],
    ) -> tuple[list[int], list[int], list[int]]:
        """``(kept, copies, unnamed)``: indices into ``rows`` (``(sender, record)``; ``time_s`` its times from the
        node's epoch). Kept rows are held, so a later copy of one of them — in this call too — is a copy."""
        kept, copies, unnamed = [], [], []
        for i, ((sender, rec), t) in enumerate(zip(rows, time_s, strict=True)):
            name = rec.get("sensor_id")
            if not name:
                unnamed.append(i)
                continue
            pos, los = np.asarray(rec["sensor_pos_ecef_m"], dtype=float), _unit(rec["los_ecef"])
            p, q = float(precision_m.get(sender, 0.0)), float(rec.get("los_quantum_rad") or 0.0)
            if self._holds(str(name), float(t), pos, los, p, q):
                copies.append(i)
                continue
            self._add(str(name), float(t), pos, los, p, q)
            kept.append(i)
        return kept, copies, unnamed

    def prune(self, before_s: float) -> None:
        """Forget detections earlier than ``before_s``."""
        cut = _ms(before_s)
        for key in [k for k in self._held if k[1] < cut]:
            del self._held[key]

    def _holds(self, name: str, t: float, pos: np.ndarray, los: np.ndarray, p: float, q: float) -> bool:
        for pos2, los2, p2, q2 in self._held.get((name, _ms(t)), ()):
            if np.max(np.abs(pos - pos2)) > (p + p2) / 2.0 + POSITION_SLACK_M:
                continue
            if math.acos(min(1.0, float(los @ los2))) <= q + q2 + LOS_SLACK_RAD:
                return True
        return False

    def _add(self, name: str, t: float, pos: np.ndarray, los: np.ndarray, p: float, q: float) -> None:
        self._held.setdefault((name, _ms(t)), []).append((pos, los, p, q))


def _ms(t: float) -> int:
    return int(round(t * 1000.0))


def _unit(u: Any) -> np.ndarray:
    v = np.asarray(u, dtype=float)
    return v / np.linalg.norm(v)
