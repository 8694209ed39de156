"""The stacked filter-state store: filters hold views of its rows, run in place there as when gathered."""

import numpy as np

from vigil.fusion.boost.batch import run_filters
from vigil.fusion.boost.filter import LosExtendedKalmanFilter
from vigil.fusion.boost.filterstore import FilterStates, FilterStore
from vigil.fusion.boost.rays import LosRays


def _filters(n, rng):
    out = []
    for _ in range(n):
        x0 = np.r_[rng.normal(0, 1e5, 3) + [6.5e6, 0, 0], rng.normal(0, 1e3, 3), rng.normal(0, 10, 3)]
        out.append(
            LosExtendedKalmanFilter(100.0 + rng.uniform(0, 1), x0, np.diag(np.repeat([1e6, 1e4, 1e2], 3)))
        )
    return out


def _detections(filters, rng):
    times, pos, los, stops = [], [], [], []
    for f in filters:
        for k in range(3):
            t = f.t + 0.5 * (k + 1)
            p = np.array([4.2e7, 1e6, 2e5]) + rng.normal(0, 1e3, 3)
            d = f.position_at(t)[0] - p + rng.normal(0, 50, 3)
            times.append(t), pos.append(p), los.append(d / np.linalg.norm(d))
        stops.append(len(times))
    return np.array(times), np.array(pos), np.array(los), np.full(len(times), 2e-5), np.array(stops)


def test_filters_run_in_the_store_equal_filters_run_gathered():
    rng = np.random.default_rng(3)
    a = _filters(5, rng)
    b = [LosExtendedKalmanFilter(f.t, f.x, f.P, f.q) for f in a]
    states = FilterStates.of(a[::-1])
    assert all(np.shares_memory(f.x, states.store.x) and np.shares_memory(f.P, states.store.cov) for f in a)
    times, pos, los, sigma, stops = _detections(a[1:4], rng)
    got = run_filters(
        a[1:4], stops, LosRays(times, pos, los, sigma), store=states.arrays, rows=states.rows[[3, 2, 1]]
    )
    want = run_filters(b[1:4], stops, LosRays(times, pos, los, sigma))
    np.testing.assert_array_equal(got, want)
    for f, g in zip(a, b, strict=True):
        np.testing.assert_array_equal(f.x, g.x)
        np.testing.assert_array_equal(f.P, g.P)
        assert f.t == g.t


def test_release_and_growth_keep_every_filter_state():
    rng = np.random.default_rng(4)
    filters = _filters(6, rng)
    want = [(f.x.copy(), f.P.copy()) for f in filters]
    store = FilterStore(capacity=2)
    rows = store.rows_of(filters[:4])  # grows twice
    assert sorted(rows.tolist()) == [0, 1, 2, 3]
    rows = store.rows_of(filters[2:])  # releases the first two (their own copies), reuses their rows
    assert not np.shares_memory(filters[0].x, store.x) and not np.shares_memory(filters[1].P, store.cov)
    store.x[rows] += 1.0  # writes into the stored filters only
    for k, (f, (x, p)) in enumerate(zip(filters, want, strict=True)):
        np.testing.assert_array_equal(f.x, x + (1.0 if k >= 2 else 0.0))
        np.testing.assert_array_equal(f.P, p)


def test_a_copy_of_the_states_holds_no_store():
    """A copied filter's x and P are copies, not views of a copied store: the copy's next step stores anew."""
    import copy

    filters = _filters(3, np.random.default_rng(5))
    states = FilterStates.of(filters)
    copied, kept = copy.deepcopy((filters, states))
    assert kept.filters == [] and kept.store is None
    again = FilterStates.of(copied, kept)
    assert all(np.shares_memory(f.x, again.store.x) for f in copied)
    assert not any(np.shares_memory(f.x, states.store.x) for f in copied)
