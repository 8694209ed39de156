"""Round-4 compiled stages against their plain numpy definitions (throughput: bench/bench_fusion.py).

The allocation-free EKF, the compiled link cost, the compiled polynomial-track normal equations and the
closed-form launch summary must give what the textbook forms give: the numpy Joseph-form EKF of
:class:`LosExtendedKalmanFilter`, the link-cost formulas written out here, ``HᵀWH`` from
:func:`vigil.fusion.geometry.polytrack.los_design`, and the model's own positions.
"""

import math

import numpy as np
import pytest
from fusion_truth import boost_truth, observe, sensors

from vigil.fusion.association.associate import detections_and_seeds
from vigil.fusion.boost.filter import (
    NIS_REJECT,
    STAGING_ACC_SIGMA_M_S2,
    STAGING_GAP_S,
    LosExtendedKalmanFilter,
)
from vigil.fusion.events.assembly import _may_seed
from vigil.fusion.events.owners import Owners
from vigil.fusion.geometry.polytrack import chi2_per_detection, los_design, normal_equations
from vigil.fusion.geometry.triangulate import tangent_basis
from vigil.fusion.launch.backfit import MIN_AZIMUTH_BASELINE_M, AscentModel, summarize
from vigil.fusion.strings.stringer import FORBIDDEN, GATE_SIGMAS, PREDICTED_NIS_GATE, SensorString, link_cost

SIGMA = 20e-6


def _numpy_filter(b, x0, p0):
    """The plain EKF: numpy predict / Joseph update per detection, same gate and staging widening."""
    f = LosExtendedKalmanFilter(b.time_s[0], x0, p0)
    accepted = []
    for t, p, u, s in zip(b.time_s, b.sensor_pos_ecef_m, b.los_ecef, b.los_sigma_rad, strict=True):
        if t - f.t > STAGING_GAP_S:
            f.P[6:, 6:] += np.eye(3) * STAGING_ACC_SIGMA_M_S2**2
        f.predict(t)
        d = f.x[:3] - p
        rho = np.linalg.norm(d)
        e = np.stack(tangent_basis(u))
        z = e @ (d / rho)
        h = np.zeros((2, 9))
        h[:, :3] = (e - np.outer(z, d / rho)) / rho
        nis = z @ np.linalg.solve(h @ f.P @ h.T + s**2 * np.eye(2), z)
        accepted.append(nis <= NIS_REJECT)
        if accepted[-1]:
            f.update(p, u, s)
    return f, np.array(accepted)


def test_compiled_filter_equals_the_numpy_joseph_form():
    truth = boost_truth()
    b = observe([truth], sensors(), np.random.default_rng(7))
    b = b.take(np.argsort(b.time_s, kind="stable"))
    b = b.take(np.flatnonzero((b.time_s < 175.0) | (b.time_s > 180.0)))  # a 5 s gap: the staging widening
    x0 = np.concatenate([truth.state([b.time_s[0]])[0][0] + 500.0, np.zeros(6)])
    p0 = np.diag(np.repeat([2e3, 1.5e3, 30.0], 3) ** 2)
    ref, ok_ref = _numpy_filter(b, x0, p0)
    fast = LosExtendedKalmanFilter(b.time_s[0], x0, p0)
    ok = fast.run(b.time_s, b.sensor_pos_ecef_m, b.los_ecef, b.los_sigma_rad)
    np.testing.assert_array_equal(ok, ok_ref)
    assert np.abs(fast.x[:3] - ref.x[:3]).max() < 1e-6  # m
    np.testing.assert_allclose(fast.P, ref.P, rtol=1e-7, atol=1e-9 * np.abs(ref.P).max())
    np.testing.assert_array_equal(fast.P, fast.P.T)


def _plain_cost(strings, t, los, sigma, predicted=None):
    """The link cost written out: own 2-point extrapolation (isotropic, 6σ gate) or a predicted LOS."""
    cost = np.full((len(los), len(strings)), FORBIDDEN)
    for j, s in enumerate(strings):
        u = s.predict_los(t)
        gate = s.gate_rad(t)
        sp = gate / GATE_SIGMAS
        for i, (d, sg) in enumerate(zip(los, sigma, strict=True)):
            if predicted is not None and predicted[0][j]:
                up, cov = predicted[1][j], predicted[2][j]
                e = np.stack(tangent_basis(up))
                s2 = e @ cov @ e.T + sg**2 * np.eye(2)
                z = e @ d
                nis = z @ np.linalg.solve(s2, z)
                if nis <= PREDICTED_NIS_GATE and d @ up > 0:
                    cost[i, j] = nis + math.log(np.linalg.det(s2) / sg**4)
                continue
            ang = math.acos(min(max(d @ u, -1.0), 1.0))
            if ang <= gate:
                cost[i, j] = (ang / sp) ** 2 + 4 * math.log(sp / sg)
    return cost


def test_compiled_link_cost_equals_the_written_out_likelihood():
    rng = np.random.default_rng(3)
    strings = []
    for k in range(12):
        s = SensorString(k, "a", "p")
        base = rng.normal(size=3)
        for i in range(1 + k % 3):  # strings of 1, 2 and 3 detections
            u = base / np.linalg.norm(base) + rng.normal(0, 1e-4, 3) * i
            s.append(i, 10.0 + i, [4e7, 0.0, 0.0], u / np.linalg.norm(u), SIGMA)
        strings.append(s)
    los = np.array([s.los[-1] + rng.normal(0, 4e-5, 3) for s in strings[:10]])
    los /= np.linalg.norm(los, axis=1, keepdims=True)
    sigma = np.full(len(los), SIGMA)
    mask = np.arange(len(strings)) % 2 == 0
    up = np.array([s.los[-1] for s in strings])
    cov = np.array([np.diag(rng.uniform(1e-10, 1e-9, 3)) for _ in strings])
    predicted = (mask, up, cov)
    own = link_cost(strings, 13.0, los, sigma)
    both = link_cost(strings, 13.0, los, sigma, lambda *_: predicted, np.zeros(3))
    for fast, ref in (
        (own, _plain_cost(strings, 13.0, los, sigma)),
        (both, _plain_cost(strings, 13.0, los, sigma, predicted)),
    ):
        np.testing.assert_array_equal(fast >= FORBIDDEN, ref >= FORBIDDEN)
        assert (ref < FORBIDDEN).sum() > 5
        np.testing.assert_allclose(fast[ref < FORBIDDEN], ref[ref < FORBIDDEN], rtol=1e-9, atol=1e-9)


def test_compiled_polynomial_normal_equations_equal_the_design_matrix():
    truth = boost_truth()
    b = observe([truth], sensors(), np.random.default_rng(2))
    keep = b.time_s < 190.0
    t, p, u, s = b.time_s[keep], b.sensor_pos_ecef_m[keep], b.los_ecef[keep], b.los_sigma_rad[keep]
    r, v = truth.state([185.0])
    theta = np.concatenate([r[0] + 300.0, v[0], [10.0, 5.0, 20.0], [0.1, 0.0, 0.2]])
    e1, e2 = tangent_basis(u)
    info, jtz, chi2 = normal_equations(theta, 185.0, 3, t, p, e1, e2, 1 / s**2)
    z, h = los_design(theta, 185.0, 3, t, p, u)
    w = np.concatenate([1 / s**2] * 2)
    np.testing.assert_allclose(info, h.T @ (w[:, None] * h), rtol=1e-9, atol=1e-12 * np.abs(info).max())
    np.testing.assert_allclose(jtz, h.T @ (w * z), rtol=1e-8, atol=1e-10 * np.abs(jtz).max())
    np.testing.assert_allclose(chi2, (z[: t.size] ** 2 + z[t.size :] ** 2) / s**2, rtol=1e-10)
    # the outlier test's χ²-only kernel equals the normal equations' χ² (same smoother decisions); 1e-13, not
    # bit for bit: two compiled kernels may contract multiply-adds differently on another CPU
    np.testing.assert_allclose(chi2_per_detection(theta, 185.0, 3, t, p, e1, e2, 1 / s**2), chi2, rtol=1e-13)


def _plain_normal_equations(theta, t_ref, degree, t, pos, e1, e2, w):
    """The round-6 accumulation written plainly: detection by detection, axis 0 then 1, upper triangle."""
    n_par = 3 * (degree + 1)
    info, jtz, chi2 = np.zeros((n_par, n_par)), np.zeros(n_par), np.zeros(t.size)
    for i in range(t.size):
        tau, f, b = t[i] - t_ref, 1.0, []
        for k in range(degree + 1):
            b.append(f)
            f = f * tau / (k + 1)
        d = [-pos[i][c] for c in range(3)]
        for k in range(degree + 1):
            d = [d[c] + b[k] * theta[3 * k + c] for c in range(3)]
        rho = math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
        u = [d[c] / rho for c in range(3)]
        rows, zz = [], []
        for e in (e1[i], e2[i]):
            z = e[0] * u[0] + e[1] * u[1] + e[2] * u[2]
            g = [(e[c] - z * u[c]) / rho for c in range(3)]
            rows.append([b[k] * g[c] for k in range(degree + 1) for c in range(3)])
            zz.append(z)
            chi2[i] += w[i] * z * z
        for c in range(n_par):
            wr0, wr1 = w[i] * rows[0][c], w[i] * rows[1][c]
            jtz[c] += wr0 * zz[0]
            jtz[c] += wr1 * zz[1]
            for c2 in range(c, n_par):
                info[c, c2] = (info[c, c2] + wr0 * rows[0][c2]) + wr1 * rows[1][c2]
    return info + np.triu(info, 1).T, jtz, chi2


@pytest.mark.parametrize(("degree", "n"), [(2, 12), (3, 31), (4, 40), (4, 41)])
def test_padded_paired_normal_equations_equal_the_plain_accumulation(degree, n):
    """Padded rows and two detections per pass keep every element's additions in the same order (bit for
    bit on the development machine; 1e-13 here, as compiled multiply-adds may contract on another CPU)."""
    truth = boost_truth()
    b = observe([truth], sensors(), np.random.default_rng(3))
    t, p, u, s = b.time_s[:n], b.sensor_pos_ecef_m[:n], b.los_ecef[:n], b.los_sigma_rad[:n]
    r, v = truth.state([t[-1]])
    theta = np.concatenate([r[0] + 300.0, v[0], [10.0, 5.0, 20.0], [0.1, 0.0, 0.2], [0.01, 0.0, 0.0]])[
        : 3 * degree + 3
    ]
    e1, e2 = tangent_basis(u)
    fast = normal_equations(theta, float(t[-1]), degree, t, p, e1, e2, 1 / s**2)
    plain = _plain_normal_equations(theta, float(t[-1]), degree, t, p, e1, e2, 1 / s**2)
    for got, want in zip(fast, plain, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * np.abs(want).max())


def test_closed_form_azimuth_baseline_equals_the_model_displacement():
    for degree, t_last in ((3, 60.0), (4, 80.0), (4, 41.0)):
        phi = np.r_[0.6, 0.9, 40.0, 1.2, [12.0, 0.4, 0.01][: degree - 1], [0.3, 0.02][: degree - 2]]
        model = AscentModel(degree, t_last)
        base = np.linalg.norm(model.position(t_last, phi)[0] - model.position(phi[2], phi)[0])
        est = summarize(model, phi, np.eye(phi.size))
        assert (est.azimuth_rad is not None) == (base >= MIN_AZIMUTH_BASELINE_M)
    # a short, slow arc: no azimuth
    phi = np.r_[0.6, 0.9, 40.0, 1.2, 1.0, 0.0, 0.0]
    assert summarize(AscentModel(3, 45.0), phi, np.eye(7)).azimuth_rad is None


def test_chi2_pretest_equals_the_normal_equations_chi2_bit_for_bit():
    """The LM rejection pre-test (ascentnormal.chi2_below) must give exactly the χ² of the normal equations (same
    accept/reject decisions), and stop early only once the partial sum has reached the limit."""
    from vigil.fusion.launch.ascentdata import Detections, Objective
    from vigil.fusion.launch.ascentnormal import chi2_below
    from vigil.fusion.launch.ascentnormal import normal_equations as ascent_normal_equations

    truth = boost_truth()
    b = observe([truth], sensors(), np.random.default_rng(5))
    keep = b.time_s < b.time_s.min() + 40.0
    t, p, u, s = b.time_s[keep], b.sensor_pos_ecef_m[keep], b.los_ecef[keep], b.los_sigma_rad[keep]
    e1, e2 = (np.ascontiguousarray(a) for a in tangent_basis(u))
    det = Detections(t, p, e1, e2, 1 / s**2)
    rng = np.random.default_rng(6)
    for degree, k0, prior_w in ((3, 2, 0.0), (4, 2, 0.04), (4, 3, 0.01)):
        for _ in range(20):
            n_h, n_s = degree - 1, degree - k0 + 1
            phi = np.r_[
                math.radians(28.5) + rng.normal(0, 1e-3),
                math.radians(-80.6) + rng.normal(0, 1e-3),
                t.min() - 60.0 + rng.normal(0, 5),
                rng.uniform(0, 2 * math.pi),
                rng.uniform(5, 30, n_h) / 10 ** np.arange(n_h),
                rng.uniform(0, 5, n_s) / 10 ** np.arange(n_s),
            ]
            objective = Objective(degree, k0, t.min() - 60.0, prior_w)
            full = ascent_normal_equations(phi, objective, det)[2]
            below = chi2_below(phi, objective, det, np.inf)
            assert below == pytest.approx(full, rel=1e-13)  # see the note on multiply-add contraction above
            limit = 0.3 * full
            part = chi2_below(phi, objective, det, limit)
            assert limit <= part <= full


def test_compiled_filter_los_prediction_equals_the_numpy_form():
    """gating._predict_los against the block form F P Fᵀ + Q projected on the view (written out in numpy)."""
    from types import SimpleNamespace

    from vigil.fusion.events.gating import filter_los_predictor

    rng = np.random.default_rng(7)
    live, owner, jerk = [], Owners(), 1e3
    for _ in range(4):
        a = rng.normal(size=(9, 9))
        x = np.r_[rng.normal(0, 1e6, 3) + [6.4e6, 0, 0], rng.normal(0, 2e3, 3), rng.normal(0, 30, 3)]
        live.append(
            SimpleNamespace(filter=LosExtendedKalmanFilter(100.0 + rng.uniform(0, 2), x, a @ a.T * 1e4))
        )
    strings = np.arange(7, dtype=np.int64)
    for k in range(5):
        owner[k] = live[k % 4]
    sensor = np.array([4.2e7, 1e6, 2e5])
    mask, u, cov = filter_los_predictor(live, owner, jerk)(strings, 103.0, sensor)
    np.testing.assert_array_equal(mask, [True] * 5 + [False] * 2)
    for k in range(5):
        f = owner[k].filter
        dt = 103.0 - f.t
        fm = np.kron(np.array([[1.0, dt, dt**2 / 2]]), np.eye(3))  # position rows of F(dt)
        pos, p_pos = fm @ f.x, fm @ f.P @ fm.T + jerk * abs(dt) ** 5 / 20 * np.eye(3)
        d = pos - sensor
        rho = np.linalg.norm(d)
        proj = np.eye(3) - np.outer(d, d) / rho**2
        np.testing.assert_allclose(u[k], d / rho, rtol=0, atol=1e-14)
        np.testing.assert_allclose(
            cov[k], proj @ p_pos @ proj / rho**2, rtol=1e-9, atol=1e-12 * np.abs(cov[k]).max()
        )
    assert not u[5:].any() and not cov[5:].any()


def test_seed_precheck_never_skips_a_filter_start():
    """:func:`vigil.fusion.events.assembly._may_seed` (the engine's cheap skip of filter starts) is False only where
    :func:`~vigil.fusion.association.associate.detections_and_seeds` finds fewer than two seeds."""
    rng = np.random.default_rng(5)
    skipped = 0
    for case in range(400):
        strings = []
        for k in range(int(rng.integers(1, 5))):
            s = SensorString(k, "abc"[int(rng.integers(0, 3))], "p")
            start = 10.0 + rng.integers(0, 12) * 0.5
            for i in range(int(rng.integers(0 if k else 1, 8))):
                u = rng.normal(size=3)
                s.append(
                    i,
                    start + 0.5 * i + (0.1 if case % 4 == 0 else 0.0),
                    rng.normal(0.0, 7e6, 3),
                    u / np.linalg.norm(u),
                    SIGMA,
                )
            strings.append(s)
        seeds = detections_and_seeds(strings)[1][0]
        if not _may_seed(strings):
            skipped += 1
            assert len(seeds) < 2, case
    assert 50 < skipped < 350  # both outcomes exercised
