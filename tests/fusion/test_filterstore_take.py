"""run_filters on rows ``take`` of chunk arrays (gathered with the tangent basis in the compiled call) equals
run_filters on the gathered rows, bit for bit, in the store and gathered."""

import numpy as np
from test_filterstore import _detections, _filters

from vigil.fusion.boost.batch import run_filters
from vigil.fusion.boost.filter import LosExtendedKalmanFilter
from vigil.fusion.boost.filterstore import FilterStates
from vigil.fusion.boost.rays import LosRays


def test_rows_taken_in_the_kernel_equal_rows_taken_before():
    rng = np.random.default_rng(11)
    a = _filters(6, rng)
    times, pos, los, sigma, stops = _detections(a[1:5], rng)
    los[2] = [0.1, 0.2, np.sqrt(1 - 0.05)]  # (|z| ≥ 0.9: the other helper axis of the tangent basis)
    take = rng.permutation(times.size + 3)  # (chunk rows in any order, some not taken)
    chunk = [np.empty((take.size,) + v.shape[1:]) for v in (times, pos, los, sigma)]
    for c, v in zip(chunk, (times, pos, los, sigma), strict=True):
        c[take[: times.size]] = v
        c[take[times.size :]] = np.nan
    for shared in (False, True):
        b = [LosExtendedKalmanFilter(f.t, f.x, f.P, f.q) for f in a]
        c = [LosExtendedKalmanFilter(f.t, f.x, f.P, f.q) for f in a]
        sb, sc = (FilterStates.of(x[::-1]) if shared else None for x in (b, c))
        kw = [dict(store=s.arrays, rows=s.rows[[4, 3, 2, 1]]) if shared else {} for s in (sb, sc)]
        got = run_filters(b[1:5], stops, LosRays(*chunk), take=take[: times.size], **kw[0])
        want = run_filters(c[1:5], stops, LosRays(times, pos, los, sigma), **kw[1])
        np.testing.assert_array_equal(got, want)
        assert got.any()
        for f, g in zip(b, c, strict=True):
            np.testing.assert_array_equal(f.x, g.x)
            np.testing.assert_array_equal(f.P, g.P)
            assert f.t == g.t
