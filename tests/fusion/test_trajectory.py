"""The warning's track (vigil.fusion.coast.trajectory): the fitted trajectory the console draws.

Independent truth: the coast arc against scipy's DOP853 of the same dynamics (fusion_truth.coast_rhs, not the
fusion code's RK4); the whole track of a real simulated run against the simulator's own trajectories (the
flight package's integration of the vehicles, not fusion's estimate).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from fusion_truth import boost_truth, coast_rhs
from scipy.integrate import solve_ivp

from vigil.errors import DataError
from vigil.frames import geodetic_to_ecef
from vigil.fusion.coast.impact import ImpactPrediction
from vigil.fusion.coast.trajectory import coast_samples, joined
from vigil.warning import Warning

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
LOS_SIGMA_RAD = 30e-6  # the noisier of the two partners' sensors in the cut scenario
GEO_RANGE_M = 42_000e3  # farthest sensor range (GEO to a point on the Earth)
TRIANGULATION_KM = 10 * LOS_SIGMA_RAD * GEO_RANGE_M / 1e3  # ten rays' σ at GEO range: 12.6 km


def _ecef(track) -> np.ndarray:
    s = np.asarray(track, dtype=float)
    return geodetic_to_ecef(np.radians(s[:, 1]), np.radians(s[:, 2]), s[:, 3])


def test_coast_arc_follows_an_independent_integration_and_ends_at_the_stated_impact() -> None:
    truth = boost_truth()
    r0, v0 = truth.r[-1], truth.v[-1]
    t0 = float(truth.t_s[-1])
    sol = solve_ivp(
        coast_rhs,
        (0, 7200),
        np.concatenate([r0, v0]),
        method="DOP853",
        rtol=1e-11,
        atol=1e-6,
        dense_output=True,
    )
    impact = ImpactPrediction(t0 + 400.0, 1.0, 0.8, 1.2, (0.0, 10.0, 5.0), 0.95, np.eye(2))
    samples = coast_samples(t0, r0, v0, impact)
    coast, end = samples[:-1], samples[-1]
    assert len(coast) >= 5
    times = np.array([s[0] for s in coast])
    assert np.all(np.diff(times) > 0) and times[0] > t0 and times[-1] < impact.time_s
    expected = sol.sol(times - t0)[:3].T
    # rounding of the record: 1e-5 deg (1.1 m) and 1 m of altitude, 0.1 s of time (≤ 0.7 km at 7 km/s)
    err = np.linalg.norm(_ecef(coast) - expected, axis=1)
    speed = np.linalg.norm(sol.sol(times - t0)[3:].T, axis=1)
    assert np.all(err <= 0.05 * speed + 5.0), err.max()
    assert end == (impact.time_s, round(math.degrees(0.8), 5), round(math.degrees(1.2), 5), 0.0)


def test_joined_keeps_time_order() -> None:
    a = [(1.0, 0.0, 0.0, 0.0), (5.0, 0.0, 0.0, 1.0)]
    b = [(3.0, 1.0, 1.0, 2.0), (5.0, 1.0, 1.0, 2.5), (6.0, 1.0, 1.0, 3.0)]
    assert joined(a, b) == (a[0], a[1], b[1], b[2])
    assert joined(a, []) == tuple(a) and joined([], b) == tuple(b)


def test_track_field_validates_and_round_trips() -> None:
    base = dict(
        event_id="E1",
        version=1,
        issued_at="2026-03-01T12:00:00Z",
        class_="ballistic",
        launch_time_s=1.0,
        launch_time_sigma_s=1.0,
        launch_lat_deg=1.0,
        launch_lon_deg=2.0,
    )
    w = Warning(**base, track=[[1, 1.0, 2.0, 0], [2.0, 1.1, 2.1, 900.0]])
    assert w.track == ((1.0, 1.0, 2.0, 0.0), (2.0, 1.1, 2.1, 900.0))
    assert Warning.from_dict(w.to_dict()) == w
    assert "track" not in Warning(**base).to_dict()  # documents without tracks are unchanged
    for bad, word in (
        ([[2.0, 0, 0, 0], [1.0, 0, 0, 0]], "before"),
        ([[1.0, 95.0, 0, 0]], "out of range"),
        ([[1.0, 0, 0]], "expected"),
        ([[1.0, 0, 0, math.nan]], "not finite"),
        ("x", "expected"),
    ):
        with pytest.raises(DataError, match=word) as err:
            Warning(**base, track=bad)
        assert "track" in str(err.value)


@pytest.fixture(scope="module")
def fused(tmp_path_factory):
    from testkit.cutscenario import cut_scenario

    from vigil.fusion import FusionConfig, FusionEngine
    from vigil.sim import load_scenario, simulate

    path = tmp_path_factory.mktemp("track") / "cut.yaml"
    path.write_text(cut_scenario("track-test"))
    scenario = load_scenario(path)
    result = simulate(scenario, np.random.default_rng(scenario.seed))
    versions = [w for _, ws in FusionEngine(FusionConfig(tracks=True)).run(result.observations) for w in ws]
    untracked = [w for _, ws in FusionEngine().run(result.observations) for w in ws]
    return versions, result.trajectories, untracked


def test_tracks_are_recorded_only_when_asked_and_change_nothing_else(fused) -> None:
    """FusionConfig.tracks off (``vigil fuse``, the benches): no version carries a track, and every other
    field of every version is the same as with tracks on (the track is display-only)."""
    versions, _, untracked = fused
    assert any(w.track for w in versions)
    assert untracked and all(w.track is None for w in untracked)
    strip = [{k: v for k, v in w.to_dict().items() if k != "track"} for w in versions]
    assert strip == [w.to_dict() for w in untracked]


def _event_of(versions, trajectory):
    pad = trajectory.r_ecef_m[0]

    def miss(w):
        return np.linalg.norm(_ecef([(0, w.launch_lat_deg, w.launch_lon_deg, 0.0)])[0] - pad)

    best = min(versions, key=miss)
    return [w for w in versions if w.event_id == best.event_id]


def test_tracks_of_a_real_run_follow_the_simulated_flights_and_grow_with_versions(fused) -> None:
    versions, trajectories, _ = fused
    for launch_id, trajectory in trajectories.items():
        event = _event_of(versions, trajectory)
        ends = [w.track[-1][0] for w in event]
        assert ends == sorted(ends), launch_id  # the live track grows (never shrinks) version by version
        final = event[-1]
        assert final.class_ == "ballistic", launch_id
        track = np.asarray(final.track)
        assert track[0, 3] == 0.0 and track[-1, 3] == 0.0  # from the pad to the ground
        assert tuple(track[-1, 1:3]) == (round(final.impact_lat_deg, 5), round(final.impact_lon_deg, 5))
        t = track[:, 0]
        inside = (t >= trajectory.t_s[0]) & (t <= trajectory.t_s[-1])
        true_r = np.stack(
            [np.interp(t[inside], trajectory.t_s, trajectory.r_ecef_m[:, k]) for k in range(3)], -1
        )
        err_km = np.linalg.norm(_ecef(track[inside]) - true_r, axis=1) / 1e3
        burnout = trajectory.events["burnout"]
        boost = t[inside] <= burnout
        first_seen = (
            min(trajectory.t_s[trajectory.intensity_w_sr > 0]) if np.any(trajectory.intensity_w_sr > 0) else 0
        )
        seen = boost & (t[inside] >= first_seen)
        assert seen.sum() >= 5, launch_id
        assert np.all(err_km[seen] <= TRIANGULATION_KM), (launch_id, err_km[seen].max())
        # the coast: within the stated impact containment ellipse's semi-major axis everywhere (the
        # uncertainty grows from burnout to impact)
        assert np.all(err_km[~boost] <= final.impact_ellipse[1]), (launch_id, err_km[~boost].max())


def test_compiled_geodetic_matches_the_frames_module() -> None:
    from vigil.frames import ecef_to_geodetic
    from vigil.fusion.coast.trajectory import _lat_lon_alt

    rng = np.random.default_rng(3)
    r = geodetic_to_ecef(
        rng.uniform(-1.57, 1.57, 500), rng.uniform(-3.14, 3.14, 500), rng.uniform(0.0, 4e7, 500)
    )
    lat, lon, alt = ecef_to_geodetic(r)
    got = _lat_lon_alt(r)
    assert np.allclose(got[:, 0], np.degrees(lat), atol=1e-9) and np.allclose(
        got[:, 1], np.degrees(lon), atol=1e-9
    )
    assert np.allclose(got[:, 2], alt, atol=1e-3)


def test_compiled_ascent_points_match_the_ascent_model() -> None:
    from vigil.fusion.coast.trajectory import _ascent_points
    from vigil.fusion.launch.backfit import AscentModel

    for degree, vertical in ((4, True), (3, False), (4, False)):
        model = AscentModel(degree, 60.0, vertical_liftoff=vertical)
        rng = np.random.default_rng(degree)
        phi = np.r_[0.7, 1.1, 10.0, 0.6, rng.uniform(0.1, 3.0, model.size - 4)]
        times = np.linspace(5.0, 60.0, 12)  # (before t_L: the pad)
        assert np.allclose(
            _ascent_points(phi, degree, model.first_horizontal, times),
            model.position(times, phi),
            atol=1e-6,
            rtol=0,
        )
