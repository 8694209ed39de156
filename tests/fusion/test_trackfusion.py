"""Covariance intersection (vigil.fusion.partners.trackfusion) against brute force and a Monte Carlo with correlated errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vigil.fusion.partners.trackfusion import (
    ci_omega,
    ci_omega_2d,
    cov_ellipse,
    covariance_intersection,
    ellipse_cov_km2,
    fast_ci_omega,
    from_tangent_km,
    fuse_warnings,
    tangent_km,
)
from vigil.warning.records import Sources, Warning


def _brute_omega(pa: np.ndarray, pb: np.ndarray, n: int = 200_001) -> float:
    """ω minimising det P by evaluating det(ω A + (1 − ω) B) on a fine grid (no algebra shared with the code)."""
    a, b = np.linalg.inv(pa), np.linalg.inv(pb)
    w = np.linspace(0.0, 1.0, n)
    m = w[:, None, None] * a + (1.0 - w)[:, None, None] * b
    return float(w[np.argmax(np.linalg.det(m))])


def _random_cov(rng: np.random.Generator, dim: int) -> np.ndarray:
    m = rng.normal(size=(dim, dim)) * rng.uniform(0.1, 10.0, size=dim)
    return m @ m.T + 1e-3 * np.eye(dim)


def test_textbook_2d_omega_matches_brute_force():
    # Julier & Uhlmann's classic picture: two long thin ellipses crossing at right angles.
    pa, pb = np.diag([4.0, 0.25]), np.diag([0.25, 4.0])
    brute = _brute_omega(pa, pb)
    assert brute == pytest.approx(0.5, abs=1e-5)  # by symmetry
    assert ci_omega(pa, pb) == pytest.approx(brute, abs=1e-5)
    assert ci_omega_2d(pa, pb) == pytest.approx(brute, abs=1e-5)
    # an asymmetric example: the optimum is interior and not 0.5
    pa, pb = np.array([[3.0, 1.2], [1.2, 1.0]]), np.array([[1.0, -0.4], [-0.4, 2.5]])
    brute = _brute_omega(pa, pb)
    assert 0.05 < brute < 0.95 and abs(brute - 0.5) > 0.01
    assert ci_omega(pa, pb) == pytest.approx(brute, abs=1e-5)
    assert ci_omega_2d(pa, pb) == pytest.approx(brute, abs=1e-5)


@pytest.mark.parametrize("seed", range(6))
def test_omega_matches_brute_force_on_random_pairs(seed):
    rng = np.random.default_rng(seed)
    pa, pb = _random_cov(rng, 2), _random_cov(rng, 2)
    brute = _brute_omega(pa, pb)
    det = lambda w: np.linalg.det(np.linalg.inv(w * np.linalg.inv(pa) + (1 - w) * np.linalg.inv(pb)))  # noqa: E731
    for w in (ci_omega(pa, pb), ci_omega_2d(pa, pb)):
        assert det(w) <= det(brute) * (1 + 1e-8)
    # the fast approximation is never better than the optimum, and within a factor of it here
    wf = fast_ci_omega(pa, pb)
    assert det(brute) * (1 - 1e-9) <= det(wf) <= 2.0 * det(brute)
    # a dominated input: CI keeps the better one (ω = 1 when Pa ≤ Pb)
    assert ci_omega(pa, pa + pb) == pytest.approx(1.0, abs=1e-6)


def _correlated_errors(rng, pa, pb, rho, n):
    """n draws of (ea, eb) with Cov ea = pa, Cov eb = pb and cross-covariance La (rho R) Lbᵀ, R a rotation."""
    la, lb = np.linalg.cholesky(pa), np.linalg.cholesky(pb)
    dim = len(pa)
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    z, w = rng.normal(size=(n, dim)), rng.normal(size=(n, dim))
    ea = z @ la.T
    eb = (rho * z @ q.T + math.sqrt(1.0 - rho * rho) * w) @ lb.T
    return ea, eb


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, 1.0])
def test_ci_is_never_optimistic_under_unknown_correlation(rho):
    rng = np.random.default_rng(11)
    naive_optimistic = []
    for trial in range(8):
        dim = 2 if trial % 2 else 3
        pa, pb = _random_cov(rng, dim), _random_cov(rng, dim)
        ea, eb = _correlated_errors(rng, pa, pb, rho, 100_000)
        for omega in (None, fast_ci_omega(pa, pb) if dim == 2 else 0.3):
            _, p, w = covariance_intersection(np.zeros(dim), pa, np.zeros(dim), pb, omega)
            ia, ib = np.linalg.inv(pa), np.linalg.inv(pb)
            gain_a, gain_b = p @ (w * ia), p @ ((1 - w) * ib)
            e = ea @ gain_a.T + eb @ gain_b.T  # the fused error, draw by draw
            true_cov = np.cov(e.T)
            # P ≥ true covariance: whitened, every eigenvalue of the true covariance ≤ 1 (+ sampling slack)
            lp = np.linalg.cholesky(p)
            white = np.linalg.solve(lp, np.linalg.solve(lp, true_cov).T)
            assert np.linalg.eigvalsh(white).max() <= 1.03
        # the independence (Kalman) fusion, for contrast: optimistic once errors are correlated
        p_naive = np.linalg.inv(np.linalg.inv(pa) + np.linalg.inv(pb))
        e = ea @ (p_naive @ np.linalg.inv(pa)).T + eb @ (p_naive @ np.linalg.inv(pb)).T
        ln = np.linalg.cholesky(p_naive)
        naive_optimistic.append(
            np.linalg.eigvalsh(np.linalg.solve(ln, np.linalg.solve(ln, np.cov(e.T)).T)).max()
        )
    if rho >= 0.9:
        assert max(naive_optimistic) > 1.2  # the check above can fail: it does for the naive fusion


def test_ellipse_and_tangent_round_trips():
    for ellipse in [(30.0, 5.0, 2.0), (170.0, 1.0, 1.0 - 1e-9), (0.0, 12.0, 0.5), (95.0, 3.0, 2.9)]:
        back = cov_ellipse(ellipse_cov_km2(ellipse, 0.95), 0.95)
        assert back[1:] == pytest.approx(ellipse[1:], rel=1e-9)
        if ellipse[1] - ellipse[2] > 1e-6:
            assert back[0] == pytest.approx(ellipse[0], abs=1e-6)
    # σ along the major axis: the ellipse's semi-axis / sqrt(-2 ln 0.05)
    cov = ellipse_cov_km2((90.0, 6.0, 1.0), 0.95)
    assert math.sqrt(cov[0, 0]) == pytest.approx(6.0 / math.sqrt(-2 * math.log(0.05)))
    for lat, lon, e, n in [(45.0, 63.3, 12.0, -30.0), (-80.0, 179.9, 40.0, 5.0), (0.0, 0.0, -3.0, 0.0)]:
        lat1, lon1 = from_tangent_km(lat, lon, [e, n])
        assert tangent_km(lat, lon, lat1, lon1) == pytest.approx([e, n], abs=1e-9)


def _warning(lat, lon, t, ellipse, *, sigma_t=2.0, az=None, az_sigma=None, partners=("north",), event="e1"):
    return Warning(
        event_id=event,
        version=1,
        issued_at="2026-03-01T12:06:00.000000Z",
        class_="ballistic",
        launch_time_s=t,
        launch_time_sigma_s=sigma_t,
        launch_lat_deg=lat,
        launch_lon_deg=lon,
        launch_ellipse=ellipse,
        azimuth_deg=az,
        azimuth_sigma_deg=az_sigma,
        sources=Sources(("n1", "n2"), partners),
    )


def test_fuse_warnings_is_a_ci_of_the_launch_state():
    own = _warning(45.0, 63.3, 300.0, (40.0, 6.0, 1.0), az=40.0, az_sigma=3.0)
    lat, lon = from_tangent_km(45.0, 63.3, [3.0, -2.0])
    other = _warning(
        lat, lon, 302.0, (130.0, 5.0, 1.5), sigma_t=4.0, az=359.0, az_sigma=2.0, partners=("east",)
    )
    fused = fuse_warnings(own, other, "east")
    assert fused.sources.partners == ("east", "north") and fused.sources.sensors == ("n1", "n2")
    # the 2-D CI of the two ellipses with their own ω: the fused launch ellipse is that of the 3-D launch state
    area = lambda w: w.launch_ellipse[1] * w.launch_ellipse[2]  # noqa: E731
    assert area(fused) < min(area(own), area(other))  # crossing ellipses: CI is smaller than each
    # the launch state [east, north, time] by brute-force ω, from covariances built here by hand
    k = math.sqrt(-2 * math.log(0.05))

    def cov3(bearing, a, b, st):
        u = np.array([math.sin(math.radians(bearing)), math.cos(math.radians(bearing))])
        v = np.array([u[1], -u[0]])
        out = np.zeros((3, 3))
        out[:2, :2] = (a / k) ** 2 * np.outer(u, u) + (b / k) ** 2 * np.outer(v, v)
        out[2, 2] = st * st
        return out

    pa, pb = cov3(40.0, 6.0, 1.0, 2.0), cov3(130.0, 5.0, 1.5, 4.0)
    w = _brute_omega(pa, pb)
    ia, ib = np.linalg.inv(pa), np.linalg.inv(pb)
    p = np.linalg.inv(w * ia + (1 - w) * ib)
    expect = p @ (w * ia @ [0.0, 0.0, 300.0] + (1 - w) * ib @ [3.0, -2.0, 302.0])
    x = tangent_km(45.0, 63.3, fused.launch_lat_deg, fused.launch_lon_deg)
    assert x == pytest.approx(expect[:2], abs=2e-3)
    assert fused.launch_time_s == pytest.approx(expect[2], abs=1e-3)
    assert fused.launch_time_sigma_s == pytest.approx(math.sqrt(p[2, 2]), rel=1e-3)
    # azimuth across north: between 359 and 40 the short way
    assert fused.azimuth_deg >= 359.0 or fused.azimuth_deg <= 40.0
    assert fused.azimuth_sigma_deg <= 2.0 + 1e-9
    # the same estimate twice: unchanged (CI does not count it twice)
    same = fuse_warnings(own, own, "east")
    assert same.launch_ellipse == pytest.approx(own.launch_ellipse, rel=1e-6)
    assert (same.launch_lat_deg, same.launch_lon_deg) == pytest.approx((45.0, 63.3), abs=1e-9)
