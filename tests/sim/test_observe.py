"""Observations against truth: exact LOS with light time, noise statistics, Poisson clutter, frame clocks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from vigil.frames import (
    C_LIGHT_M_S,
    OMEGA_EARTH_RAD_S,
    ecef_to_geodetic,
    elevation_rad,
    teme_to_ecef,
    up_vector,
)
from vigil.sensors.signal import detection_probability, tangent_basis, visible_cap_half_angle_rad
from vigil.sim.engine import CLUTTER, observe_all
from vigil.sim.observe import satellite_frames, view_plumes
from vigil.sim.plumes import PlumeStack
from vigil.space.propagation import propagate_ecef
from vigil.timescale import TimeGrid

from .simkit import EPOCH, geo_partner, rising_flight


def _run(partners, trajs, seed=1, duration_s=900.0):
    return observe_all(
        EPOCH, duration_s, partners, trajs, [t.launch_id for t in trajs], np.random.default_rng(seed)
    )


def _independent_emission(traj, t_rx, r_sat):
    """Emission time and plume position (ECEF axes at reception) from a root finder, not the fixed point."""

    def seen(te):
        r, _ = traj.state_at(np.array([te]))
        return teme_to_ecef(r, np.array([OMEGA_EARTH_RAD_S * (t_rx - te)]))[0]

    te = brentq(
        lambda te: te - t_rx + np.linalg.norm(seen(te) - r_sat) / C_LIGHT_M_S,
        t_rx - 0.5,
        t_rx,
        xtol=1e-14,
        rtol=1e-15,
    )
    return te, seen(te)


def test_noise_free_los_points_at_the_plume_at_the_light_time_corrected_instant():
    partner = geo_partner("n", [50.0, 80.0], los_sigma_urad=0.0, false_alarms_per_frame=0.0)
    trajs = [rising_flight("A", 45.0, 63.3, 100.0), rising_flight("B", 30.0, 55.0, 130.0)]
    res = _run([partner], trajs)
    obs = res.observations
    assert len(obs) > 500 and set(res.truth_launch) == {"A", "B"}
    by_id = {t.launch_id: t for t in trajs}
    worst, worst_dt = 0.0, 0.0
    for i in range(0, len(obs), 7):
        te, r_plume = _independent_emission(
            by_id[res.truth_launch[i]], obs.time_s[i], obs.sensor_pos_ecef_m[i]
        )
        u = (r_plume - obs.sensor_pos_ecef_m[i]) / np.linalg.norm(r_plume - obs.sensor_pos_ecef_m[i])
        worst = max(worst, np.linalg.norm(np.cross(u, obs.los_ecef[i])))
        worst_dt = max(worst_dt, abs(te - res.t_emit_s[i]))
    assert worst < 1e-9
    assert worst_dt < 1e-9
    light_time = obs.time_s - res.t_emit_s
    assert 0.119 < light_time.min() and light_time.max() < 0.135  # GEO to mid-latitudes


def test_sensor_positions_are_sgp4_at_the_frame_instants():
    partner = geo_partner("n", [50.0], los_sigma_urad=0.0, false_alarms_per_frame=0.0)
    res = _run([partner], [rising_flight("A", 45.0, 63.3, 100.0)])
    obs = res.observations
    eph = propagate_ecef(partner.constellation, TimeGrid.from_offsets(EPOCH, obs.time_s[:50]))
    assert np.abs(eph.r_ecef_m[:, 0] - obs.sensor_pos_ecef_m[:50]).max() < 1e-6


def test_los_noise_per_axis_matches_sigma_over_10000_detections():
    sigma_urad = 25.0
    partner = geo_partner(
        "n", [50.0, 80.0, 20.0, 65.0], frame_s=0.1, los_sigma_urad=sigma_urad, false_alarms_per_frame=0.0
    )
    res = _run(
        [partner], [rising_flight("A", 45.0, 63.3, 100.0, burn_s=300.0, coast_s=5.0)], duration_s=500.0
    )
    obs = res.observations
    assert len(obs) >= 10_000
    traj = rising_flight("A", 45.0, 63.3, 100.0, burn_s=300.0, coast_s=5.0)
    r, _ = traj.state_at(res.t_emit_s)
    r_rx = teme_to_ecef(r[:, None, :], OMEGA_EARTH_RAD_S * (obs.time_s - res.t_emit_s))[:, 0]
    u = (r_rx - obs.sensor_pos_ecef_m) / np.linalg.norm(r_rx - obs.sensor_pos_ecef_m, axis=-1, keepdims=True)
    e1, e2 = tangent_basis(u)
    for e in (e1, e2):
        err = np.einsum("ij,ij->i", obs.los_ecef, e)
        assert abs(err.std() / (sigma_urad * 1e-6) - 1) < 0.05
    assert np.all(obs.los_sigma_rad == sigma_urad * 1e-6)


def test_false_alarm_count_is_poisson_with_the_configured_rate():
    rate = 0.3
    partner = geo_partner("n", [50.0, 80.0, 20.0, 140.0], false_alarms_per_frame=rate)
    res = _run([partner], [], duration_s=1800.0)
    frames = sum(s["frames"] for s in res.summary["sensors"])
    assert frames == 4 * 1800
    n = int((res.truth_launch == CLUTTER).sum())
    assert abs(n - rate * frames) < 3 * np.sqrt(rate * frames)
    assert res.summary["false_alarms"] == n == len(res.observations)


def test_false_alarms_lie_on_the_visible_disk():
    partner = geo_partner("n", [50.0, -100.0], false_alarms_per_frame=2.0, min_elevation_deg=5.0)
    obs = _run([partner], [], duration_s=300.0).observations
    r_sat, u = obs.sensor_pos_ecef_m, obs.los_ecef
    # the ray meets the WGS84 surface: find it by scaling to the ellipsoid along the LOS (quadratic)
    a2, b2 = 6378137.0**2, 6356752.314245179**2
    w = np.array([1 / a2, 1 / a2, 1 / b2])
    qa, qb, qc = (u * u * w).sum(-1), 2 * (u * r_sat * w).sum(-1), (r_sat * r_sat * w).sum(-1) - 1
    disc = qb**2 - 4 * qa * qc
    assert disc.min() > 0  # every LOS hits the Earth
    hit = r_sat + ((-qb - np.sqrt(disc)) / (2 * qa))[:, None] * u
    lat, lon, alt = ecef_to_geodetic(hit)
    assert np.abs(alt).max() < 1e-3
    assert np.degrees(elevation_rad(hit, up_vector(lat, lon), r_sat)).min() > 5.0 - 0.2
    cos_lam = (hit * r_sat).sum(-1) / np.linalg.norm(hit, axis=-1) / np.linalg.norm(r_sat, axis=-1)
    lam_max = visible_cap_half_angle_rad(np.linalg.norm(r_sat, axis=-1), 5.0, None)
    assert np.all(cos_lam >= np.cos(lam_max) - 1e-12)


def test_each_satellite_has_its_own_frame_phase():
    partner = geo_partner("n", [50.0, 80.0, 20.0], frame_s=2.0, false_alarms_per_frame=5.0)
    obs = _run([partner], [], duration_s=100.0).observations
    phases = {}
    for sid in np.unique(obs.sensor_id):
        t = obs.time_s[obs.sensor_id == sid]
        k = obs.frame_id[obs.sensor_id == sid]
        assert np.allclose(t - 2.0 * k, (t - 2.0 * k)[0], atol=1e-9)  # a regular clock
        phases[sid] = (t - 2.0 * k)[0]
    assert all(0.0 <= p < 2.0 for p in phases.values())
    assert len({round(p, 6) for p in phases.values()}) == 3


def test_plume_hidden_below_cloud_tops_and_after_burnout():
    partner = geo_partner("n", [60.0], los_sigma_urad=0.0, false_alarms_per_frame=0.0, visible_alt_m=50_000.0)
    traj = rising_flight("A", 45.0, 63.3, 100.0, burn_s=150.0)
    res = _run([partner], [traj])
    r, _ = traj.state_at(res.t_emit_s)
    alt = ecef_to_geodetic(r)[2]
    assert alt.min() >= 50_000.0
    assert res.t_emit_s.max() <= 250.0
    # 15 τ² reaches 50 km after √(50000/15) = 57.7 s: the first frame whose light left after that
    assert res.t_emit_s.min() - 100.0 == pytest.approx(np.sqrt(50_000 / 15.0), abs=1.0)
    assert res.t_emit_s.max() - 100.0 == pytest.approx(150.0, abs=1.0)


def test_weak_plume_detection_fraction_matches_pd():
    partner = geo_partner("n", [60.0], frame_s=0.1, false_alarms_per_frame=0.0, nei_w_m2=1e-12, pd_snr50=6.0)
    traj = rising_flight("A", 45.0, 63.3, 100.0, burn_s=300.0, intensity_w_sr=1e4)
    res = _run([partner], [traj], duration_s=500.0)
    # the same frame clock as the run: the partner's child generator draws the phases first
    frames = satellite_frames(
        partner.constellation, "n", 0.1, EPOCH, 500.0, np.random.default_rng(1).spawn(1)[0]
    )[0]
    assert np.array_equal(frames.t_s[res.observations.frame_id], res.observations.time_s)
    view = view_plumes(frames, PlumeStack.build([traj]), partner.sensor, partner.signal)
    rng_m = np.linalg.norm(view.r_plume_rx_m - frames.r_ecef_m[view.frame], axis=-1)
    snr = view.intensity_w_sr / rng_m**2 / 1e-12
    expected = detection_probability(snr[view.visible], 6.0).sum()
    assert 0.05 < expected / view.visible.sum() < 0.95  # a test of the curve, not of a saturated sensor
    assert abs(len(res.observations) - expected) < 4 * np.sqrt(expected)


def test_plume_stack_matches_each_trajectory():
    trajs = [
        rising_flight("A", 45.0, 63.3, 100.0),
        rising_flight("B", -10.0, 20.0, 37.5, step_s=0.7),
        rising_flight("C", 5.0, -60.0, 400.0, burn_s=50.0),
    ]
    stack = PlumeStack.build(trajs)
    rng = np.random.default_rng(2)
    launch = rng.integers(0, 3, 5000)
    t = rng.uniform(0.0, 800.0, 5000)
    r = stack.position(launch, t)
    inten = stack.intensity(launch, t)
    for i, traj in enumerate(trajs):
        sel = launch == i
        r_ref, _ = traj.state_at(t[sel])
        assert np.array_equal(np.isnan(r[sel]), np.isnan(r_ref))
        assert np.nanmax(np.abs(r[sel] - r_ref)) < 1e-6
        assert np.array_equal(
            inten[sel], np.where(t[sel] > traj.events["burnout"], 0.0, traj.intensity_at(t[sel]))
        )


def test_salvo_of_three_launches_is_detected_for_each():
    partner = geo_partner("n", [50.0, 80.0], false_alarms_per_frame=0.05)
    trajs = [rising_flight(f"S{i}", 40.0 + 0.2 * i, 60.0, 200.0 + 90.0 * i) for i in range(3)]
    res = _run([partner], trajs)
    for s in res.summary["launches"]:
        assert s["detections"] > 100
        assert (
            s["first_stereo_visible_s"] is not None
            and s["first_stereo_visible_s"] <= s["first_detection_s"] + 1
        )
    assert {"S0", "S1", "S2", CLUTTER} == set(res.truth_launch)


def test_same_seed_same_observations_bit_for_bit():
    partner = geo_partner("n", [50.0, 80.0], false_alarms_per_frame=0.2)
    trajs = [rising_flight("A", 45.0, 63.3, 100.0)]
    a, b, c = _run([partner], trajs, seed=9), _run([partner], trajs, seed=9), _run([partner], trajs, seed=10)
    for f in ("time_s", "sensor_pos_ecef_m", "los_ecef", "snr", "intensity_w_sr", "frame_id"):
        assert np.array_equal(getattr(a.observations, f), getattr(b.observations, f))
    assert np.array_equal(a.truth_launch, b.truth_launch)
    assert not np.array_equal(a.observations.los_ecef[:10], c.observations.los_ecef[:10])
