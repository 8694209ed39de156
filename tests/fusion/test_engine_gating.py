"""The engine's per-step shortcuts against their plain forms: the launch refit test (span of the event's strings
against the next mark, with the latest-detection pre-check) and the merge pre-test read in the filter store."""

from types import SimpleNamespace

import numpy as np
from fusion_truth import boost_truth, observe, sensors

from vigil.fusion import FusionEngine
from vigil.fusion.boost.filterstore import FilterStates, FilterStore
from vigil.fusion.events.gating import close_pairs, latest_close_pairs, latest_positions
from vigil.fusion.events.launchrefit import REFIT_SPANS_S


def _plain_refit_due(engine, event):
    """The refit test as first written: the next mark after the fitted span, and the span over the strings."""
    if event.launch is None:
        return True
    fitted = event.fitted_span_s
    marks = [
        m
        for m in (*REFIT_SPANS_S, engine.config.launch_window_s + engine.config.update_interval_s)
        if fitted < m
    ]
    span = max(s.last_time for s in event.strings) - min(s.first_time for s in event.strings)
    return (min(marks) if marks else float("nan")) <= span


def test_refit_test_equals_the_plain_span_test(monkeypatch):
    truths = [boost_truth(lat_deg=45.0 + k, lon_deg=63.0 + 2 * k, t0=100.0 + 7 * k) for k in range(3)]
    batch = observe(truths, sensors(), np.random.default_rng(5), clutter_per_frame=0.05)
    fast = FusionEngine._refit_due
    seen = []

    def checked(self, event):
        due = fast(self, event)
        assert due == _plain_refit_due(self, event)
        seen.append(due)
        return due

    monkeypatch.setattr(FusionEngine, "_refit_due", checked)
    latest = list(FusionEngine().run(batch))
    assert any(ws for _, ws in latest) and sum(seen) >= 9 and len(seen) > 3 * sum(seen)  # refits and waits


def test_latest_close_pairs_equals_close_pairs_of_latest_positions():
    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 40):
        filters = []
        for _ in range(n):
            f = SimpleNamespace(
                x=np.r_[rng.normal(0, 4e4, 3), rng.normal(0, 2e3, 3), rng.normal(0, 30, 3)],
                P=np.eye(9),
                t=float(rng.choice([100.0, 100.5, rng.uniform(99, 101)])),
                q=1.0,
            )
            filters.append(f)
        store = FilterStore(4)
        store.rows_of(filters[::2])  # (then grown, and the rows not in the filters' order)
        states = FilterStates(filters, store.rows_of(filters[::-1])[::-1].copy(), store)
        events = [SimpleNamespace(filter=f) for f in filters]
        for nan in (False, True):  # (a NaN time: np.argmax's first NaN)
            if nan:
                store.t[states.rows[n // 2]] = np.nan
            got = latest_close_pairs(states, 50e3)
            want = close_pairs(latest_positions(events, states), 50e3)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
            assert nan or n < 40 or got[0].size > 5  # (some pairs)
    empty = latest_close_pairs(FilterStates([], np.zeros(0, dtype=np.int64), FilterStore()), 50e3)
    assert empty[0].size == empty[1].size == 0
