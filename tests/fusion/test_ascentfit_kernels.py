"""The launch back-fit kernels (launch.ascentnormal, launch.ascentfit) against the plain detection-by-detection loops they
replaced, kept here: the vectorised normal equations, χ² pre-test and Levenberg–Marquardt fit must give the
same numbers bit for bit (the fits often stop at the iteration cap, where any round-off difference would be
amplified into visible differences of the salvo's estimates)."""

import math

import numba
import numpy as np
from fusion_truth import boost_truth, observe, sensors

from vigil import warmup
from vigil.frames import WGS84_A_M, WGS84_E2
from vigil.fusion.geometry.triangulate import tangent_basis
from vigil.fusion.launch.ascentdata import Detections, Objective
from vigil.fusion.launch.ascentfit import LM_CHI2_TOL, LM_LAMBDA0, _lm, window_data
from vigil.fusion.launch.ascentmodel import AscentModel
from vigil.fusion.launch.ascentnormal import BLOCK, _site_frame, chi2_below, normal_equations
from vigil.fusion.launch.backfit import CONTROLS, _objective


@numba.njit(cache=True)
def _plain_normal_equations(phi, objective, det):
    """The detection-by-detection loop that ascentnormal.normal_equations replaced (its reference)."""
    degree, k0, prior_t, prior_w = objective
    t, pos, e1, e2, w = det
    n_par = phi.size
    nh = degree - 1
    t_l = phi[2]
    sl, cl, sa, ca, east, north, up, nr, rg, along = _site_frame(phi)
    mr = WGS84_A_M * (1.0 - WGS84_E2) / (1.0 - WGS84_E2 * sl * sl) ** 1.5
    d_along = np.empty((3, 3))  # rows ∂along/∂(lat, lon, az): -ca·up, sa·(sl·north - cl·up) - ca·sl·east, …
    for c in range(3):
        d_along[0, c] = -ca * up[c]
        d_along[1, c] = sa * (sl * north[c] - cl * up[c]) - ca * sl * east[c]
        d_along[2, c] = ca * east[c] - sa * north[c]
    d_along_lat, d_along_lon, d_along_az = d_along[0], d_along[1], d_along[2]
    jtj = np.zeros((n_par, n_par))
    jtz = np.zeros(n_par)
    chi2 = 0.0
    dr = np.zeros((3, n_par))
    rows = np.zeros((2, n_par))
    zz = np.zeros(2)
    pw = np.empty(degree + 1)  # τ^k / k!, k = 0..degree (recurrence: no powers)
    for i in range(t.size):
        tau = max(t[i] - t_l, 0.0)
        pw[0] = 1.0
        for k in range(1, degree + 1):
            pw[k] = pw[k - 1] * tau / k
        h = 0.0
        dh = 0.0
        for j in range(nh):
            h += phi[4 + j] * pw[j + 2]
            dh += phi[4 + j] * pw[j + 1]
        s = 0.0
        ds = 0.0
        for m in range(degree - k0 + 1):
            s += phi[4 + nh + m] * pw[k0 + m]
            ds += phi[4 + nh + m] * pw[k0 + m - 1]
        for c in range(3):
            dr[c, 0] = mr * north[c] + h * north[c] + s * d_along_lat[c]
            dr[c, 1] = nr * cl * east[c] + h * cl * east[c] + s * d_along_lon[c]
            dr[c, 2] = -(dh * up[c] + ds * along[c])
            dr[c, 3] = s * d_along_az[c]
            for j in range(nh):
                dr[c, 4 + j] = pw[j + 2] * up[c]
            for m in range(degree - k0 + 1):
                dr[c, 4 + nh + m] = pw[k0 + m] * along[c]
        d0 = rg[0] + h * up[0] + s * along[0] - pos[i, 0]
        d1 = rg[1] + h * up[1] + s * along[1] - pos[i, 1]
        d2 = rg[2] + h * up[2] + s * along[2] - pos[i, 2]
        rho = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
        u0, u1, u2 = d0 / rho, d1 / rho, d2 / rho
        wi = w[i]
        for axis in range(2):  # both axes' rows first, then one pass over JᵀWJ (per element: axis 0, then 1)
            e = e1 if axis == 0 else e2
            ex, ey, ez = e[i, 0], e[i, 1], e[i, 2]
            z = ex * u0 + ey * u1 + ez * u2
            zz[axis] = z
            g0, g1, g2 = (ex - z * u0) / rho, (ey - z * u1) / rho, (ez - z * u2) / rho
            for c in range(n_par):
                rows[axis, c] = g0 * dr[0, c] + g1 * dr[1, c] + g2 * dr[2, c]
            chi2 += wi * z * z
        z0, z1 = zz[0], zz[1]
        for c in range(n_par):
            wr0, wr1 = wi * rows[0, c], wi * rows[1, c]
            jtz[c] += wr0 * z0
            jtz[c] += wr1 * z1
            for k2 in range(c, n_par):
                acc = jtj[c, k2] + wr0 * rows[0, k2]
                jtj[c, k2] = acc + wr1 * rows[1, k2]
    for a in range(n_par):
        for b in range(a):
            jtj[a, b] = jtj[b, a]
    if prior_w > 0.0:
        r_t = t_l - prior_t
        chi2 += prior_w * r_t * r_t
        jtz[2] += prior_w * r_t
        jtj[2, 2] += prior_w
    return jtj, jtz, chi2


@numba.njit(cache=True)
def _plain_chi2_below(phi, objective, det, limit):
    """The plain χ² pre-test (reference of ascentnormal.chi2_below)."""
    degree, k0, prior_t, prior_w = objective
    t, pos, e1, e2, w = det
    nh = degree - 1
    t_l = phi[2]
    _, _, _, _, _, _, up, _, rg, along = _site_frame(phi)
    chi2 = 0.0
    pw = np.empty(degree + 1)
    for i in range(t.size):
        tau = max(t[i] - t_l, 0.0)
        pw[0] = 1.0
        for k in range(1, degree + 1):
            pw[k] = pw[k - 1] * tau / k
        h = 0.0
        for j in range(nh):
            h += phi[4 + j] * pw[j + 2]
        s = 0.0
        for m in range(degree - k0 + 1):
            s += phi[4 + nh + m] * pw[k0 + m]
        d0 = rg[0] + h * up[0] + s * along[0] - pos[i, 0]
        d1 = rg[1] + h * up[1] + s * along[1] - pos[i, 1]
        d2 = rg[2] + h * up[2] + s * along[2] - pos[i, 2]
        rho = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
        u0, u1, u2 = d0 / rho, d1 / rho, d2 / rho
        for axis in range(2):
            e = e1 if axis == 0 else e2
            z = e[i, 0] * u0 + e[i, 1] * u1 + e[i, 2] * u2
            chi2 += w[i] * z * z
        if chi2 >= limit:
            return chi2
    if prior_w > 0.0:
        r_t = t_l - prior_t
        chi2 += prior_w * r_t * r_t
    return chi2


@numba.njit(cache=True)
def _plain_lm(phi0, objective, det, max_iterations):
    """The Levenberg–Marquardt loop on the plain kernels."""
    phi = phi0.copy()
    jtj, jtz, chi2 = _plain_normal_equations(phi, objective, det)
    lam = LM_LAMBDA0
    n = phi.size
    iterations = 0
    d = np.empty(n)
    a = np.empty((n, n))
    b = np.empty(n)
    for _ in range(max_iterations):
        iterations += 1
        for k in range(n):
            v = jtj[k, k]
            d[k] = math.sqrt(1e-300 if v < 1e-300 else v)  # np.maximum: NaN stays NaN
        for i in range(n):
            for j in range(n):
                a[i, j] = jtj[i, j] / (d[i] * d[j])
            a[i, i] += lam
            b[i] = jtz[i] / d[i]
        x = np.linalg.solve(a, b)
        trial = np.empty(n)
        for k in range(n):
            trial[k] = phi[k] + -x[k] / d[k]
        chi22 = _plain_chi2_below(trial, objective, det, chi2)
        if np.isfinite(chi22) and chi22 < chi2:
            jtj2, jtz2, chi22 = _plain_normal_equations(trial, objective, det)
        if np.isfinite(chi22) and chi22 < chi2:
            done = chi2 - chi22 < LM_CHI2_TOL
            phi, jtj, jtz, chi2 = trial, jtj2, jtz2, chi22
            lam = max(lam / 10.0, 1e-12)
            if done:
                break
        else:
            lam *= 10.0
            if lam > 1e12:
                break
    return phi, jtj, jtz, chi2, iterations


def _data(seed, n=None):
    truth = boost_truth()
    b = observe([truth], sensors(), np.random.default_rng(seed))
    keep = np.flatnonzero(b.time_s < b.time_s.min() + 40.0)[:n]
    t, p, u, s = b.time_s[keep], b.sensor_pos_ecef_m[keep], b.los_ecef[keep], b.los_sigma_rad[keep]
    e1, e2 = (np.ascontiguousarray(a) for a in tangent_basis(u))
    return Detections(t, np.ascontiguousarray(p), e1, e2, 1 / s**2)


def _phis(rng, t, degree, k0, count):
    for _ in range(count):
        n_h, n_s = degree - 1, degree - k0 + 1
        yield np.r_[
            math.radians(28.5) + rng.normal(0, 1e-3),
            math.radians(-80.6) + rng.normal(0, 1e-3),
            t.min() - 60.0 + rng.normal(0, 5),
            rng.uniform(0, 2 * math.pi),
            rng.uniform(5, 30, n_h) / 10 ** np.arange(n_h),
            rng.uniform(0, 5, n_s) / 10 ** np.arange(n_s),
        ]


CASES = ((3, 2, 0.0), (3, 3, 0.01), (4, 2, 0.04), (4, 3, 0.0044), (5, 3, 0.01))


def test_normal_equations_equal_the_plain_loop_bit_for_bit():
    """Block sizes around BLOCK (a partial last block, an odd last detection) and every model shape."""
    rng = np.random.default_rng(11)
    for n in (1, 2, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3, None):
        det = _data(3, n)
        for degree, k0, prior_w in CASES:
            for phi in _phis(rng, det.t, degree, k0, 4):
                args = (Objective(degree, k0, det.t.min() - 60.0, prior_w), det)
                got, want = normal_equations(phi, *args), _plain_normal_equations(phi, *args)
                for g, x in zip(got, want, strict=True):
                    np.testing.assert_array_equal(g, x)
                limit = 0.3 * want[2]
                assert chi2_below(phi, *args, np.inf) == _plain_chi2_below(phi, *args, np.inf) == want[2]
                assert limit <= chi2_below(phi, *args, limit) <= want[2]


def test_normal_equations_match_the_residuals_written_out():
    """The normal equations against z and J written out in numpy from the model (finite differences of z
    for J), to 1e-12 for z-based sums and the precision of the differences for J."""
    det = _data(4)
    t, p, e1, e2, w = det
    rng = np.random.default_rng(12)
    for degree, k0, prior_w in CASES[:4]:
        for phi in _phis(rng, t, degree, k0, 2):
            jtj, jtz, chi2 = normal_equations(phi, Objective(degree, k0, t.min() - 60.0, prior_w), det)
            z = _residuals(phi, degree, k0, t, p, e1, e2)
            r_t = phi[2] - (t.min() - 60.0)
            ww = np.concatenate([w, w])
            np.testing.assert_allclose(chi2, np.sum(ww * z * z) + prior_w * r_t**2, rtol=1e-12)
            jac = np.empty((z.size, phi.size))
            for k in range(phi.size):
                h = 1e-6 * max(abs(phi[k]), 1e-3)
                jac[:, k] = (
                    _residuals(phi + np.eye(phi.size)[k] * h, degree, k0, t, p, e1, e2)
                    - _residuals(phi - np.eye(phi.size)[k] * h, degree, k0, t, p, e1, e2)
                ) / (2 * h)
            want = jac.T @ (ww[:, None] * jac)
            want[2, 2] += prior_w
            scale = np.sqrt(np.outer(np.diag(want), np.diag(want)))
            assert np.abs((jtj - want) / scale).max() < 1e-5


def _residuals(phi, degree, k0, t, p, e1, e2):
    """``z`` of both axes (2T,) written out: pad + h(τ)·up + s(τ)·along, unit LOS, tangent-plane components."""
    tau = np.maximum(t - phi[2], 0.0)
    nh = degree - 1
    h = sum(phi[4 + j] * tau ** (j + 2) / math.factorial(j + 2) for j in range(nh))
    s = sum(phi[4 + nh + m] * tau ** (k0 + m) / math.factorial(k0 + m) for m in range(degree - k0 + 1))
    lat, lon, az = phi[0], phi[1], phi[3]
    east = np.array([-math.sin(lon), math.cos(lon), 0.0])
    north = np.array([-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)])
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    nr = WGS84_A_M / math.sqrt(1 - WGS84_E2 * math.sin(lat) ** 2)
    pad = nr * np.array([up[0], up[1], (1 - WGS84_E2) * up[2]])
    r = pad + np.outer(h, up) + np.outer(s, math.sin(az) * east + math.cos(az) * north)
    u = (r - p) / np.linalg.norm(r - p, axis=1, keepdims=True)
    return np.concatenate([np.einsum("ti,ti->t", e1, u), np.einsum("ti,ti->t", e2, u)])


def test_levenberg_marquardt_equals_the_plain_kernels_fit_bit_for_bit():
    """Whole fits (iteration cap included) on the new kernels and on the plain ones: identical."""
    det = _data(5)
    rng = np.random.default_rng(13)
    for degree, k0, prior_w in CASES[:4]:
        for phi in _phis(rng, det.t, degree, k0, 3):
            args = (Objective(degree, k0, det.t.min() - 60.0, prior_w), det, 60)
            for g, x in zip(_lm(phi, *args), _plain_lm(phi, *args), strict=True):
                np.testing.assert_array_equal(g, x)


def test_the_warmup_manifest_has_the_signature_the_estimator_calls_backfit_with():
    """``vigil warmup`` compiles backfit for the argument types the estimator passes (named structures)."""
    det = _data(6)
    window, t_first, t_last = window_data(
        det.t, det.pos, np.ones_like(det.pos) / math.sqrt(3.0), 1 / np.sqrt(det.w), 40.0
    )
    args = (np.zeros(9), _objective(AscentModel(4, t_last), t_first - 40.0, 15.0), window, CONTROLS, t_last)
    lines = [
        sig
        for name, _, sigs in warmup.read_manifest()
        if name == "vigil.fusion.launch.ascentfit:backfit"
        for sig in sigs
    ]
    assert [warmup.decode_types(sig) for sig in lines] == [tuple(numba.typeof(a) for a in args)]
