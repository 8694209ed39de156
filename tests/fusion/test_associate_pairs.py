"""Bit-for-bit checks of the cheaper paths of pairing and warning building against the code they replace:
the pooled, gated cost matrix of :meth:`MissDistanceAssociator.pair` and the compiled ellipse axes of
:func:`ellipse_from_cov`."""

import math
from itertools import combinations

import numpy as np
from fusion_truth import boost_truth, observe, sensors
from scipy.optimize import linear_sum_assignment

from vigil.fusion.association.associate import (
    FORBIDDEN,
    GATE_CHI2_MEAN,
    MissDistanceAssociator,
    _cost_matrix,
    _stacked,
    pair_cost,
)
from vigil.fusion.coast.ellipse import (
    _EIGH2_MAX,
    _EIGH2_MIN,
    _EIGH2_MIN_OFF_DIAGONAL,
    _eigh2,
    ellipse_from_cov,
)
from vigil.fusion.strings.sensorstring import SensorString
from vigil.fusion.strings.stringer import GatedAssignmentStringer


def _python_ellipse(cov, containment):
    """``ellipse_from_cov`` as it was before :func:`_ellipse_axes` (Python :func:`_eigh2`)."""
    cov = np.asarray(cov)
    a, b, c = float(cov[0, 0]), float(cov[1, 0]), float(cov[1, 1])
    regular = math.isfinite(a + b + c) and _EIGH2_MIN < max(abs(a), abs(b), abs(c)) < _EIGH2_MAX
    if regular and abs(b) > _EIGH2_MIN_OFF_DIAGONAL * math.sqrt(abs(a) * abs(c)):
        (small, large), (v0, v1) = _eigh2(a, b, c)
    elif regular and b == 0.0:
        (small, large), (v0, v1) = ((c, a), (1.0, 0.0)) if c < a else ((a, c), (0.0, 1.0))
    else:
        vals, vecs = np.linalg.eigh(cov)
        (small, large), (v0, v1) = (float(vals[0]), float(vals[1])), (float(vecs[0, 1]), float(vecs[1, 1]))
    k = float(np.sqrt(-2.0 * np.log(1.0 - containment)))
    bearing = math.degrees(float(np.arctan2(v0, v1))) % 180.0
    return bearing, k * math.sqrt(max(large, 0.0)) / 1e3, k * math.sqrt(max(small, 0.0)) / 1e3


def test_compiled_ellipse_is_the_python_one_bit_for_bit():
    rng = np.random.default_rng(11)
    covs = []
    for _ in range(4000):
        s, th = 10 ** rng.uniform(-3, 12, 2), rng.uniform(0.0, np.pi)
        rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        covs.append(rot @ np.diag(s) @ rot.T)
    covs += [
        rng.normal(size=(2, 2)) * 10 ** rng.uniform(-5, 10) for _ in range(1000)
    ]  # indefinite, asymmetric
    covs += [
        np.diag([4.0, 9.0]),
        np.diag([9.0, 4.0]),
        np.zeros((2, 2)),
        np.array([[5.0, 1e-20], [1e-20, 3.0]]),
        np.array([[2.0, 2.0], [2.0, 2.0]]),
        np.array([[1.0, -1.0], [-1.0, 1.0]]),
        np.diag([-5.0, 3.0]),
        np.full((2, 2), np.nan),
        np.array([[1.0, 0.5], [np.inf, 2.0]]),
        np.array([[1e120, 1e119], [1e119, 1.0]]),
    ]
    for c in covs:
        for p in (0.95, 0.5):
            got, want = ellipse_from_cov(c, p), _python_ellipse(c, p)
            assert all(map(lambda g, w: g == w or (g != g and w != w), got, want)), (c, got, want)
            assert [math.copysign(1.0, x) for x in got] == [math.copysign(1.0, x) for x in want]


def _plain(s: SensorString) -> SensorString:
    """A copy of pooled string ``s`` with its own arrays (the concatenating path)."""
    return SensorString(
        s.string_id, s.sensor_id, s.partner_id, s.obs_index, s.times, s.positions, s.los, s.sigmas
    )


def _reference_pair(assoc: MissDistanceAssociator, strings: list[SensorString]) -> list[list[SensorString]]:
    """:meth:`MissDistanceAssociator.pair` as it was: :func:`pair_cost` per entry, gated by ``np.where``."""
    by_sensor: dict[str, list[int]] = {}
    for k, s in enumerate(strings):
        by_sensor.setdefault(s.sensor_id, []).append(k)
    if len(by_sensor) < 2:
        return []
    used: set[int] = set()
    groups = []
    for sa, sb in combinations(sorted(by_sensor), 2):
        a = [strings[k] for k in by_sensor[sa] if strings[k].string_id not in used]
        b = [strings[k] for k in by_sensor[sb] if strings[k].string_id not in used]
        if not a or not b:
            continue
        cost = np.array([[pair_cost(x, y) for y in b] for x in a])
        cost = np.where(cost <= assoc.gate, cost, FORBIDDEN)
        for i, j in zip(*linear_sum_assignment(cost), strict=True):
            if cost[i, j] < FORBIDDEN:
                groups.append([a[i], b[j]])
                used.update((a[i].string_id, b[j].string_id))
    return assoc._merge(groups)


def test_pooled_gated_cost_matrix_and_pairs_are_the_plain_ones():
    truths = [boost_truth(lat_deg=45.0 + k, lon_deg=63.0 + k, t0=100.0 + 3 * k) for k in range(4)]
    b = observe(truths, sensors(), np.random.default_rng(4), clutter_per_frame=0.05).sorted_by_time()
    st = GatedAssignmentStringer()
    st.pool.min_rows = 256  # reallocate often
    edges = np.floor(b.time_s)
    bounds = np.flatnonzero(np.diff(edges)) + 1
    assoc = MissDistanceAssociator()
    checked = paired = gated = 0
    for step, (lo, hi) in enumerate(zip(np.r_[0, bounds], np.r_[bounds, len(b)], strict=True)):
        c = b.take(slice(lo, hi))
        st.update(
            c.obs_id, c.sensor_id, c.partner_id, c.time_s, c.sensor_pos_ecef_m, c.los_ecef, c.los_sigma_rad
        )
        confirmed = [s for s in st.strings.values() if s.confirmed]
        if len({s.sensor_id for s in confirmed}) < 2 or step % 4:
            continue
        pooled = _stacked(confirmed)
        assert pooled[0] is st.pool.t  # read in place
        plain = [_plain(s) for s in confirmed]
        ia, ib = np.arange(0, len(plain), 2), np.arange(1, len(plain), 2)
        want = np.array([[pair_cost(plain[i], plain[j]) for j in ib] for i in ia]).reshape(ia.size, ib.size)
        want = np.where(want <= GATE_CHI2_MEAN, want, FORBIDDEN)
        assert np.array_equal(_cost_matrix(*pooled, ia, ib, GATE_CHI2_MEAN), want)
        assert np.array_equal(_cost_matrix(*_stacked(plain), ia, ib, GATE_CHI2_MEAN), want)  # concatenated
        got, ref = assoc.pair(confirmed), _reference_pair(assoc, plain)
        assert [[s.string_id for s in g] for g in got] == [[s.string_id for s in g] for g in ref]
        checked += 1
        paired += len(got)
        gated += int((want < FORBIDDEN).sum())
    assert checked > 20 and paired > 20 and gated > 20
