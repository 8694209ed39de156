"""The stringer's per-segment paths against the numpy forms they replaced: the open strings' heads with their
frames' times and sensor positions (was three numpy calls and two ``np.repeat``), the scatter's count of
fresh strings, and the per-frame predictor calls against the one per-string call; and the engine on the
:class:`~vigil.fusion.strings.stringer.Stringer` base's default views against the stringer's own arrays."""

import numpy as np
from fusion_truth import boost_truth, observe, sensors

from vigil.fusion import FusionEngine
from vigil.fusion.strings.base import LosPredictor, Stringer
from vigil.fusion.strings.poolarrays import Blocks, DetectionRows
from vigil.fusion.strings.stringer import (
    GatedAssignmentStringer,
    _segment_predicted,
    open_heads,
)
from vigil.fusion.strings.stringpool import _scatter
from vigil.records import ObservationBatch


def _plain_heads(last, ids, id_stops, ct, cpos, rows, row_stops, max_gap):
    """:func:`open_heads` written with numpy and Python lists (the form before it took the chunk arrays)."""
    ts = ct[rows[row_stops[:-1]]]
    alive = np.zeros(ids.size, dtype=bool)
    n_dead, sids, cols, counts = [], [], [], []
    for f, t in enumerate(ts.tolist()):
        k, dead, count = 0, 0, 0
        for e in range(id_stops[f], id_stops[f + 1]):
            age = last[ids[e]]
            alive[e] = t - age <= max_gap
            if not alive[e]:
                dead += 1
                continue
            if age < t:
                sids.append(ids[e])
                cols.append(k)
                count += 1
            k += 1
        n_dead.append(dead)
        counts.append(count)
    counts = np.array(counts, dtype=np.int64)
    return (
        alive,
        np.array(n_dead),
        np.array(sids, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.r_[0, np.cumsum(counts)],
        ts,
        np.repeat(ts, counts),
        np.repeat(cpos[rows[row_stops[:-1]]], counts, axis=0),
    )


def testopen_heads_equal_the_numpy_form():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n_rows, n_f = int(rng.integers(1, 30)), int(rng.integers(1, 5))
        ct = np.round(rng.uniform(100.0, 104.0, n_rows), 1)
        cpos = rng.normal(0.0, 4e7, (n_rows, 3))
        rows = (
            rng.permutation(n_rows)[: int(rng.integers(n_f, n_rows + 1))]
            if n_rows >= n_f
            else np.arange(n_rows)
        )
        n_f = min(n_f, rows.size)
        row_stops = np.r_[0, np.sort(rng.choice(np.arange(1, rows.size), n_f - 1, replace=False)), rows.size]
        last = np.round(rng.uniform(70.0, 105.0, 60), 1)
        ids = rng.integers(0, 60, int(rng.integers(0, 40)))
        id_stops = np.r_[0, np.sort(rng.integers(0, ids.size + 1, n_f - 1)), ids.size]
        got = open_heads(last, ids, id_stops, ct, cpos, rows, row_stops, 20.0)
        for a, b in zip(got, _plain_heads(last, ids, id_stops, ct, cpos, rows, row_stops, 20.0), strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert np.array_equal(a, b)


def test_scatter_counts_its_fresh_strings():
    rng = np.random.default_rng(3)
    n_ids, cap = 40, 8
    pool = [
        np.zeros(n_ids * cap),
        np.zeros((n_ids * cap, 3)),
        np.zeros((n_ids * cap, 3)),
        np.zeros(n_ids * cap),
        np.zeros(n_ids * cap, dtype=np.int64),
    ]
    a, n = np.arange(n_ids, dtype=np.int64) * cap, np.zeros(n_ids, dtype=np.int64)
    caps, last, stamp = (
        np.full(n_ids, cap, dtype=np.int64),
        np.zeros(n_ids),
        np.full(n_ids, -1, dtype=np.int64),
    )
    chunk = [
        rng.uniform(0, 9, 50),
        rng.normal(size=(50, 3)),
        rng.normal(size=(50, 3)),
        rng.uniform(1, 2, 50),
        np.arange(50, dtype=np.int64),
    ]
    for now in range(1, 6):
        for _ in range(2):  # (the second segment of an update: its strings may be stamped already)
            sids = rng.permutation(n_ids)[: int(rng.integers(1, 12))].astype(np.int64)
            sids = sids[n[sids] < cap]
            rows = rng.integers(0, 50, sids.size)
            before = stamp[sids] != now
            full, fresh, n_fresh = _scatter(
                DetectionRows(*pool), Blocks(a, n, caps, last, stamp), sids, rows, DetectionRows(*chunk), now
            )
            assert not full.size and np.array_equal(fresh, before) and n_fresh == before.sum()


class _PerFrame(LosPredictor):
    """A predictor on the base's :meth:`LosPredictor.frames`: called once per frame."""

    def __call__(self, ids, t, sensor_pos):
        mask = ids % 3 != 0
        pos = np.asarray(sensor_pos)[None]
        return mask, (ids + t)[:, None] * pos, (ids * t)[:, None, None] * (pos[:, :, None] * pos[:, None, :])


class _PerString(_PerFrame):
    """The same predictions with a time and sensor position per string: all frames in one call."""

    def frames(self, ids, stops, t, sensor_pos):
        mask = ids % 3 != 0
        return (
            mask,
            (ids + t)[:, None] * sensor_pos,
            (ids * t)[:, None, None] * (sensor_pos[:, :, None] * sensor_pos[:, None, :]),
        )


def test_segment_predicted_per_frame_equals_per_string():
    rng = np.random.default_rng(4)
    for _ in range(50):
        counts = rng.integers(0, 5, int(rng.integers(1, 5)))
        sid_stops = np.r_[0, np.cumsum(counts)]
        sids = rng.permutation(30)[: sid_stops[-1]].astype(np.int64)
        ts, pos = rng.uniform(100, 110, counts.size), rng.normal(size=(counts.size, 3))
        st, spos = np.repeat(ts, counts), np.repeat(pos, counts, axis=0)
        plain = _segment_predicted(_PerFrame(), sids, sid_stops, st, spos)
        batched = _segment_predicted(_PerString(), sids, sid_stops, st, spos)
        assert np.array_equal(plain[0], batched[0])
        for a, b in zip(plain[1:], batched[1:], strict=True):
            assert np.array_equal(a[plain[0]], b[plain[0]])
        none = _segment_predicted(None, sids, sid_stops, st, spos)
        assert not none[0].any() and none[1].shape == (sids.size, 3) and none[2].shape == (sids.size, 3, 3)


class _DefaultViews(GatedAssignmentStringer):
    """The stringer with the base class's views, computed from its strings, instead of its arrays."""

    changed_ids = Stringer.changed_ids
    appended = Stringer.appended
    rejections = Stringer.rejections
    confirmed_ids = Stringer.confirmed_ids
    long_ids = Stringer.long_ids


def test_engine_on_the_base_stringer_views_gives_the_same_warnings():
    # a stereo salvo at 4 frames per chunk (several appends per string per step) and a launch one sensor sees (mono)
    truths = [boost_truth(lat_deg=45.0 + k, lon_deg=63.0 + k, t0=100.0 + 3 * k) for k in range(3)]
    rng = np.random.default_rng(5)
    parts = [
        observe(truths, sensors(), rng, frame_s=0.25, clutter_per_frame=0.05),
        observe([boost_truth(lat_deg=40.0, lon_deg=70.0, t0=160.0)], sensors(count=1), rng),
    ]
    parts[1].obs_id = parts[1].obs_id + 10 * len(parts[0])
    b = ObservationBatch.concatenate(parts[0].epoch, parts)
    runs, filters = [], []
    for stringer in (GatedAssignmentStringer(), _DefaultViews()):
        engine = FusionEngine(stringer=stringer)
        runs.append([[w.to_dict() for w in ws] for _, ws in engine.run(b)])
        filters.append(
            [(e.event_id, e.filter.t, e.filter.x.tolist()) for e in engine.events if e.filter is not None]
        )
    fast, plain = runs
    assert filters[0] == filters[1]  # (the filters ran through the same detections)
    assert {w["mono"] for ws in fast for w in ws} == {False, True}
    assert fast == plain
