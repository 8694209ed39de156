"""Per-sensor 2-D strings: consecutive detections of one object by one sensor.

A plume seen from GEO moves slowly across the focal plane (≲ 0.3 mrad/s for 7 km/s at 36 000 km), while
false alarms (~0.01 per frame spread over the ~0.07 sr Earth disk) almost never fall inside the small
gate around a string's predicted line of sight: the chance per frame is ~0.01·π·gate²/0.07 ≈ 1e-6 for a
0.5 mrad gate, so clutter rarely forms strings of ≥ 3. Detections are linked frame by frame with a
global assignment (:func:`scipy.optimize.linear_sum_assignment`) so that crossing plumes of a salvo keep
their identity.

This module links; the string itself is :mod:`~vigil.fusion.strings.sensorstring`, the stringer's storage of all its
strings :mod:`~vigil.fusion.strings.stringpool`, the compiled costs and components :mod:`~vigil.fusion.strings.linkcost`, a
chunk's sensor frames :mod:`~vigil.fusion.strings.chunkframes`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from vigil.fusion.strings.base import MAX_GAP_S, LosPredictor, Prediction, Stringer
from vigil.fusion.strings.chunkframes import (  # noqa: F401 (sensor_frames, sensor_codes: re-exported)
    ChunkArrays,
    cumulative_stops,
    frame_table,
    sensor_codes,
    sensor_frames,
)
from vigil.fusion.strings.linkcost import (  # noqa: F401 (FORBIDDEN, PREDICTED_NIS_GATE: re-exported for the stringer's users)
    FORBIDDEN,
    GATE_SIGMAS,
    MAX_ANGULAR_ACCEL_RAD_S2,
    MAX_ANGULAR_RATE_RAD_S,
    PREDICTED_NIS_GATE,
    PREDICTION_SIGMA_GROWTH,
    Predicted,
    extrapolated_los,
    frame_costs,
    link_costs,
    segment_links,
    solve_components,
)
from vigil.fusion.strings.linkstep import forget_stale, link_placements, open_heads
from vigil.fusion.strings.poolarrays import chunk_rows
from vigil.fusion.strings.sensorstring import INITIAL_CAPACITY, MIN_CONFIRMED, SensorString, interpolate_rays  # noqa: F401 (re-exported)
from vigil.fusion.strings.stringpool import POOL_BLOCK, StringPool


def _predictions(strings: list[SensorString], t: float) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`SensorString.predict_los` and :meth:`SensorString.gate_rad` of many strings at once
    (``(S, 3)``, ``(S,)``), from each string's last two detections."""
    rows = [(s, k) for s in strings for k in (max(s.count - 2, 0), s.count - 1)]
    pt = np.array([s.t_rows[k] for s, k in rows])
    pu = np.array([s.u_rows[k] for s, k in rows]).reshape(-1, 3)
    ps = np.array([s.s_rows[k] for s, k in rows])
    n = np.array([min(s.count, 2) for s in strings], dtype=np.int64)  # string j: rows 2j (and 2j + 1)
    a = np.arange(0, 2 * len(strings), 2) + (n == 1)
    return extrapolated_los(pt, pu, ps, a, n, np.arange(len(strings)), float(t))


def link_cost(
    strings: list[SensorString], t: float, los, sigma, predictor: LosPredictor | None = None, sensor_pos=None
) -> np.ndarray:
    """``(D, S)`` cost of linking detections (unit ``los`` ``(D, 3)``, noise ``sigma`` ``(D,)``) to strings at
    ``t``: the negative log-likelihood ``NIS + ln det(S/σ²)`` of the detection under each string's predicted
    LOS (covariance ``S``), :data:`FORBIDDEN` outside the gate. The determinant term makes a stale string
    with a wide gate lose a detection to a fresh string that predicts it well (the plain normalised angle
    favoured the wide gate). Own extrapolation: isotropic ``S = (gate/6)²``, gated at 6σ; a ``predictor``
    (a :class:`LosPredictor`, called with the strings' ids, ``t`` and ``sensor_pos`` (3,) m)
    replaces it, gated at :data:`PREDICTED_NIS_GATE`. One compiled call (:func:`~vigil.fusion.strings.linkcost._cost_kernel`)."""
    u, gate = _predictions(strings, t)
    ids = np.array([s.string_id for s in strings], dtype=np.int64)
    predicted = predictor(ids, t, sensor_pos) if predictor is not None else None
    return link_costs(u, gate, los, sigma, predicted)


_NO_IDS = np.zeros(0, dtype=np.int64)
_NOT_OPEN: tuple[np.ndarray, list[SensorString]] = (
    _NO_IDS,
    [],
)  # (a sensor's open strings before its first frame; never modified)


def _segment_predicted(predictor: LosPredictor | None, sids, sid_stops, st, spos) -> Prediction:
    """``predictor``'s :meth:`LosPredictor.frames` of several frames' strings as the compiled cost takes them
    (frame ``f`` has strings ``sids[sid_stops[f]:sid_stops[f + 1]]``; string ``j``'s frame time ``st[j]``, its sensor
    position ``spos[j]``): full-size arrays, the mask off everywhere without a predictor."""
    if predictor is None:
        n = sids.size
        return np.zeros(n, dtype=np.bool_), np.zeros((n, 3)), np.zeros((n, 3, 3))
    mask, up, cov = predictor.frames(sids, sid_stops, st, spos)
    return (
        np.asarray(mask, dtype=np.bool_),
        np.ascontiguousarray(up, dtype=float),
        np.ascontiguousarray(cov, dtype=float),
    )


class GatedAssignmentStringer(Stringer):
    """Link each sensor frame's detections to open strings by angular distance to the predicted LOS.

    Cost is the angle to :meth:`SensorString.predict_los`; pairs outside :meth:`SensorString.gate_rad`
    are forbidden; the frame is solved by global assignment. Unlinked detections open new strings. Frames of
    different sensors do not interact: consecutive frames of distinct sensors (a chunk's, usually) are linked
    together, with one compiled call for their predictions, in-gate costs and components of the assignment
    (:func:`~vigil.fusion.strings.linkcost.segment_links`), and one compiled append of all their detections to the
    strings' blocks of the :class:`StringPool` (no Python call per detection but the scalar caches).
    """

    def __init__(self, max_gap_s: float = MAX_GAP_S) -> None:
        self.max_gap_s = max_gap_s
        self.strings: dict[int, SensorString] = {}
        self._open: dict[str, tuple[np.ndarray, list[SensorString]]] = {}  # sensor -> (ids, strings) in order
        self._ids = itertools.count(1)
        self._pool = StringPool(self._held)
        self._stamp = 0  # updates so far (strings appended to in this one are stamped with it)
        # the last update's appends, in order: string ids (R,) and rows (R,) of its arrays
        self._appends: tuple[np.ndarray, np.ndarray] = (_NO_IDS, _NO_IDS)
        self._changed_ids = _NO_IDS  # ids of the strings the last update returned, in that order

    def changed_ids(self, changed: list[SensorString]) -> np.ndarray:
        """See :meth:`Stringer.changed_ids` (kept by the last update)."""
        ids = self._changed_ids
        return ids if len(ids) == len(changed) else super().changed_ids(changed)

    def appended(
        self, obs_id: np.ndarray, changed: list[SensorString], recent: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """See :meth:`Stringer.appended` (kept by the last update: every append, not only the last ``recent``)."""
        return self._appends

    @property
    def rejections(self) -> np.ndarray:
        """String id -> :attr:`SensorString.rejections` (the pool's array: read and write it at once, before
        strings are made)."""
        return self._pool.rej

    @property
    def pool(self) -> StringPool:
        """See :attr:`Stringer.pool` (every string's detections are a block of it)."""
        return self._pool

    def _held(self) -> Iterator[SensorString]:
        """Strings whose detections must be kept: the known ones and the open ones (a pruned string may stay
        open until its sensor's next frame)."""
        yield from self.strings.values()
        for _, group in self._open.values():
            yield from group

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
        """See :meth:`Stringer.update`. ``predictor`` (optional, a :class:`LosPredictor`: the engine passes its
        events' filters) predicts the LOS of the strings open in a frame better than the strings' own
        extrapolation (:meth:`LosPredictor.frames` of a segment's frames at once). The strings are returned in the order they were first appended to in this
        update (frames by key, then sensor; the filter stage takes their rows in that order)."""
        self._appends = (_NO_IDS, _NO_IDS)
        self._changed_ids = _NO_IDS
        frame_key = np.asarray(time_s if frame_key is None else frame_key)
        if not frame_key.size:
            return []
        order, starts, sensors = frame_table(np.asarray(sensor_id), frame_key, sensor_code)
        chunk = ChunkArrays(index, time_s, pos, los, sigma)
        self._stamp += 1
        log: tuple[list, list, list, list] = (
            [],
            [],
            [],
            [],
        )  # string ids and rows of every append; strings in the order first appended to, ids
        partners = np.asarray(partner_id)[order[starts[:-1]]].tolist()
        lo, seen = 0, set[str]()  # frames lo.. of distinct sensors: independent, linked together
        for f, sensor in enumerate(sensors):
            if sensor in seen:
                self._link_segment(
                    chunk, order, starts[lo : f + 1], sensors[lo:f], partners[lo:f], predictor, log
                )
                lo, seen = f, set()
            seen.add(sensor)
        self._link_segment(chunk, order, starts[lo:], sensors[lo:], partners[lo:], predictor, log)
        self._appends = (np.concatenate(log[0]), np.concatenate(log[1]))
        self._changed_ids = np.concatenate(log[3])
        return log[2]

    def _open_columns(self, chunk, rows, row_stops, sensors):
        """Per frame (rows ``rows[row_stops[f]:row_stops[f + 1]]`` of sensor ``sensors[f]``) the sensor's open
        strings still alive ``(ids, group)``, and :func:`open_heads`' ``sids, cols, sid_stops, ts, st, spos`` (the
        strings each frame may extend, their frames' times and sensor positions). Ages and columns in one compiled
        call."""
        opened = [self._open.get(sensor, _NOT_OPEN) for sensor in sensors]
        ids_all = np.concatenate([o[0] for o in opened])
        id_stops = cumulative_stops(o[0].size for o in opened)
        alive, n_dead, *columns = open_heads(
            self._pool.last, ids_all, id_stops, chunk.t, chunk.pos, rows, row_stops, self.max_gap_s
        )
        heads = opened
        for f, dead in enumerate(n_dead.tolist()):
            if dead:
                ids, group = opened[f]
                keep = alive[id_stops[f] : id_stops[f + 1]]
                heads[f] = ids[keep], list(itertools.compress(group, keep.tolist()))
        return heads, columns

    def _link_segment(self, chunk, order, stops, sensors, partners, predictor, log) -> None:
        """Link consecutive sensor frames of distinct sensors (frame ``f``: rows ``order[stops[f]:stops[f + 1]]``
        of the chunk, of ``sensors[f]`` and ``partners[f]``; frames of different sensors do not interact) to their
        sensors' open strings: one predictor call, one compiled call for all frames' costs and components
        (:func:`~vigil.fusion.strings.linkcost.segment_links`; the solver only for a frame whose components need it), new
        strings for the rest (ids in frame order), and one compiled append of every detection. Appends ``(string
        ids, rows)`` of every detection placed to ``log``'s first two lists, frame by frame (linked, then new), and
        the strings first appended to in this update and their ids to the last two."""
        pool = self._pool
        first = int(stops[0])
        rows, row_stops = order[first : stops[-1]], stops - first if first else stops
        heads, (sids, all_cols, sid_stops, ts, st, spos) = self._open_columns(chunk, rows, row_stops, sensors)
        mask, up, cov = _segment_predicted(predictor, sids, sid_stops, st, spos)
        ri, ci, pair_stops, n_multi, edges, edge_stops, label = segment_links(
            pool.rows(),
            pool.blocks(),
            sids,
            sid_stops,
            ts,
            chunk_rows(chunk),
            rows,
            row_stops,
            Predicted(mask, up, cov),
        )
        if n_multi.any():  # (rare) components for the solver: their frames' pairs replaced
            pairs = []
            for f, multi in enumerate(n_multi.tolist()):
                r, c = ri[pair_stops[f] : pair_stops[f + 1]], ci[pair_stops[f] : pair_stops[f + 1]]
                if multi:
                    e = slice(edge_stops[f], edge_stops[f + 1])
                    edge_i, edge_j, edge_c = (a[e] for a in edges)
                    r, c = solve_components(
                        edge_i, edge_j, edge_c, r, c, label[row_stops[f] : row_stops[f + 1]], multi
                    )
                pairs.append((r, c))
            ri, ci = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
            pair_stops = cumulative_stops(p[0].size for p in pairs)
        app_rows, app_ids, app_pos, n_linked = link_placements(
            ri, ci, pair_stops, rows, row_stops, sids, all_cols, sid_stops
        )
        app_strings, created = self._place_frames(
            sensors, partners, heads, row_stops, n_linked, app_ids, app_pos
        )
        log[0].append(app_ids)
        log[1].append(app_rows)
        fresh, fresh_ids = pool.scatter(app_ids, app_strings, app_rows, chunk, self._stamp)
        log[2].extend(fresh)
        log[3].append(fresh_ids)
        for s in created:
            s.first_time = s.last_time

    def _place_frames(self, sensors, partners, heads, row_stops, n_linked, app_ids, app_pos):
        """The Python part of placing a segment's detections (:func:`link_placements`' order): per frame, the strings
        of its linked detections, and new strings (ids in frame order; written to ``app_ids``) for the rest,
        which join the sensor's open strings. Returns the strings of every placement, and the new ones."""
        app_strings, created = [], []
        pos = app_pos.tolist()
        stops = row_stops.tolist()
        for f, (sensor, (ids, group), linked) in enumerate(
            zip(sensors, heads, n_linked.tolist(), strict=True)
        ):
            k, hi = stops[f] + linked, stops[f + 1]
            app_strings.extend(map(group.__getitem__, pos[stops[f] : k]))
            if k < hi:
                new_ids = list(itertools.islice(self._ids, hi - k))
                strings = self._pool.new_strings(new_ids, sensor, str(partners[f]))
                self.strings.update(zip(new_ids, strings, strict=True))  # held before any reallocation
                new_ids = np.asarray(new_ids, dtype=np.int64)
                app_ids[k:hi] = new_ids
                app_strings.extend(strings)
                created.extend(strings)
                ids, group = np.concatenate([ids, new_ids]), group + strings
            self._open[sensor] = (ids, group)
        return app_strings, created

    def split(self, s: SensorString, k: int) -> SensorString:
        """Cut ``s`` before its ``k``-th detection: ``s`` keeps the head and is closed; the tail becomes a new
        open string (returned). Used when the owning event's filter rejects the tail (a swapped string)."""
        tail = self._pool.new_strings([next(self._ids)], s.sensor_id, s.partner_id)[0]
        self.strings[tail.string_id] = tail  # held before any reallocation below
        m = len(s) - k
        if m > POOL_BLOCK:
            self._pool.move(tail, m)
        for name in ("t_rows", "p_rows", "u_rows", "s_rows", "i_rows"):
            getattr(tail, name)[:m] = getattr(s, name)[k : k + m]
        tail.set_count(m)
        s.truncate(k)
        s.rejections = 0
        ids, group = self._open.get(s.sensor_id, (_NO_IDS, []))
        keep = ids != s.string_id
        self._open[s.sensor_id] = (
            np.r_[ids[keep], tail.string_id],
            [o for o in group if o is not s] + [tail],
        )
        return tail

    def prune(self, now_s: float) -> None:
        """Forget unconfirmed strings that can no longer grow (keeps memory bounded on long runs)."""
        pool = self._pool
        for k in forget_stale(
            pool.known, pool.n, pool.last, float(now_s), float(self.max_gap_s), MIN_CONFIRMED
        ).tolist():
            del self.strings[k]

    def confirmed_ids(self) -> np.ndarray:
        """Ids of the confirmed strings in :attr:`strings`, ascending (their order there: ids grow)."""
        return self.long_ids(MIN_CONFIRMED)

    def long_ids(self, min_detections: int) -> np.ndarray:
        """Ids of the strings in :attr:`strings` with at least ``min_detections`` detections, ascending."""
        pool = self._pool
        return np.flatnonzero(pool.known & (pool.n >= min_detections))
