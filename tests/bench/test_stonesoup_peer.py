"""The Stone Soup adapter is right: its measurement model reproduces vigil's LOS, and its filters converge.

Truth here is independent of the code under test: a constant-acceleration arc written out analytically
(the filters' own motion model, so noise-free LOS must pin the state down to the metre), LOS computed
from positions, and angular offsets injected by construction in the tangent plane.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from stonesoup.types.state import GaussianState

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from stonesoup_peer import (  # noqa: E402
    POS_IDX,
    SS_TO_VIGIL,
    STATE_DIM,
    VEL_IDX,
    first_pair,
    los_model,
    model_los,
    prior,
    run_peer,
    to_detections,
)
from vigil.errors import DataError  # noqa: E402
from vigil.frames import WGS84_A_M, enu_basis, geodetic_to_ecef  # noqa: E402
from vigil.fusion.boost.filter import LosExtendedKalmanFilter  # noqa: E402
from vigil.fusion.geometry.triangulate import tangent_basis  # noqa: E402
from vigil.records import ObservationBatch  # noqa: E402

SIGMA_RAD = 20e-6
LAT, LON = np.radians(45.0), np.radians(63.3)
GEO_M = 42_164_000.0 - WGS84_A_M
EAST, NORTH, UP = enu_basis(LAT, LON)
R0 = geodetic_to_ecef(LAT, LON, 20e3)
V0 = 900.0 * UP + 400.0 * NORTH + 100.0 * EAST
A0 = 30.0 * UP + 20.0 * NORTH - 5.0 * EAST
SENSORS = {
    "geo-a": geodetic_to_ecef(0.0, LON - np.radians(35.0), GEO_M),
    "geo-b": geodetic_to_ecef(0.0, LON + np.radians(30.0), GEO_M),
    "heo-a": geodetic_to_ecef(np.radians(63.0), LON + np.radians(45.0), 35_000e3),
    "polar": geodetic_to_ecef(np.radians(89.9), 0.0, 20_000e3),  # LOS near ECEF elevation -90°
}
ONE_METRE = 1.0


def truth(t):
    """Constant-acceleration arc: position (T, 3) m and velocity (T, 3) m/s at times ``t`` s."""
    t = np.asarray(t, dtype=float)[:, None]
    return R0 + V0 * t + 0.5 * A0 * t * t, V0 + A0 * t


def batch(duration_s=60.0, frame_s=1.0, noise_rad=0.0, sensors=SENSORS, seed=3) -> ObservationBatch:
    """LOS detections of :func:`truth` by ``sensors``, asynchronous frames, optional tangent-plane noise."""
    rng = np.random.default_rng(seed)
    sid, t, p, u = [], [], [], []
    for name, pos in sensors.items():
        ts = rng.uniform(0.0, frame_s) + np.arange(0.0, duration_s, frame_s)
        d = truth(ts)[0] - pos
        los = d / np.linalg.norm(d, axis=1, keepdims=True)
        e1, e2 = tangent_basis(los)
        n = rng.normal(0.0, noise_rad, (len(ts), 2)) if noise_rad else np.zeros((len(ts), 2))
        los = los + n[:, :1] * e1 + n[:, 1:] * e2
        sid += [name] * len(ts)
        t.append(ts)
        p.append(np.broadcast_to(pos, (len(ts), 3)))
        u.append(los / np.linalg.norm(los, axis=1, keepdims=True))
    m = len(sid)
    return ObservationBatch(
        "2026-03-01T12:00:00Z",
        np.arange(m),
        np.array(sid, dtype=object),
        np.full(m, "p", dtype=object),
        np.concatenate(t),
        np.concatenate(p),
        np.concatenate(u),
        np.full(m, SIGMA_RAD),
        np.zeros(m),
        np.zeros(m),
        np.zeros(m, np.int64),
    ).sorted_by_time()


def ss_state(r, v, a=np.zeros(3)) -> np.ndarray:
    """9-D Stone Soup state vector (x, vx, ax, y, vy, ay, z, vz, az) as a (9, 1) column."""
    x = np.zeros(STATE_DIM)
    x[SS_TO_VIGIL] = np.concatenate([r, v, a])
    return x.reshape(-1, 1)


def _gaussian(state_vector) -> GaussianState:
    return GaussianState(state_vector, np.eye(STATE_DIM))


def test_model_function_reproduces_observation_los_exactly():
    obs = batch(duration_s=10.0)
    r, v = truth(obs.time_s)
    for i, det in enumerate(to_detections(obs)):
        state = ss_state(r[i], v[i])
        np.testing.assert_allclose(model_los(det.measurement_model, state), obs.los_ecef[i], atol=1e-12)
        predicted = np.asarray(det.measurement_model.function(_gaussian(state)), dtype=float).ravel()
        np.testing.assert_allclose(predicted, np.asarray(det.state_vector, dtype=float).ravel(), atol=1e-12)
        assert np.max(np.abs(np.asarray(det.state_vector, dtype=float))) < 1e-12  # boresight: LOS on +x
    assert set(obs.sensor_id) == set(SENSORS)  # the near-pole geometry was exercised


def test_innovation_equals_injected_tangent_plane_angle():
    """An LOS offset by (n1, n2) rad in the tangent plane gives model angles offset by exactly that much."""
    obs = batch(duration_s=10.0, noise_rad=SIGMA_RAD, seed=11)
    r, v = truth(obs.time_s)
    d = r - obs.sensor_pos_ecef_m
    true_u = d / np.linalg.norm(d, axis=1, keepdims=True)
    injected = np.arctan2(
        np.linalg.norm(np.cross(true_u, obs.los_ecef), axis=1), np.einsum("ij,ij->i", true_u, obs.los_ecef)
    )
    for i, det in enumerate(to_detections(obs)):
        pred = np.asarray(
            det.measurement_model.function(_gaussian(ss_state(r[i], v[i]))), dtype=float
        ).ravel()
        innovation = np.asarray(det.state_vector, dtype=float).ravel() - pred
        assert np.linalg.norm(innovation) == pytest.approx(injected[i], rel=1e-8, abs=1e-15)
        assert det.measurement_model.covar()[0, 0] == pytest.approx(SIGMA_RAD**2)


@pytest.mark.parametrize("kind", ["ukf", "ekf"])
def test_noise_free_angles_only_updates_converge_within_metres(kind):
    obs = batch(duration_s=60.0, sensors={k: SENSORS[k] for k in ("geo-a", "geo-b", "heo-a")})
    track = run_peer(obs, kind, jerk_psd_m2_s5=1e-3)
    r, v = truth(track.time_s[-1:])
    assert np.linalg.norm(track.position()[-1] - r[0]) < 3 * ONE_METRE
    assert np.linalg.norm(track.velocity()[-1] - v[0]) < 0.3
    assert track.n_obs == len(obs) - 2  # the two triangulated rays are in the prior, not updated twice
    # the prior really was metres-to-km off: the convergence is the filter's doing
    assert np.linalg.norm(track.position()[0] - truth(track.time_s[:1])[0][0]) > 10 * ONE_METRE
    r_later, v_later = truth([track.time_s[-1] + 5.0])
    r_pred, v_pred = track.state_at(track.time_s[-1] + 5.0)
    assert np.linalg.norm(r_pred - r_later[0]) < 5 * ONE_METRE
    assert np.linalg.norm(v_pred - v_later[0]) < 0.5
    r_back, _ = track.state_at(track.time_s[-1] - 3.0, from_last=True)  # backwards from the final update
    assert np.linalg.norm(r_back - truth([track.time_s[-1] - 3.0])[0][0]) < 3 * ONE_METRE


def test_stone_soup_ekf_agrees_with_vigil_boost_ekf_on_noisy_los():
    """Same prior, same models, same rays: two independent EKF codes give the same state (≪ its 1σ)."""
    obs = batch(
        duration_s=40.0,
        noise_rad=SIGMA_RAD,
        seed=5,
        sensors={k: SENSORS[k] for k in ("geo-a", "geo-b", "heo-a")},
    )
    track = run_peer(obs, "ekf", jerk_psd_m2_s5=4.0)
    pair = first_pair(obs)
    t0, mean, cov = prior(obs, pair)
    kf = LosExtendedKalmanFilter(t0, mean[SS_TO_VIGIL], cov[np.ix_(SS_TO_VIGIL, SS_TO_VIGIL)], 4.0)
    for i in sorted(set(range(len(obs))) - set(pair)):
        kf.predict(obs.time_s[i])
        kf.update(obs.sensor_pos_ecef_m[i], obs.los_ecef[i], obs.los_sigma_rad[i])
    sigma_pos = np.sqrt(np.trace(track.cov[-1][np.ix_(POS_IDX, POS_IDX)]))
    assert np.linalg.norm(kf.x[:3] - track.position()[-1]) < 1e-4 * sigma_pos
    sigma_vel = np.sqrt(np.trace(track.cov[-1][np.ix_(VEL_IDX, VEL_IDX)]))
    assert np.linalg.norm(kf.x[3:6] - track.velocity()[-1]) < 1e-4 * sigma_vel


def test_peer_rejects_single_sensor_and_unknown_filter():
    obs = batch(duration_s=5.0, sensors={"geo-a": SENSORS["geo-a"]})
    with pytest.raises(DataError, match="at least two sensors"):
        run_peer(obs)
    with pytest.raises(DataError, match="kind 'pf'"):
        run_peer(batch(duration_s=5.0), kind="pf")


def test_los_model_noise_is_diagonal_sigma_squared():
    model = los_model(SENSORS["geo-a"], np.array([0.0, 0.6, -0.8]), 3e-5)
    np.testing.assert_allclose(model.covar(), np.diag([9e-10, 9e-10]))
