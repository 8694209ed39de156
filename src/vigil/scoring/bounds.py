"""Cramér–Rao bounds of a simulated launch, from its true trajectory and the detections that saw it.

Here (and only here) the truth associations of observations are used: a bound needs the actual geometry
and noise of the detections of that launch, not what the fusion made of them.

* **Launch**: :func:`vigil.fusion.crlb.launch_crlb` for the fusion's own ascent model (the degree and window
  that :class:`~vigil.fusion.launch.AscentBackFitEstimator` chooses for these detection times), evaluated at
  ``φ_true``, the model's least-squares fit to the true positions at the detections' emission instants.
* **Impact**: :func:`vigil.fusion.crlb.impact_crlb` (the burnout-state bound of the final stage carried
  through the impact map) about the true state at the last detection; ballistic launches only.

Both are reported as RMS radial bounds ``sqrt(trace(C_EN))`` in km: the RMS error of an efficient unbiased
estimator. For a circular Gaussian error the *median* radial error is 0.83 of that RMS (Rayleigh: 1.177σ
against 1.414σ), so an efficient estimator shows median error / bound ≈ 0.83.
A launch whose detections (in the window concerned) come from fewer than :data:`MIN_SENSORS` sensors gets
no bound (null): one line of sight leaves the range unobservable but for the model's own stiffness.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import least_squares

from ..flight.trajectory import Trajectory
from ..fusion import crlb
from ..fusion.burnout import final_stage
from ..fusion.launch import AscentBackFitEstimator, AscentModel, initial_phi

MIN_SENSORS = 2  # distinct sensors needed before a bound is reported
_NO_BOUND = {"launch_crlb_km": None, "azimuth_crlb_deg": None, "time_crlb_s": None, "impact_crlb_km": None}


def fit_true_phi(model: AscentModel, t_s: np.ndarray, r_true_m: np.ndarray) -> np.ndarray:
    """``φ`` of ``model`` closest (least squares, m) to the true positions ``r_true_m`` ``(T, 3)`` at ``t_s``."""
    phi0 = initial_phi(model, t_s, r_true_m)

    def residuals(phi):
        return (model.position(t_s, phi) - r_true_m).ravel()

    def jacobian(phi):
        return model.jacobian(t_s, phi).reshape(-1, model.size)

    return least_squares(residuals, phi0, jac=jacobian, method="lm", x_scale="jac").x


def launch_bound(traj: Trajectory, times, t_emit_s, pos, sigma, sensor_ids) -> dict | None:
    """Launch CRLB of one launch: ``{"launch_crlb_km", "azimuth_crlb_deg", "time_crlb_s"}`` or None.

    ``times`` (T,) detection times (s); ``t_emit_s`` (T,) emission instants; ``pos`` (T, 3) sensor ECEF (m);
    ``sigma`` (T,) LOS noise (rad); ``sensor_ids`` (T,) — the detections of this launch only.
    """
    times = np.asarray(times, dtype=float)
    chosen = AscentBackFitEstimator().model_for(times) if len(times) else None
    if chosen is None:
        return None
    model, keep = chosen
    if len(set(np.asarray(sensor_ids)[keep].tolist())) < MIN_SENSORS:
        return None
    t, p, s = times[keep], np.asarray(pos, dtype=float)[keep], np.asarray(sigma, dtype=float)[keep]
    phi = fit_true_phi(model, t, traj.state_at(np.asarray(t_emit_s, dtype=float)[keep])[0])
    bound = crlb.launch_crlb(model, phi, t, p, s)
    rms_m = math.sqrt(float(np.trace(bound.cov_en_m2)))
    if not math.isfinite(rms_m):
        return None
    return {
        "launch_crlb_km": rms_m / 1000.0,
        "azimuth_crlb_deg": None if bound.azimuth_sigma_rad is None else math.degrees(bound.azimuth_sigma_rad),
        "time_crlb_s": bound.time_sigma_s,
    }


def impact_bound_km(traj: Trajectory, times, t_emit_s, pos, sigma, sensor_ids) -> float | None:
    """RMS radial impact CRLB (km) of one ballistic launch from its detections, or None."""
    times, t_emit_s = np.asarray(times, dtype=float), np.asarray(t_emit_s, dtype=float)
    if len(times) < 2 or len(set(np.asarray(sensor_ids)[final_stage(times)].tolist())) < MIN_SENSORS:
        return None
    truth_points = traj.state_at(t_emit_s)[0]
    r_end, v_end = traj.state_at(t_emit_s[np.argmax(times)])
    try:
        bound = crlb.impact_crlb(times, np.asarray(pos, dtype=float), np.asarray(sigma, dtype=float), truth_points,
                                 r_end, v_end)
    except np.linalg.LinAlgError:
        return None
    if bound is None:
        return None
    rms_m = math.sqrt(float(np.trace(bound.cov_en_m2)))
    return rms_m / 1000.0 if math.isfinite(rms_m) else None


def simulation_bounds(result) -> dict[str, dict]:
    """Launch id → ``{"launch_crlb_km", "azimuth_crlb_deg", "time_crlb_s", "impact_crlb_km"}`` (None where
    unknown) for every launch of a :class:`vigil.sim.SimulationResult`."""
    obs = result.observations
    ballistic = {t["id"] for t in result.truth if t.get("impact")}
    out: dict[str, dict] = {}
    for launch_id, traj in result.trajectories.items():
        rows = np.flatnonzero(result.truth_launch == launch_id)
        rows = rows[np.argsort(obs.time_s[rows], kind="stable")]
        out[launch_id] = dict(_NO_BOUND)
        if not len(rows):
            continue
        cols = (obs.time_s[rows], result.t_emit_s[rows], obs.sensor_pos_ecef_m[rows], obs.los_sigma_rad[rows],
                obs.sensor_id[rows])
        out[launch_id].update(launch_bound(traj, *cols) or {})
        if launch_id in ballistic:
            out[launch_id]["impact_crlb_km"] = impact_bound_km(traj, *cols)
    return out
