"""Stone Soup as a peer estimator: vigil's LOS observations of one launch through Stone Soup's UKF or EKF.

Adapter (Earth frames → Stone Soup). Each detection (``sensor_pos_ecef_m`` p, unit ``los_ecef`` u_m,
``los_sigma_rad`` σ, ``time_s`` t) becomes a Stone Soup :class:`~stonesoup.types.detection.Detection`
carrying its own :class:`~stonesoup.models.measurement.nonlinear.CartesianToElevationBearing` model with

* ``translation_offset = p``: the angles are those of the target relative to the sensor, in ECEF;
* ``rotation_offset = (0, el_m, az_m)``, the ECEF elevation/azimuth of the *measured* LOS, so that Stone
  Soup's rotation (``rotx(-0) @ roty(el) @ rotz(-az)``, :func:`stonesoup.functions.build_rotation_matrix`)
  turns u_m onto its +x axis. The model's (elevation, bearing) are then two small angles in the tangent
  plane of u_m (a boresight frame): far from the ±90° elevation pole and the ±180° bearing cut, so the
  noise ``diag(σ², σ²)`` is the LOS noise of vigil's records on each tangent axis and the unscented
  transform sees a near-linear function (the conditioning argument of the issue);
* ``noise_covar = diag(σ², σ²)`` (rad²), ``mapping = (0, 3, 6)`` into Stone Soup's state ordering
  ``[x, vx, ax, y, vy, ay, z, vz, az]`` (ECEF m, m/s, m/s²).

The detection's value is the measured LOS pushed through the same rotation (≈ (0, 0)), so the
innovation is exactly the tangent-plane angle between predicted and measured LOS.

Tracker. Constant acceleration per axis (:class:`~stonesoup.models.transition.linear.ConstantAcceleration`,
white-jerk process noise with spectral density ``jerk_psd`` m²/s⁵), initialised from the least-squares
triangulation (:func:`vigil.fusion.geometry.triangulate.triangulate`) of the earliest detection with the nearest-in-time
detection of another sensor; unknown velocity and acceleration start at zero with wide priors. Detections are
pre-associated (one launch); the filter runs over them in time order. Stone Soup timestamps are datetimes:
``time_s`` is added to a fixed :data:`TIME_ORIGIN` (only differences matter to the models).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
from stonesoup.models.measurement.nonlinear import CartesianToElevationBearing
from stonesoup.models.transition.linear import CombinedLinearGaussianTransitionModel, ConstantAcceleration
from stonesoup.predictor.kalman import ExtendedKalmanPredictor, UnscentedKalmanPredictor
from stonesoup.types.angle import Bearing, Elevation
from stonesoup.types.array import CovarianceMatrix, StateVector
from stonesoup.types.detection import Detection
from stonesoup.types.hypothesis import SingleHypothesis
from stonesoup.types.state import GaussianState
from stonesoup.updater.kalman import ExtendedKalmanUpdater, UnscentedKalmanUpdater

from vigil.errors import DataError
from vigil.fusion.boost.filter import JERK_PSD_M2_S5
from vigil.fusion.geometry.triangulate import triangulate
from vigil.records import ObservationBatch

STATE_DIM = 9
POS_IDX = (0, 3, 6)  # Stone Soup ordering: (x, vx, ax, y, vy, ay, z, vz, az)
VEL_IDX = (1, 4, 7)
ACC_IDX = (2, 5, 8)
TIME_ORIGIN = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # arbitrary: Stone Soup only uses timestamp differences
# White-jerk spectral density (m²/s⁵): the same as vigil's boost filter, so the two differ only in the filter
# (``bench_stonesoup.py --tune`` sweeps it for the peer on seeds disjoint from the reported ones).
DEFAULT_JERK_PSD_M2_S5 = JERK_PSD_M2_S5
INIT_POS_SIGMA_M = 2_000.0  # triangulation of two frames up to half a frame apart at ascent speed
INIT_VEL_SIGMA_M_S = 1_500.0  # velocity unknown at first detection (≤ 1 km/s at 10–20 km altitude)
INIT_ACC_SIGMA_M_S2 = 60.0  # thrust acceleration of a boosting stage: a few g
KINDS = ("ukf", "ekf")
# Stone Soup state order (x, vx, ax, y, vy, ay, z, vz, az) → vigil's (r, v, a): ``x_vigil = x_ss[SS_TO_VIGIL]``
SS_TO_VIGIL = np.array([0, 3, 6, 1, 4, 7, 2, 5, 8])


def boresight_angles(los) -> tuple[np.ndarray, np.ndarray]:
    """ECEF elevation ``asin(u_z)`` and azimuth ``atan2(u_y, u_x)`` (rad) of unit vectors ``(..., 3)``."""
    u = np.asarray(los, dtype=float)
    return np.arcsin(np.clip(u[..., 2], -1.0, 1.0)), np.arctan2(u[..., 1], u[..., 0])


def los_model(sensor_pos_ecef_m, los_meas, sigma_rad: float) -> CartesianToElevationBearing:
    """Stone Soup angles-only model of one detection, in the boresight frame of its measured LOS."""
    el, az = boresight_angles(los_meas)
    return CartesianToElevationBearing(
        ndim_state=STATE_DIM,
        mapping=POS_IDX,
        noise_covar=CovarianceMatrix(np.diag([sigma_rad**2, sigma_rad**2])),
        translation_offset=StateVector(np.asarray(sensor_pos_ecef_m, dtype=float).reshape(3, 1)),
        rotation_offset=StateVector([[0.0], [float(el)], [float(az)]]),
    )


def measured_angles(model: CartesianToElevationBearing, los_meas) -> StateVector:
    """The detection value: the measured LOS in the model's boresight frame as (elevation, bearing)."""
    x, y, z = model.rotation_matrix @ np.asarray(los_meas, dtype=float)
    return StateVector([[Elevation(np.arcsin(np.clip(z, -1.0, 1.0)))], [Bearing(np.arctan2(y, x))]])


def model_los(model: CartesianToElevationBearing, state_vector) -> np.ndarray:
    """Unit ECEF LOS (sensor → target) implied by ``model.function`` at a 9-D state: the inverse map."""
    el, bearing = (float(a) for a in np.ravel(model.function(GaussianState(state_vector, np.eye(STATE_DIM)))))
    boresight = np.array([np.cos(el) * np.cos(bearing), np.cos(el) * np.sin(bearing), np.sin(el)])
    return model.rotation_matrix.T @ boresight


def to_detections(obs: ObservationBatch) -> list[Detection]:
    """One Stone Soup detection per row of a time-sorted batch, each with its own :func:`los_model`."""
    out = []
    for t, p, u, s in zip(obs.time_s, obs.sensor_pos_ecef_m, obs.los_ecef, obs.los_sigma_rad, strict=True):
        model = los_model(p, u, float(s))
        out.append(Detection(measured_angles(model, u), timestamp=stamp(t), measurement_model=model))
    return out


def stamp(t_s: float) -> dt.datetime:
    """Stone Soup timestamp of ``t_s`` seconds (µs resolution, the datetime limit)."""
    return TIME_ORIGIN + dt.timedelta(seconds=float(t_s))


def transition_model(jerk_psd_m2_s5: float = DEFAULT_JERK_PSD_M2_S5) -> CombinedLinearGaussianTransitionModel:
    """Constant acceleration on each ECEF axis, white jerk of spectral density ``jerk_psd_m2_s5``."""
    return CombinedLinearGaussianTransitionModel([ConstantAcceleration(jerk_psd_m2_s5) for _ in range(3)])


def first_pair(obs: ObservationBatch) -> tuple[int, int]:
    """Indices of the earliest detection and the nearest-in-time detection of another sensor."""
    i = 0
    other = np.nonzero(obs.sensor_id != obs.sensor_id[i])[0]
    if len(other) == 0:
        raise DataError("observations: the Stone Soup peer needs detections from at least two sensors")
    return i, int(other[np.argmin(np.abs(obs.time_s[other] - obs.time_s[i]))])


def prior(obs: ObservationBatch, pair: tuple[int, int]) -> tuple[float, np.ndarray, np.ndarray]:
    """Prior ``(t_s, mean (9,), cov (9, 9))`` in Stone Soup ordering at the earliest detection of ``pair``.

    Position: triangulation of the pair's two rays; velocity and acceleration zero; diagonal covariance
    from :data:`INIT_POS_SIGMA_M`, :data:`INIT_VEL_SIGMA_M_S`, :data:`INIT_ACC_SIGMA_M_S2`.
    """
    idx = list(pair)
    r, _ = triangulate(obs.sensor_pos_ecef_m[idx], obs.los_ecef[idx], obs.los_sigma_rad[idx])
    mean = np.zeros(STATE_DIM)
    mean[list(POS_IDX)] = r
    var = np.tile([INIT_POS_SIGMA_M**2, INIT_VEL_SIGMA_M_S**2, INIT_ACC_SIGMA_M_S2**2], 3)
    return float(obs.time_s[pair[0]]), mean, np.diag(var)


def initial_state(obs: ObservationBatch, pair: tuple[int, int]) -> GaussianState:
    """The :func:`prior` as a Stone Soup :class:`GaussianState`."""
    t_s, mean, cov = prior(obs, pair)
    return GaussianState(StateVector(mean), CovarianceMatrix(cov), timestamp=stamp(t_s))


@dataclass(frozen=True)
class PeerTrack:
    """Stone Soup's filtered track: ``time_s`` (K,), ``state`` (K, 9) and ``cov`` (K, 9, 9) after each update.

    ``n_obs`` detections used, ``runtime_s`` the wall time of :func:`run_peer` (adapter included);
    ``jerk_psd_m2_s5`` the transition model's process noise.
    """

    time_s: np.ndarray
    state: np.ndarray
    cov: np.ndarray
    n_obs: int
    runtime_s: float
    jerk_psd_m2_s5: float

    def position(self) -> np.ndarray:
        """ECEF position (m) ``(K, 3)`` of the filtered states."""
        return self.state[:, list(POS_IDX)]

    def velocity(self) -> np.ndarray:
        """ECEF velocity (m/s) ``(K, 3)`` of the filtered states."""
        return self.state[:, list(VEL_IDX)]

    def state_at(self, t_s: float, from_last: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Position (m) and velocity (m/s) ``(3,)`` at ``t_s`` by the transition model.

        Predicted from the last update at or before ``t_s`` (a causal filter output), or with ``from_last``
        from the final update, forwards or backwards (the filter's answer once every detection is in).
        """
        k = len(self.time_s) - 1 if from_last else int(np.searchsorted(self.time_s, t_s, side="right")) - 1
        if k < 0:
            raise DataError(f"peer track: t = {t_s} s is before the first update at {self.time_s[0]} s")
        x = (
            transition_model(self.jerk_psd_m2_s5).matrix(
                time_interval=dt.timedelta(seconds=float(t_s - self.time_s[k]))
            )
            @ self.state[k]
        )
        return x[list(POS_IDX)], x[list(VEL_IDX)]


def _filter_parts(kind: str, jerk_psd_m2_s5: float):
    if kind not in KINDS:
        raise DataError(f"peer filter: kind {kind!r} is not one of {KINDS}")
    tm = transition_model(jerk_psd_m2_s5)
    if kind == "ukf":
        return UnscentedKalmanPredictor(tm), UnscentedKalmanUpdater()
    return ExtendedKalmanPredictor(tm), ExtendedKalmanUpdater()


def run_peer(
    obs: ObservationBatch, kind: str = "ukf", jerk_psd_m2_s5: float = DEFAULT_JERK_PSD_M2_S5
) -> PeerTrack:
    """Run Stone Soup's UKF (or EKF) over the detections of one launch (any order; sorted here).

    ``obs``: detections of one launch from ≥ 2 sensors. Returns the filtered :class:`PeerTrack`.
    """
    t0 = time.perf_counter()
    if len(obs) < 3:
        raise DataError(f"observations: the Stone Soup peer needs ≥ 3 detections, got {len(obs)}")
    obs = obs.sorted_by_time()
    pair = first_pair(obs)
    state = initial_state(obs, pair)
    predictor, updater = _filter_parts(kind, jerk_psd_m2_s5)
    keep = np.ones(len(obs), bool)
    keep[pair[1]] = False
    keep[pair[0]] = False  # both rays of the prior's triangulation are already in it
    times, states, covs = [], [], []
    for det, t in zip(to_detections(obs.take(keep)), obs.time_s[keep], strict=True):
        prediction = predictor.predict(state, timestamp=det.timestamp)
        state = updater.update(SingleHypothesis(prediction, det))
        times.append(t)
        states.append(np.asarray(state.state_vector, dtype=float).ravel())
        covs.append(np.asarray(state.covar, dtype=float))
    return PeerTrack(
        np.array(times),
        np.array(states),
        np.array(covs),
        int(keep.sum()),
        time.perf_counter() - t0,
        jerk_psd_m2_s5,
    )
