"""The stringer's array paths against their plain forms: pooled strings, the decomposed assignment, the
windowed link cost, the filter-row grouping, the compiled track cost, merge pre-test and the owner mirror."""

import math

import numpy as np
from fusion_truth import boost_truth, observe, sensors
from scipy.optimize import linear_sum_assignment

from vigil.fusion.boost.filter import BoostFilter, LosExtendedKalmanFilter
from vigil.fusion.boost.filterrows import filter_rows, rejection_counts
from vigil.fusion.events.gating import RECENT_RAYS, close_pairs, track_cost
from vigil.fusion.events.owners import Owners, lookup
from vigil.fusion.strings.linkcost import FORBIDDEN, GATE_SIGMAS, PREDICTED_NIS_GATE, _cost_kernel, assign
from vigil.fusion.strings.stringer import GatedAssignmentStringer, SensorString, sensor_codes, sensor_frames


def _salvo_stringer(min_rows):
    truths = [boost_truth(lat_deg=45.0 + k, lon_deg=63.0 + k, t0=100.0 + 3 * k) for k in range(3)]
    b = observe(truths, sensors(), np.random.default_rng(2), clutter_per_frame=0.05).sorted_by_time()
    s = GatedAssignmentStringer()
    s.pool.min_rows = min_rows  # reallocate (and compact) often
    edges = np.floor(b.time_s)
    bounds = np.flatnonzero(np.diff(edges)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(b)], strict=True):
        c = b.take(slice(lo, hi))
        s.update(
            c.obs_id, c.sensor_id, c.partner_id, c.time_s, c.sensor_pos_ecef_m, c.los_ecef, c.los_sigma_rad
        )
        s.prune(float(edges[lo]) + 1.0)
    return s, b


def test_pooled_strings_hold_their_detections_through_reallocations_and_splits():
    s, b = _salvo_stringer(min_rows=256)
    row = {int(i): k for k, i in enumerate(b.obs_id)}
    long_ = [x for x in s.strings.values() if len(x) > 70]
    assert len(long_) == 12  # three launches, four sensors; grown well past INITIAL_CAPACITY
    views = {x.string_id: x.times for x in long_}
    tail = s.split(long_[0], 40)
    assert len(long_[0]) == 40 and len(tail) == len(views[long_[0].string_id]) - 40
    for x in s.strings.values():
        rows = [row[int(i)] for i in x.obs_index]
        np.testing.assert_array_equal(x.times, b.time_s[rows])
        np.testing.assert_array_equal(x.positions, b.sensor_pos_ecef_m[rows])
        np.testing.assert_array_equal(x.los, b.los_ecef[rows])
        np.testing.assert_array_equal(x.sigmas, b.los_sigma_rad[rows])
        assert x.first_time == x.times[0] and x.last_time == x.times[-1]
        pool = s.pool
        assert pool.n[x.string_id] == len(x) and pool.last[x.string_id] == x.last_time
    head = long_[0]
    np.testing.assert_array_equal(views[head.string_id][40:], tail.times)  # the earlier view is untouched
    assert s.confirmed_ids().tolist() == [k for k, x in s.strings.items() if x.confirmed]  # dict order = ids
    assert not [x for x in s.strings.values() if not x.confirmed and x.last_time < b.time_s.max() - 30.0]
    assert tail in s._open[head.sensor_id][1] and head not in s._open[head.sensor_id][1]


def test_decomposed_assignment_equals_the_full_one():
    rng = np.random.default_rng(11)
    for _ in range(300):
        n_d, n_s = rng.integers(1, 30, 2)
        cost = np.where(
            rng.random((n_d, n_s)) < rng.uniform(0.02, 0.4), rng.uniform(0, 50, (n_d, n_s)), FORBIDDEN
        )
        ri, ci = linear_sum_assignment(cost)
        good = cost[ri, ci] < FORBIDDEN
        r2, c2 = assign(cost)
        np.testing.assert_array_equal(r2, ri[good])
        np.testing.assert_array_equal(c2, ci[good])


def _full_cost(los, sigma, u, gate, mask, up, cov):
    """The link cost evaluated for every pair (no window), as written before the window."""
    cost = np.full((len(los), len(u)), FORBIDDEN)
    for j in range(len(u)):
        for i in range(len(los)):
            if mask[j]:
                x = up[j]
                helper = np.array([-x[1], x[0], 0.0]) if abs(x[2]) < 0.9 else np.array([0.0, -x[2], x[1]])
                e1 = helper / np.linalg.norm(helper)
                e2 = np.cross(x, e1)
                e = np.stack([e1, e2])
                s = e @ cov[j] @ e.T + sigma[i] ** 2 * np.eye(2)
                z = e @ los[i]
                nis = z @ np.linalg.solve(s, z)
                if nis <= PREDICTED_NIS_GATE and los[i] @ x > 0:
                    cost[i, j] = nis + math.log(np.linalg.det(s) / sigma[i] ** 4)
            else:
                dot = (
                    los[i, 0] * u[j, 0] + los[i, 1] * u[j, 1] + los[i, 2] * u[j, 2]
                )  # acos: the kernel's order
                ang = math.acos(min(max(dot, -1.0), 1.0))
                if ang <= gate[j]:
                    sp = gate[j] / GATE_SIGMAS
                    cost[i, j] = (ang / sp) ** 2 + 4 * math.log(sp / sigma[i])
    return cost


def test_windowed_link_cost_equals_the_full_evaluation():
    rng = np.random.default_rng(5)
    for _ in range(20):
        n = 40
        centre = rng.normal(size=3)
        u = centre + rng.normal(0, 0.02, (n, 3))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        los = u[: n - 5] + rng.normal(0, 3e-4, (n - 5, 3))  # most strings have a detection near them
        los /= np.linalg.norm(los, axis=1, keepdims=True)
        sigma = np.full(len(los), 2e-5) * rng.uniform(0.5, 2, len(los))
        gate = rng.uniform(2e-4, 3e-3, n)
        mask = rng.random(n) < 0.6
        cov = np.array([np.diag(rng.uniform(1e-10, 1e-7, 3)) for _ in range(n)])
        fast = _cost_kernel(los, sigma, u, gate, mask, u, cov)
        ref = _full_cost(los, sigma, u, gate, mask, u, cov)
        np.testing.assert_array_equal(fast >= FORBIDDEN, ref >= FORBIDDEN)
        assert (ref < FORBIDDEN).sum() > n // 2
        np.testing.assert_allclose(fast[ref < FORBIDDEN], ref[ref < FORBIDDEN], rtol=1e-9, atol=1e-9)


def _plain_rows(sid, row, changed, event_of, time_s, recent):
    """The filter stage's grouping written with Python lists (the form before filter_rows)."""
    new = {}
    for i, r in zip(sid.tolist(), row.tolist(), strict=True):
        new.setdefault(i, []).append(r)
    slot, rows, owners, which, taken = {}, [], [], [], []
    for pos, i in enumerate(changed.tolist()):
        e = event_of[pos]
        if e < 0 or not new.get(i):
            continue
        k = slot.setdefault(e, len(slot))
        got = new[i][-recent:]
        rows += got
        owners += [k] * len(got)
        which += [len(taken)] * len(got)
        taken.append(pos)
    order = np.lexsort((time_s[rows], owners)) if rows else np.zeros(0, dtype=int)
    return (
        np.asarray(rows, dtype=int)[order],
        np.cumsum(np.bincount(owners, minlength=len(slot))),
        np.array(list(slot), dtype=int),
        np.array(taken, dtype=int),
        np.asarray(which, dtype=int)[order],
    )


def test_filter_rows_and_rejection_counts_equal_their_plain_forms():
    rng = np.random.default_rng(8)
    for _ in range(200):
        n_u = int(rng.integers(1, 12))
        changed = rng.permutation(40)[:n_u] + 1
        sid = rng.choice(changed, size=int(rng.integers(1, 40)))
        row = rng.permutation(200)[: sid.size]
        time_s = np.round(rng.uniform(0, 3, 200), 1)  # ties in time
        event_of = rng.integers(-1, 4, n_u)
        got = filter_rows(sid, row, changed, event_of, time_s, 3)
        for a, b in zip(got, _plain_rows(sid, row, changed, event_of, time_s, 3), strict=True):
            np.testing.assert_array_equal(a, b)
        rows, stops, _, taken, which = got
        accepted = rng.random(rows.size) < 0.6
        old = rng.integers(0, 4, taken.size)
        count, cut_e, cut_s = rejection_counts(which, accepted, old, stops, 3)
        plain = old.copy()
        for j, ok in zip(which.tolist(), accepted.tolist(), strict=True):
            plain[j] = 0 if ok else plain[j] + 1
        np.testing.assert_array_equal(count, plain)
        cuts, lo = [], 0
        for e, hi in enumerate(stops.tolist()):
            if 0 < accepted[lo:hi].sum() < hi - lo:
                cuts += [(e, j) for j in dict.fromkeys(which[lo:hi].tolist()) if plain[j] >= 3]
            lo = hi
        assert list(zip(cut_e.tolist(), cut_s.tolist(), strict=True)) == cuts


def test_compiled_track_cost_equals_state_at_per_ray():
    from types import SimpleNamespace

    rng = np.random.default_rng(1)
    for _ in range(50):
        a = rng.normal(size=(9, 9))
        x = np.r_[rng.normal(0, 1e6, 3) + [6.4e6, 0, 0], rng.normal(0, 2e3, 3), rng.normal(0, 30, 3)]
        f = LosExtendedKalmanFilter(100.0, x, a @ a.T * 1e4, 1e3)
        s = SensorString(1, "a", "p")
        pos = np.array([4.2e7, 1e6, 2e5])
        for i in range(7):
            d = x[:3] + rng.normal(0, 3e3, 3) - pos
            s.append(i, 101.0 + i, pos, d / np.linalg.norm(d), 2e-5)
        fast = track_cost(s, SimpleNamespace(filter=f))
        plain = BoostFilter.ray_misses(
            f, *(a[-RECENT_RAYS:] for a in s.arrays())
        )  # (the base's: state_at per ray)
        assert abs(fast - plain) <= 1e-12 * abs(plain)


def test_close_pairs_and_the_owner_mirror():
    pos = np.random.default_rng(3).normal(0, 60e3, (50, 3))
    d2 = ((pos[:, None] - pos[None]) ** 2).sum(-1)
    ii, jj = np.nonzero(d2 < 50e3**2)
    got = close_pairs(pos, 50e3)
    np.testing.assert_array_equal(got[0], ii[ii < jj])
    np.testing.assert_array_equal(got[1], jj[ii < jj])
    events = [object() for _ in range(4)]
    owners, plain = Owners(), {}
    for sid, k in [(3, 0), (7, 1), (300, 2), (9, 0), (4, 3)]:
        owners[sid] = plain[sid] = events[k]
    del owners[7], plain[7]
    ids = np.array([1, 3, 4, 7, 9, 300, 5000])
    live = [events[2], events[0]]
    np.testing.assert_array_equal(lookup(owners.live_rows(live), ids), _plain_live_rows(plain, live)[ids])
    np.testing.assert_array_equal(lookup(owners.live_rows(live), ids), [-1, 1, -1, -1, 1, 0, -1])


def _plain_live_rows(owner: dict, live: list) -> np.ndarray:
    """:meth:`Owners.live_rows` of a plain ``string id -> event`` dict, from its items (large enough for any id)."""
    index = {id(e): k for k, e in enumerate(live)}
    slot = np.full(max(owner, default=0) + 10_000, -1, dtype=np.int64)
    slot[np.fromiter(owner, dtype=np.int64, count=len(owner))] = [
        index.get(id(e), -1) for e in owner.values()
    ]
    return slot


def test_compiled_near_equals_the_numpy_form():
    from types import SimpleNamespace

    from vigil.fusion.events.gating import PREGATE_M, near, positions_at

    rng = np.random.default_rng(4)
    x0 = np.r_[6.6e6, 0.0, 0.0, 0.0, 3e3, 0.0, 0.0, 0.0, 20.0]
    events = [
        SimpleNamespace(
            filter=SimpleNamespace(
                x=x0 + np.r_[rng.normal(0, 4e4, 3), rng.normal(0, 50, 6)], t=100.0 + rng.uniform(0, 2)
            )
        )
        for _ in range(30)
    ]
    strings = []
    for k in range(40):
        s = SensorString(k, "a", "p")
        pos = np.array([4.2e7, 0.0, 0.0]) + rng.normal(0, 1e6, 3)
        d = x0[:3] + rng.normal(0, 5e4, 3) - pos
        s.append(k, 101.0 + rng.uniform(0, 2), pos, (d if k % 7 else -d) / np.linalg.norm(d), 2e-5)
        strings.append(s)
    t = np.array([s.last_time for s in strings])
    p = np.array([s.positions[-1] for s in strings])
    u = np.array([s.los[-1] for s in strings])
    d = positions_at(events, t) - p[:, None, :]
    along = np.einsum("sei,si->se", d, u)
    miss = np.linalg.norm(d - along[..., None] * u[:, None, :], axis=-1)
    plain = (miss < PREGATE_M) & (along > 0.0)
    assert 0 < plain.sum() < plain.size
    np.testing.assert_array_equal(near(strings, events), plain)


class _PlainCounts(GatedAssignmentStringer):
    """The stringer without the array of rejection counts (the engine then counts string by string)."""

    rejections = None


def test_rejection_counts_in_the_pool_array_equal_the_per_string_ones():
    from types import SimpleNamespace

    from vigil.fusion.events.owners import Owners
    from vigil.fusion.events.rejections import CUT_REJECTIONS, count_rejections

    outcomes = []
    for stringer_type in (GatedAssignmentStringer, _PlainCounts):
        stringer, _ = _salvo_stringer(min_rows=1 << 16)
        stringer.__class__ = stringer_type
        strings = [x for x in stringer.strings.values() if len(x) > 70][:3]
        ids = np.array([x.string_id for x in strings], dtype=np.int64)
        strings[2].rejections = 1
        events = [SimpleNamespace(dirty=False, cut_s=-np.inf), SimpleNamespace(dirty=False, cut_s=-np.inf)]
        # event 0: string 0 rejected CUT_REJECTIONS times while string 1 is accepted (a cut); event 1: string 2
        # rejected once more (no cut: its event accepts nothing)
        which = np.array([0] * CUT_REJECTIONS + [1, 2])
        accepted = np.array([False] * CUT_REJECTIONS + [True, False])
        stops = np.array([CUT_REJECTIONS + 1, CUT_REJECTIONS + 2])
        before = [len(x) for x in strings]
        count_rejections(stringer, Owners(), events, stops, strings, np.arange(3), which, accepted, ids)
        outcomes.append(
            (
                [len(x) for x in strings],
                [x.rejections for x in strings],
                [e.dirty for e in events],
                len(stringer.strings),
            )
        )
        assert outcomes[-1][0] == [before[0] - CUT_REJECTIONS, before[1], before[2]]
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] == [0, 0, 2] and outcomes[0][2] == [True, False]


def test_compiled_frames_equal_the_sort_by_key_then_sensor_name():
    """sensor_frames (compiled, on integer sensor codes given or computed) against a stable sort of the rows by key
    then sensor name, for in-order, shuffled and coarse-keyed chunks."""
    rng = np.random.default_rng(5)
    names = np.array(["south-2", "north-1", "heo-b", "heo-a"], dtype=object)
    for case in range(60):
        n = int(rng.integers(1, 40))
        key = np.sort(rng.integers(0, 6, n).astype(float))
        sensor = names[rng.integers(0, 4, n)]
        if case % 3 == 1:
            sensor = names[(key.astype(int) % 4)]  # one sensor per key: the in-order chunk
        if case % 3 == 2:
            p = rng.permutation(n)
            key, sensor = key[p], sensor[p]
        sensor = np.array([str(v) for v in sensor], dtype=object)  # distinct str objects, as a batch has
        ref = sorted(range(n), key=lambda k: (key[k], sensor[k]))
        starts = [0] + [
            k for k in range(1, n) if (key[ref[k]], sensor[ref[k]]) != (key[ref[k - 1]], sensor[ref[k - 1]])
        ]
        for code in (None, sensor_codes(sensor)):
            order, got_starts, got_sensors = sensor_frames(sensor, key, code)
            assert order.tolist() == ref
            assert got_starts == starts + [n]
            assert got_sensors == [sensor[ref[k]] for k in starts]
