"""Cramér–Rao bounds of a simulated launch, from its true trajectory and the detections that saw it.

Here (and only here) the truth associations of observations are used: a bound needs the actual geometry
and noise of the detections of that launch, not what the fusion made of them.

* **Launch**: :func:`vigil.fusion.bounds.crlb.launch_crlb` on exactly what the final launch estimate used: the
  launch's detections, light-time corrected as the engine corrects them
  (:func:`vigil.fusion.lighttime.correct_light_time`), inside the estimate's fitted window
  ``[t_first_s, t_last_s]``, with its model degree and its Gaussian prior on ``t_L`` (all recorded in the
  :class:`~vigil.fusion.launch.backfit.LaunchEstimate`); evaluated at the pseudo-true ``φ``
  (:func:`vigil.fusion.bounds.crlb.pseudo_true_phi`: the estimator's objective on noise-free LOS). A launch with no
  back-fit estimate (undetected, mono) gets the bound of the estimator's own rule on its detections
  (:meth:`~vigil.fusion.launch.backfit.AscentBackFitEstimator.model_for` / ``prior_for``).
* **Impact**: :func:`vigil.fusion.bounds.crlb.impact_crlb` (the burnout-state bound of the final stage carried
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
from ..fusion.bounds import crlb
from ..fusion.coast.burnout import final_stage
from ..fusion.launch.backfit import AscentBackFitEstimator, AscentModel, LaunchEstimate, initial_phi
from ..fusion.lighttime import correct_light_time

MIN_SENSORS = 2  # distinct sensors needed before a bound is reported
WINDOW_TOL_S = 1e-6  # detections at the window's ends (same float arithmetic as the engine's) are inside
_NO_BOUND = {
    "launch_crlb_km": None,
    "azimuth_crlb_deg": None,
    "time_crlb_s": None,
    "launch_crlb_n": None,
    "impact_crlb_km": None,
}


def fit_true_phi(model: AscentModel, t_s: np.ndarray, r_true_m: np.ndarray) -> np.ndarray:
    """``φ`` of ``model`` closest (least squares, m) to the true positions ``r_true_m`` ``(T, 3)`` at ``t_s``."""
    phi0 = initial_phi(model, t_s, r_true_m)

    def residuals(phi):
        return (model.position(t_s, phi) - r_true_m).ravel()

    def jacobian(phi):
        return model.jacobian(t_s, phi).reshape(-1, model.size)

    return least_squares(residuals, phi0, jac=jacobian, method="lm", x_scale="jac").x


def launch_data(times, estimate: LaunchEstimate | None = None):
    """``(model, keep mask, (prior mean s, prior σ s or None))`` of the launch fit over detections at
    ``times`` (s, emission): the recorded choice of ``estimate`` when it is a back-fit, else the estimator's
    rule. None when no model applies (span too short)."""
    times = np.asarray(times, dtype=float)
    if estimate is not None and estimate.t_first_s is not None and estimate.degree is not None:
        keep = (times >= estimate.t_first_s - WINDOW_TOL_S) & (times <= estimate.t_last_s + WINDOW_TOL_S)
        if keep.sum() < 2:
            return None
        model = AscentModel(estimate.degree, float(estimate.t_last_s))
        return model, keep, (estimate.prior_time_s or 0.0, estimate.prior_time_sigma_s)
    rule = AscentBackFitEstimator()
    chosen = rule.model_for(times) if len(times) else None
    if chosen is None:
        return None
    model, keep = chosen
    return model, keep, rule.prior_for(times[keep])


def launch_bound(
    traj: Trajectory, times, t_emit_s, pos, sigma, sensor_ids, estimate: LaunchEstimate | None = None
) -> dict | None:
    """Launch CRLB of one launch: ``{"launch_crlb_km", "azimuth_crlb_deg", "time_crlb_s", "launch_crlb_n"}``
    or None.

    ``times`` (T,) detection times (s; emission, as the engine fits them); ``t_emit_s`` (T,) true emission
    instants; ``pos`` (T, 3) sensor ECEF (m); ``sigma`` (T,) LOS noise (rad); ``sensor_ids`` (T,) — the
    detections of this launch only; ``estimate``: the final launch estimate of its event (its window,
    degree and prior are used; see :func:`launch_data`). ``launch_crlb_n``: detections in the bound.
    """
    chosen = launch_data(times, estimate)
    if chosen is None:
        return None
    model, keep, prior = chosen
    if len(set(np.asarray(sensor_ids)[keep].tolist())) < MIN_SENSORS:
        return None
    t, p, s = (np.asarray(a, dtype=float)[keep] for a in (times, pos, sigma))
    r_true = traj.state_at(np.asarray(t_emit_s, dtype=float)[keep])[0]
    phi = crlb.pseudo_true_phi(model, fit_true_phi(model, t, r_true), t, p, s, r_true, *prior)
    bound = crlb.launch_crlb(model, phi, t, p, s, prior[1])
    rms_m = math.sqrt(float(np.trace(bound.cov_en_m2)))
    if not math.isfinite(rms_m):
        return None
    return {
        "launch_crlb_km": rms_m / 1000.0,
        "azimuth_crlb_deg": None
        if bound.azimuth_sigma_rad is None
        else math.degrees(bound.azimuth_sigma_rad),
        "time_crlb_s": bound.time_sigma_s,
        "launch_crlb_n": int(keep.sum()),
    }


def impact_bound_km(traj: Trajectory, times, t_emit_s, pos, sigma, sensor_ids) -> float | None:
    """RMS radial impact CRLB (km) of one ballistic launch from its detections, or None."""
    times, t_emit_s = np.asarray(times, dtype=float), np.asarray(t_emit_s, dtype=float)
    if len(times) < 2 or len(set(np.asarray(sensor_ids)[final_stage(times)].tolist())) < MIN_SENSORS:
        return None
    truth_points = traj.state_at(t_emit_s)[0]
    r_end, v_end = traj.state_at(t_emit_s[np.argmax(times)])
    try:
        bound = crlb.impact_crlb(
            times, np.asarray(pos, dtype=float), np.asarray(sigma, dtype=float), truth_points, r_end, v_end
        )
    except np.linalg.LinAlgError:
        return None
    if bound is None:
        return None
    rms_m = math.sqrt(float(np.trace(bound.cov_en_m2)))
    return rms_m / 1000.0 if math.isfinite(rms_m) else None


def simulation_bounds(
    result, estimates: dict[str, LaunchEstimate | None] | None = None, light_time: bool = True
) -> dict[str, dict]:
    """Launch id → ``{"launch_crlb_km", "azimuth_crlb_deg", "time_crlb_s", "impact_crlb_km", …}`` (None where
    unknown) for every launch of a :class:`vigil.sim.SimulationResult`.

    ``estimates``: launch id → the final :class:`LaunchEstimate` of the event scored against it (the bound
    then uses that estimate's data and prior); ``light_time``: correct the detections to emission as the
    engine does (:attr:`vigil.fusion.FusionConfig.light_time`)."""
    obs = result.observations
    estimates = estimates or {}
    ballistic = {t["id"] for t in result.truth if t.get("impact")}
    out: dict[str, dict] = {}
    for launch_id, traj in result.trajectories.items():
        rows = np.flatnonzero(result.truth_launch == launch_id)
        rows = rows[np.argsort(obs.time_s[rows], kind="stable")]
        out[launch_id] = dict(_NO_BOUND)
        if not len(rows):
            continue
        mine = correct_light_time(obs.take(rows)) if light_time else obs.take(rows)
        cols = (
            mine.time_s,
            result.t_emit_s[rows],
            mine.sensor_pos_ecef_m,
            mine.los_sigma_rad,
            mine.sensor_id,
        )
        out[launch_id].update(launch_bound(traj, *cols, estimate=estimates.get(launch_id)) or {})
        if launch_id in ballistic:
            out[launch_id]["impact_crlb_km"] = impact_bound_km(traj, *cols)
    return out
