"""Track-to-track fusion on the node path: a partner that releases warnings (and tracks), or tracks only, but no
observations.

North releases ``[track, warning]`` (or ``[track]``) to east (1 km, no delay), east releases nothing: east's shared
view can only gain through covariance intersection of north's received warnings (or tracks' launch estimates) with
its own estimates (vigil.sharing.view).
Two-launch cut of the two-partner scenario, three noise seeds; truth is the simulator's launch sites. Checked on
each of east's final view events that names north: it was fused (its point is not east's own), its ellipse is never
tighter than the two inputs fused as if independent — the most a consistent fusion could claim without knowing their
correlation — nor larger than the better input's (CI's determinant), and the true launch point lies inside it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from testkit.cutscenario import cut_scenario

from vigil.fusion.partners.trackfusion import (
    cov_ellipse,
    ellipse_cov_km2,
    from_tangent_km,
    fuse_warnings,
    tangent_km,
)
from vigil.scoring import assign_events, final_versions
from vigil.scoring.pipeline import score_result
from vigil.sharing.agreement import parse_agreement
from vigil.sharing.conversions import TrackState, posix_s, track_record, warning_from_track, warning_record
from vigil.sharing.network import run_network
from vigil.sharing.precision import precision_violations
from vigil.sharing.releaser import Releaser
from vigil.sharing.view import SharedView
from vigil.sim import load_scenario, simulate
from vigil.warning.records import Sources, Warning

from .policykit import NORTH, agreement, box

WARNINGS_ONLY = parse_agreement(
    {
        "name": "warnings-only",
        "parties": ["north", "east"],
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2030-01-01T00:00:00Z",
        "directions": {
            "north->east": {"types": ["track", "warning"], "region": "global", "precision_m": 1000.0}
        },
    }
)
CORRELATED = parse_agreement(
    {  # north's warnings hold east's detections: correlated with east's own estimate
        "name": "correlated",
        "parties": ["north", "east"],
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2030-01-01T00:00:00Z",
        "directions": {
            "north->east": {"types": ["track", "warning"], "region": "global", "precision_m": 1.0},
            "east->north": {"types": ["observation"], "region": "global", "precision_m": 1.0},
        },
    }
)
TRACKS_ONLY = parse_agreement(
    {
        "name": "tracks-only",
        "parties": ["north", "east"],
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2030-01-01T00:00:00Z",
        "directions": {"north->east": {"types": ["track"], "region": "global", "precision_m": 1000.0}},
    }
)
INSIDE = (
    0.999  # the truth must lie inside this ellipse (a consistent 2-D estimate misses it 0.1 % of the time)
)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("t2t") / "cut.yaml"
    path.write_text(cut_scenario("two-partner-cut"))
    return load_scenario(path)


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_received_warnings_are_fused_by_ci_never_optimistic(scenario, seed: int) -> None:
    sim = simulate(scenario, np.random.default_rng(seed))
    result = run_network(scenario, simulation=sim, agreements=[WARNINGS_ONLY])
    east = result.partners["east"]
    assert east.counts.fused_received == 0 and east.received  # no detections came: only north's warnings
    own = {w.event_id: w for w in final_versions(east.fused)}
    partner = final_versions(east.received)
    truth = {str(t["id"]): t["site"] for t in sim.truth}
    finals = final_versions(east.shared)
    checked = 0
    for lid, eid in assign_events(finals, list(sim.truth)).event_of.items():
        w = next(f for f in finals if f.event_id == eid)
        if "north" not in w.sources.partners or not w.sources.sensors:
            continue
        mine = min(
            own.values(), key=lambda o: _km(o, w)
        )  # the own event the view fused (nearest: same launch)
        theirs = min(partner, key=lambda o: _km(o, w))
        p, pa, pb = (ellipse_cov_km2(x.launch_ellipse, x.containment) for x in (w, mine, theirs))
        assert _km(w, mine) > 1e-6, lid  # fused: not the own estimate (north's where east's is mono: ω = 0)
        independent = np.linalg.inv(np.linalg.inv(pa) + np.linalg.inv(pb))
        assert np.linalg.eigvalsh(p - independent).min() >= -1e-9 * np.trace(p), lid
        assert np.linalg.det(p) <= min(np.linalg.det(pa), np.linalg.det(pb)) * (1 + 1e-6), lid
        e = tangent_km(truth[lid]["lat_deg"], truth[lid]["lon_deg"], w.launch_lat_deg, w.launch_lon_deg)
        assert float(e @ np.linalg.solve(p, e)) <= -2.0 * math.log(1.0 - INSIDE), lid
        assert set(w.sources.partners) == {"east", "north"}
        checked += 1
    assert checked >= 1  # L1: east alone has one line of sight (mono); SR1: east triangulates, north too


@pytest.mark.parametrize("seed", [7, 8])
def test_ci_of_correlated_estimates_is_never_tighter_than_the_joint_fit(scenario, seed: int) -> None:
    """North's warnings are fits of north's and east's detections; east fuses them with its own estimate (east's
    detections only): the two share east's data. Whatever the view claims must be no tighter than one engine fed
    every detection once (the exact joint fit's covariance, 1 m grids: no coarsening to hide behind). Fusing the two
    as if independent double-counts east's detections and is tighter than that (measured: by 1–17 % on the smallest
    axis on these seeds); covariance intersection is not."""
    sim = simulate(scenario, np.random.default_rng(seed))
    joint = score_result(scenario, sim)
    joint_of = assign_events(joint.finals, list(sim.truth)).event_of
    east = run_network(scenario, simulation=sim, agreements=[CORRELATED]).partners["east"]
    assert east.counts.fused_received == 0 and any("east" in w.sources.partners for w in east.received)
    finals = final_versions(east.shared)
    checked = 0
    for lid, eid in assign_events(finals, list(sim.truth)).event_of.items():
        w = next(f for f in finals if f.event_id == eid)
        j = next(f for f in joint.finals if f.event_id == joint_of[lid])
        p, pj = (ellipse_cov_km2(x.launch_ellipse, x.containment) for x in (w, j))
        inv = np.linalg.inv(np.linalg.cholesky(pj))
        assert np.linalg.eigvalsh(inv @ p @ inv.T).min() >= 1.0 - 1e-2, lid  # P ⪰ P_joint (1 % for the fits)
        assert set(w.sources.partners) == {"east", "north"}
        checked += 1
    assert checked == 2


def _km(a, b) -> float:
    return float(
        np.hypot(*tangent_km(a.launch_lat_deg, a.launch_lon_deg, b.launch_lat_deg, b.launch_lon_deg))
    )


@pytest.fixture(scope="module")
def tracks_only(scenario):
    """Per seed: (simulation, east's partner result) with north releasing its tracks only."""
    out = {}
    for seed in (7, 8, 9):
        sim = simulate(scenario, np.random.default_rng(seed))
        out[seed] = sim, run_network(scenario, simulation=sim, agreements=[TRACKS_ONLY]).partners["east"]
    return out


def test_received_tracks_are_fused_by_ci_never_optimistic_and_beat_own_alone(tracks_only) -> None:
    """North's tracks (state and launch estimate, coarsened to 1 km) are east's only gain: each final view event
    naming north is fused (not east's own point), never tighter than the two inputs fused as if independent nor
    larger than the better one, holds the truth in its 99.9 % ellipse; over seeds and launches its launch error
    median is below east's alone."""
    alone_km, shared_km, checked = [], [], 0
    for seed, (sim, east) in tracks_only.items():
        assert east.counts.fused_received == 0 and not east.received and east.received_tracks, seed
        own = final_versions(east.fused)
        partner = final_versions(east.received_tracks)
        truth = {str(t["id"]): t["site"] for t in sim.truth}
        finals = final_versions(east.shared)
        for lid, eid in assign_events(finals, list(sim.truth)).event_of.items():
            w = next(f for f in finals if f.event_id == eid)
            site = truth[lid]
            alone = final_versions(east.alone)
            a = assign_events(alone, list(sim.truth)).event_of.get(lid)
            alone_km.append(_site_km(next(f for f in alone if f.event_id == a), site) if a else math.inf)
            shared_km.append(_site_km(w, site))
            if "north" not in w.sources.partners or not w.sources.sensors:
                continue
            mine, theirs = min(own, key=lambda o: _km(o, w)), min(partner, key=lambda o: _km(o, w))
            p, pa, pb = (ellipse_cov_km2(x.launch_ellipse, x.containment) for x in (w, mine, theirs))
            assert _km(w, mine) > 1e-6, (seed, lid)  # fused: not the own estimate
            independent = np.linalg.inv(np.linalg.inv(pa) + np.linalg.inv(pb))
            assert np.linalg.eigvalsh(p - independent).min() >= -1e-9 * np.trace(p), (seed, lid)
            assert np.linalg.det(p) <= min(np.linalg.det(pa), np.linalg.det(pb)) * (1 + 1e-6), (seed, lid)
            e = tangent_km(site["lat_deg"], site["lon_deg"], w.launch_lat_deg, w.launch_lon_deg)
            assert float(e @ np.linalg.solve(p, e)) <= -2.0 * math.log(1.0 - INSIDE), (seed, lid)
            assert set(w.sources.partners) == {"east", "north"}, (seed, lid)
            checked += 1
    assert checked >= 3
    assert np.median(shared_km) < np.median(alone_km), (shared_km, alone_km)
    print(
        f"tracks only, {len(shared_km)} launches: launch error median alone {np.median(alone_km):.3f} km, "
        f"shared {np.median(shared_km):.3f} km"
    )


def test_a_partner_event_is_used_once_whether_its_warning_or_its_track_came() -> None:
    """A partner's warning and track of one event carry one id (``<partner>:<id>``) and its version: the view holds
    the newest estimate, once. The same version again from a track changes nothing; a newer one replaces the held
    estimate (fused with the own one alone, not on top of the older); an older one is ignored."""
    view = SharedView()
    own = _estimate("E1", 1, 45.0, 63.3, (30.0, 8.0, 3.0), sensors=("east-1", "east-2"))
    view.own([own])
    warning = _estimate("north:E1", 2, 45.02, 63.31, (100.0, 4.0, 2.0))
    track = dataclasses.replace(warning, class_="unknown", azimuth_deg=None, azimuth_sigma_deg=None)
    newer = _estimate("north:E1", 3, 45.01, 63.29, (120.0, 2.0, 1.5))
    out = view.received([warning])
    assert _point(out[-1]) == _point(fuse_warnings(own, warning, "north"))
    assert view.received([track], from_tracks=True) == []  # the same estimate again: not used twice
    out = view.received([dataclasses.replace(newer, class_="unknown")], from_tracks=True)
    assert _point(out[-1]) == _point(fuse_warnings(own, newer, "north"))  # replaced, not fused on top
    assert _point(out[-1]) != _point(fuse_warnings(fuse_warnings(own, warning, "north"), newer, "north"))
    assert view.received([warning]) == []  # older than the one held
    assert _point(view.warnings[-1]) == _point(fuse_warnings(own, newer, "north"))


def test_tracks_and_warnings_of_one_event_are_fused_as_the_warnings_alone(tracks_only, scenario) -> None:
    """Node path: with north releasing tracks *and* warnings (one estimate per event and version), east's shared
    view ends with exactly the launch points and ellipses of a run where north releases warnings only — each
    partner estimate used once (fusing the track's copy of the estimate as well would move the points)."""
    sim, _ = tracks_only[7]
    warnings_only = parse_agreement(
        {
            "name": "warnings-no-tracks",
            "parties": ["north", "east"],
            "valid_from": "2026-01-01T00:00:00Z",
            "valid_until": "2030-01-01T00:00:00Z",
            "directions": {"north->east": {"types": ["warning"], "region": "global", "precision_m": 1000.0}},
        }
    )
    runs = [
        run_network(scenario, simulation=sim, agreements=[a]).partners["east"]
        for a in (WARNINGS_ONLY, warnings_only)
    ]
    assert runs[0].received_tracks and not runs[1].received_tracks
    both, alone = ({w.event_id: _point(w) for w in final_versions(r.shared)} for r in runs)
    assert both == alone and any("north" in w.sources.partners and w.sources.sensors for w in runs[0].shared)


@pytest.mark.parametrize("rho", [0.0, 0.6, 0.95])
def test_monte_carlo_nees_of_ci_fused_launch_points_is_within_the_chi2_bound(rho: float) -> None:
    """Two estimates of one launch point whose errors are correlated by ``rho`` (unknown to the fusion), each
    consistent (its ellipse from its true covariance): over 4000 seeded draws the CI-fused point's NEES against its
    stated ellipse has mean ≤ 2 (χ², 2 dof) and the 95 % ellipse holds the truth ≥ 95 % of the time (binomial 3σ
    slack). Fusing the same pairs as if independent breaks the bound once the correlation is strong (the check can
    fail)."""
    rng = np.random.default_rng(11)
    pa = ellipse_cov_km2((30.0, 6.0, 2.0), 0.95)
    pb = ellipse_cov_km2((110.0, 5.0, 1.5), 0.95)
    la, lb = np.linalg.cholesky(pa), np.linalg.cholesky(pb)
    lat0, lon0, n = 40.0, 60.0, 4000
    nees, naive = [], []
    for _ in range(n):
        z1, z2 = rng.standard_normal(2), rng.standard_normal(2)
        ea, eb = la @ z1, lb @ (rho * z1 + math.sqrt(1.0 - rho * rho) * z2)  # correlated errors, km
        own = _estimate("E1", 1, *from_tangent_km(lat0, lon0, ea), cov_ellipse(pa, 0.95))
        theirs = _estimate("north:E1", 1, *from_tangent_km(lat0, lon0, eb), cov_ellipse(pb, 0.95))
        w = fuse_warnings(own, theirs, "north")
        e = tangent_km(lat0, lon0, w.launch_lat_deg, w.launch_lon_deg)
        nees.append(float(e @ np.linalg.solve(ellipse_cov_km2(w.launch_ellipse, w.containment), e)))
        p_ind = np.linalg.inv(np.linalg.inv(pa) + np.linalg.inv(pb))
        x_ind = p_ind @ (np.linalg.solve(pa, ea) + np.linalg.solve(pb, eb))
        naive.append(float(x_ind @ np.linalg.solve(p_ind, x_ind)))
    nees_a = np.array(nees)
    k95 = -2.0 * math.log(0.05)
    assert nees_a.mean() <= 2.0 + 3.0 * 2.0 / math.sqrt(n), nees_a.mean()  # χ²₂: variance 4
    assert np.mean(nees_a <= k95) >= 0.95 - 3.0 * math.sqrt(0.95 * 0.05 / n), np.mean(nees_a <= k95)
    if rho >= 0.9:
        assert np.mean(naive) > 2.0 + 3.0 * 2.0 / math.sqrt(n), np.mean(naive)  # independence: optimistic
    print(
        f"rho {rho}: CI mean NEES {nees_a.mean():.2f}, inside 95 % {np.mean(nees_a <= k95):.3f}; "
        f"as independent: mean NEES {np.mean(naive):.2f}"
    )


def test_a_released_track_carries_its_events_launch_point_as_the_warning_does() -> None:
    """An own event's track record (state + launch estimate, sharing.conversions.track_record) through a 1 km
    releaser: its launch point is the warning's released point exactly (one secret offset per event, one grid),
    its ellipse the warning's grown ellipse, its position variances grown by p²/6; the receiver turns it into the
    partner's estimate of that event (same id and version, times back on its epoch, no sensors)."""
    w = _estimate("E4", 3, 45.123456, 63.654321, (30.0, 3.0, 1.0), sensors=("north-1", "north-2"))
    epoch_s = posix_s("2026-03-01T12:00:00Z")
    state = TrackState(
        330.0,
        np.array([1.9e6, 4.0e6, 4.8e6]),
        np.array([900.0, 1200.0, 2500.0]),
        np.diag([4e4] * 3 + [100.0] * 3),
        "boost",
    )
    releaser = Releaser(agreement(precision_m=1000.0), "north", NORTH)
    envs = releaser.release("track", track_record(w, state, epoch_s), epoch_s + 331.0)
    wenvs = releaser.release("warning", warning_record(w, epoch_s), epoch_s + 331.0)
    assert isinstance(envs, list) and isinstance(wenvs, list)
    trk, wrn = envs[0].payload, wenvs[0].payload
    assert (trk["launch_lat_deg"], trk["launch_lon_deg"]) == (wrn["launch_lat_deg"], wrn["launch_lon_deg"])
    assert trk["launch_ellipse"] == wrn["launch_ellipse"] and trk["launch_ellipse"][1] > 3.0
    assert (
        _site_km(
            _estimate("x", 1, trk["launch_lat_deg"], trk["launch_lon_deg"], (0, 0, 0)),
            {"lat_deg": w.launch_lat_deg, "lon_deg": w.launch_lon_deg},
        )
        > 1e-3
    )  # coarsened
    assert trk["cov"][0][0] == pytest.approx(4e4 + 1000.0**2 / 6.0)
    assert precision_violations("track", [trk], 1000.0) == [None]
    got = warning_from_track("north", trk, "2026-03-01T12:10:00Z", "2026-03-01T12:05:31Z")
    assert (got.event_id, got.version, got.sources.sensors, got.sources.partners) == (
        "north:E4",
        3,
        (),
        ("north",),
    )
    assert got.launch_time_s == pytest.approx(w.launch_time_s - 600.0)
    assert got.launch_ellipse == tuple(trk["launch_ellipse"])
    # the region clause judges a track by its launch point too: a box holding the launch point only lets it out
    boxed = Releaser(agreement(precision_m=1000.0, region=box(63.0, 44.8, 64.3, 45.5)), "north", NORTH)
    assert isinstance(boxed.release("track", track_record(w, state, epoch_s), epoch_s + 331.0), list)
    stateless = {k: v for k, v in track_record(w, state, epoch_s).items() if not k.startswith("launch_")}
    denied = boxed.release("track", stateless, epoch_s + 331.0)
    assert not isinstance(denied, list) and denied.clause == "region", denied


def _estimate(
    eid: str, version: int, lat: float, lon: float, ellipse, sensors: tuple[str, ...] = ()
) -> Warning:
    partners = () if ":" not in eid else (eid.split(":")[0],)
    return Warning(
        event_id=eid,
        version=version,
        issued_at="2026-03-01T12:06:00Z",
        class_="ballistic",
        launch_time_s=300.0,
        launch_time_sigma_s=2.0,
        launch_lat_deg=lat,
        launch_lon_deg=lon,
        launch_ellipse=tuple(ellipse),
        azimuth_deg=40.0,
        azimuth_sigma_deg=1.0,
        sources=Sources(sensors, partners),
    )


def _point(w: Warning) -> tuple[float, float, tuple | None]:
    return w.launch_lat_deg, w.launch_lon_deg, w.launch_ellipse


def _site_km(w, site) -> float:
    return float(np.hypot(*tangent_km(site["lat_deg"], site["lon_deg"], w.launch_lat_deg, w.launch_lon_deg)))
