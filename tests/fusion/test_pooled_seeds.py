"""detections_and_seeds read from the stringer's pool, and the buffered triangulation, against the plain forms
they replace, bit for bit."""

import numba
import numpy as np
from fusion_truth import boost_truth, observe, sensors

from vigil.fusion.association.associate import detections_and_seeds, triangulation_seeds
from vigil.fusion.association.rays import triangulate_instants
from vigil.fusion.events.event import FusedEvent
from vigil.fusion.geometry.lapack import pivots
from vigil.fusion.geometry.lapack import solve as lapack_solve
from vigil.fusion.geometry.triangulate import RANGE_PASSES
from vigil.fusion.strings.stringer import GatedAssignmentStringer, SensorString
from vigil.fusion.strings.stringpool import StringPool


def _plain(s: SensorString) -> SensorString:
    """A copy of ``s`` with its own arrays (not pooled: the concatenating path)."""
    return SensorString(
        s.string_id, s.sensor_id, s.partner_id, s.obs_index, s.times, s.positions, s.los, s.sigmas
    )


def _assert_same(got, want):
    (gd, (gt, gp)), (wd, (wt, wp)) = got, want
    for g, w in zip((*gd, gt), (*wd, wt), strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape and np.array_equal(g, w)
    assert (gp is None and wp is None) or (gp.shape == wp.shape and np.array_equal(gp, wp))


def test_pooled_strings_give_the_concatenated_detections_and_seeds():
    truths = [boost_truth(lat_deg=45.0 + k, lon_deg=63.0 + k, t0=100.0 + 3 * k) for k in range(3)]
    b = observe(truths, sensors(), np.random.default_rng(4), clutter_per_frame=0.05).sorted_by_time()
    st = GatedAssignmentStringer()
    st.pool.min_rows = 256  # reallocate often
    edges = np.floor(b.time_s)
    bounds = np.flatnonzero(np.diff(edges)) + 1
    rng = np.random.default_rng(6)
    checked = 0
    for step, (lo, hi) in enumerate(zip(np.r_[0, bounds], np.r_[bounds, len(b)], strict=True)):
        c = b.take(slice(lo, hi))
        st.update(
            c.obs_id, c.sensor_id, c.partner_id, c.time_s, c.sensor_pos_ecef_m, c.los_ecef, c.los_sigma_rad
        )
        confirmed = [s for s in st.strings.values() if len(s) >= 2]
        if len(confirmed) < 2 or step % 3:
            continue
        group = [
            confirmed[k]
            for k in rng.choice(len(confirmed), min(len(confirmed), rng.integers(2, 6)), replace=False)
        ]
        assert all(s.t_rows.base is st.pool.t for s in group)  # the pooled path
        plain = [_plain(s) for s in group]
        for tri in (True, False):
            _assert_same(
                detections_and_seeds(group, triangulate=tri), detections_and_seeds(plain, triangulate=tri)
            )
        got = detections_and_seeds(group)
        for g, w in zip(got[0], FusedEvent("E", plain).detections(), strict=True):
            assert np.array_equal(g, w)
        _assert_same(got, (got[0], triangulation_seeds(plain)))
        checked += 1
    assert checked > 30


def test_pooled_strings_out_of_time_order_and_ties_sort_stably():
    pool = StringPool(lambda: [])
    rng = np.random.default_rng(8)
    a = pool.new_strings([1, 2], "a", "p")
    b = pool.new_strings([3], "b", "q")
    times = [np.arange(10.0), np.array([0.0, 3.0, 3.0, 2.0, 5.0, 9.0]), np.array([1.0, 3.0, 4.0, 4.5, 8.0])]
    for s, t in zip(a + b, times, strict=True):
        for k, tk in enumerate(t):  # the middle string goes back in time: the sort, not the merge
            u = rng.normal(size=3)
            s.append(k, tk, rng.normal(0.0, 1e7, 3), u / np.linalg.norm(u), 1e-5)
    for group in ([a[0], a[1], b[0]], [b[0], a[0]], [a[1], b[0], a[0]]):
        _assert_same(detections_and_seeds(group), detections_and_seeds([_plain(s) for s in group]))


@numba.njit(cache=True, error_model="numpy")
def _triangulate_one_allocating(p, u, sigma):
    """The per-instant triangulation before its buffers were hoisted (the reference)."""
    rng = np.ones(sigma.size)
    x = np.zeros(3)
    lu = np.empty((3, 3))
    ipiv = pivots(3)
    for _ in range(RANGE_PASSES):
        a = np.zeros((3, 3))
        b = np.zeros(3)
        for n in range(sigma.size):
            w = 1.0 / (sigma[n] * rng[n]) ** 2
            for i in range(3):
                for j in range(3):
                    pij = (1.0 if i == j else 0.0) - u[n, i] * u[n, j]
                    a[i, j] += w * pij
                    b[i] += w * pij * p[n, j]
        x = lapack_solve(a, b, lu, x, ipiv)
        for n in range(sigma.size):
            rng[n] = (x[0] - p[n, 0]) * u[n, 0] + (x[1] - p[n, 1]) * u[n, 1] + (x[2] - p[n, 2]) * u[n, 2]
    return x


@numba.njit(cache=True, error_model="numpy")
def _triangulate_instants_allocating(p, u, sigma, ip, iu, osig, solve):
    pts = np.zeros((p.shape[0], 3))
    keep = np.zeros(p.shape[0], dtype=np.bool_)
    rp, ru, rs = np.empty((osig.size + 1, 3)), np.empty((osig.size + 1, 3)), np.empty(osig.size + 1)
    for k in range(p.shape[0]):
        rp[0], ru[0], rs[0] = p[k], u[k], sigma[k]
        m = 1
        for j in range(osig.size):
            if np.isfinite(iu[j, k, 0]) and np.isfinite(iu[j, k, 1]) and np.isfinite(iu[j, k, 2]):
                rp[m], ru[m], rs[m] = ip[j, k], iu[j, k], osig[j]
                m += 1
        if m >= 2:
            if solve:
                pts[k] = _triangulate_one_allocating(rp[:m], ru[:m], rs[:m])
            keep[k] = True
    return pts, keep


def test_buffered_triangulation_equals_the_allocating_one():
    rng = np.random.default_rng(9)
    target = rng.normal(0.0, 3e6, (200, 3))
    for n_other in (0, 1, 3, 5):
        p = rng.normal(0.0, 4e7, (200, 3))
        u = target + rng.normal(0.0, 1e3, (200, 3)) - p
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        ip = rng.normal(0.0, 4e7, (n_other, 200, 3))
        iu = target + rng.normal(0.0, 1e3, (n_other, 200, 3)) - ip
        iu /= np.linalg.norm(iu, axis=2, keepdims=True)
        iu[rng.random((n_other, 200)) < 0.3] = np.nan  # strings not covering an instant
        sigma, osig = rng.uniform(1e-5, 3e-5, 200), rng.uniform(1e-5, 3e-5, n_other)
        for solve in (True, False):
            got = triangulate_instants(p, u, sigma, ip, iu, osig, solve)
            want = _triangulate_instants_allocating(p, u, sigma, ip, iu, osig, solve)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
