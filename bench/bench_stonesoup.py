"""Stone Soup peer vs vigil on the same boost-phase observations: burnout accuracy and runtime, side by side.

Observations (synthetic, until a run wants the simulator: ``--scenario``): one notional 3-stage ICBM flown
by :func:`vigil.flight.launch.fly` from (45° N, 63.3° E) on a seeded azimuth; 2 GEO + 2 HEO sensors at fixed
ECEF points (a GEO satellite is fixed in ECEF; a HEO near apogee drifts ~1 km/s, irrelevant to estimation
since each detection carries its sensor position); 1 s frames, each sensor with its own random phase
(asynchronous); a detection when the vehicle burns and is above the cloud tops
(:data:`vigil.sensors.signal.DEFAULT_VISIBLE_ALT_M`); 20 µrad Gaussian LOS noise on each tangent axis.
Light time is ignored (the same rays feed both estimators). Detections are pre-associated by truth.

Estimators, both given every detection of the launch up to burnout and asked for the state at the true
burnout instant:

* Stone Soup: :func:`stonesoup_peer.run_peer` (UKF by default, ``--kind ekf``), then predicted to burnout;
* vigil: :func:`vigil_estimate` (vigil's compiled boost EKF from the same prior and process noise as the
  peer, then its burnout smoother; light-time corrected in ``--scenario`` runs), or
  with ``--vigil engine`` :func:`vigil_engine_estimate`, the whole fusion engine (association included).

``--scenario`` runs the simulator (:func:`vigil.sim.engine.simulate`) and takes each launch's detections
whose light left before burnout; their ``time_s`` is the reception instant: Stone Soup treats it as the
target's time (a bias of ``v ρ / c``, ~0.9 km at ICBM burnout from GEO), vigil corrects it.

Runtime is wall time per observation, each estimator's whole call (Stone Soup's includes the adapter).
Reported: per-run errors and the median over ``--runs`` seeded runs (default 20).
Run: ``.venv/bin/python bench/bench_stonesoup.py [--runs 20] [--kind ukf|ekf] [--vigil filter|engine]
[--psd Q] [--tune] [--scenario FILE]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from stonesoup_peer import SS_TO_VIGIL, first_pair, prior, run_peer  # noqa: E402
from vigil.errors import DataError, VigilError  # noqa: E402
from vigil.flight.launch import fly  # noqa: E402
from vigil.flight.trajectory import Trajectory  # noqa: E402
from vigil.frames import WGS84_A_M, ecef_to_geodetic, geodetic_to_ecef  # noqa: E402
from vigil.fusion.boost.filter import JERK_PSD_M2_S5, LosExtendedKalmanFilter  # noqa: E402
from vigil.fusion.coast.burnout import smooth_burnout  # noqa: E402
from vigil.fusion.geometry.triangulate import tangent_basis  # noqa: E402
from vigil.fusion.lighttime import correct_light_time  # noqa: E402
from vigil.records import ObservationBatch  # noqa: E402
from vigil.sensors.signal import DEFAULT_VISIBLE_ALT_M  # noqa: E402
from vigil.sim.truth import burnout_time_s  # noqa: E402

VEHICLE = "notional-icbm-3stage"
SITE_LAT_DEG, SITE_LON_DEG = 45.0, 63.3
AZIMUTH_RANGE_DEG = (0.0, 360.0)  # azimuth drawn per seed
LAUNCH_TIME_S = 100.0
LOS_SIGMA_RAD = 20e-6  # issue 4: 20 µrad per tangent axis
FRAME_S = 1.0
GEO_RADIUS_M = 42_164_000.0  # geostationary orbit radius (Vallado, Fundamentals of Astrodynamics, 4th ed.)
HEO_APOGEE_ALT_M = 35_000e3  # notional Molniya-like apogee altitude (Molniya apogee ≈ 39 800 km)
HEO_APOGEE_LAT_DEG = 63.0  # Molniya apogee latitude ≈ critical inclination 63.4°
GEO_LON_OFFSETS_DEG = (-35.0, 30.0)  # sub-satellite longitudes relative to the site
LIGHT_TIME = False  # vigil corrects light time (set for --scenario: reception-stamped detections)
HEO_LON_OFFSETS_DEG = (-50.0, 45.0)
TUNE_SEEDS = range(1000, 1010)  # seeds for --tune, disjoint from the reported seeds 0..runs-1
TUNE_PSD_M2_S5 = (0.25, 1.0, 4.0, 16.0, 64.0)


def sensor_positions(lon_deg: float = SITE_LON_DEG) -> list[tuple[str, np.ndarray]]:
    """2 GEO + 2 HEO-apogee ECEF positions (m) watching a site at longitude ``lon_deg``."""
    geo = [
        (f"geo-{k}", geodetic_to_ecef(0.0, np.radians(lon_deg + d), GEO_RADIUS_M - WGS84_A_M))
        for k, d in enumerate(GEO_LON_OFFSETS_DEG)
    ]
    heo = [
        (
            f"heo-{k}",
            geodetic_to_ecef(np.radians(HEO_APOGEE_LAT_DEG), np.radians(lon_deg + d), HEO_APOGEE_ALT_M),
        )
        for k, d in enumerate(HEO_LON_OFFSETS_DEG)
    ]
    return geo + heo


def noisy_los(r_target, sensor_pos, sigma_rad: float, rng: np.random.Generator) -> np.ndarray:
    """Unit LOS ``(T, 3)`` to ``r_target`` with Gaussian angular noise ``sigma_rad`` on each tangent axis."""
    d = r_target - sensor_pos
    u = d / np.linalg.norm(d, axis=-1, keepdims=True)
    e1, e2 = tangent_basis(u)
    n = rng.normal(0.0, sigma_rad, (len(u), 2))
    u = u + n[:, :1] * e1 + n[:, 1:] * e2
    return u / np.linalg.norm(u, axis=-1, keepdims=True)


def observe(traj: Trajectory, rng: np.random.Generator, sigma_rad: float = LOS_SIGMA_RAD) -> ObservationBatch:
    """Detections of the boost of ``traj`` by :func:`sensor_positions`, asynchronous frames, time-sorted."""
    t_bo = burnout_time_s(traj)
    cols: dict[str, list] = {k: [] for k in ("sid", "t", "p", "u", "f")}
    for sid, pos in sensor_positions():
        frames = traj.t_s[0] + rng.uniform(0.0, FRAME_S) + np.arange(0.0, t_bo - traj.t_s[0], FRAME_S)
        frames = frames[frames <= t_bo]  # the plume goes dark at burnout
        r, _ = traj.state_at(frames)
        seen = ecef_to_geodetic(r)[2] >= DEFAULT_VISIBLE_ALT_M
        cols["sid"].append(np.full(seen.sum(), sid, dtype=object))
        cols["t"].append(frames[seen])
        cols["p"].append(np.broadcast_to(pos, (seen.sum(), 3)))
        cols["u"].append(noisy_los(r[seen], pos, sigma_rad, rng))
        cols["f"].append(np.nonzero(seen)[0])
    m = sum(len(t) for t in cols["t"])
    return ObservationBatch(
        "2026-03-01T12:00:00Z",
        np.arange(m),
        np.concatenate(cols["sid"]),
        np.full(m, "bench", dtype=object),
        np.concatenate(cols["t"]),
        np.concatenate(cols["p"]),
        np.concatenate(cols["u"]),
        np.full(m, sigma_rad),
        np.full(m, np.nan),
        np.full(m, np.nan),
        np.concatenate(cols["f"]).astype(np.int64),
    ).sorted_by_time()


def synthetic_launch(seed: int) -> tuple[ObservationBatch, Trajectory]:
    """One seeded run: the flight (seeded azimuth) and its observations."""
    rng = np.random.default_rng(seed)
    traj = fly(VEHICLE, SITE_LAT_DEG, SITE_LON_DEG, LAUNCH_TIME_S, float(rng.uniform(*AZIMUTH_RANGE_DEG)))
    return observe(traj, rng), traj


def vigil_estimate(
    observations: ObservationBatch,
    t_eval_s: float | None = None,
    jerk_psd_m2_s5: float = JERK_PSD_M2_S5,
    light_time: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """vigil's estimate of ``(r (3,) m, v (3,) m/s)`` at ``t_eval_s`` from one launch's LOS.

    The fusion chain's per-event path: (light-time correction, :mod:`vigil.fusion.lighttime`, for
    reception-stamped detections — the ``--scenario`` runs), the compiled boost EKF
    (:meth:`~vigil.fusion.boost.filter.LosExtendedKalmanFilter.run`) from the same prior as the Stone Soup peer
    (:func:`stonesoup_peer.prior`, reordered to vigil's ``[r, v, a]``), then the burnout smoother
    (:func:`vigil.fusion.coast.burnout.smooth_burnout`: polynomial fit of the final stage's last LOS) started from
    the filter; the state at the last detection is carried to ``t_eval_s`` (default: the last detection).
    """
    obs = observations.sorted_by_time()
    if LIGHT_TIME if light_time is None else light_time:
        obs = correct_light_time(obs)
    pair = first_pair(obs)
    t0, mean, cov = prior(obs, pair)
    kf = LosExtendedKalmanFilter(t0, mean[SS_TO_VIGIL], cov[np.ix_(SS_TO_VIGIL, SS_TO_VIGIL)], jerk_psd_m2_s5)
    rest = np.setdiff1d(np.arange(len(obs)), np.asarray(pair))
    kf.run(obs.time_s[rest], obs.sensor_pos_ecef_m[rest], obs.los_ecef[rest], obs.los_sigma_rad[rest])
    smoothed = smooth_burnout(obs.time_s, obs.sensor_pos_ecef_m, obs.los_ecef, obs.los_sigma_rad, kf.x)
    if smoothed is None:
        x, _ = kf.state_at(obs.time_s[-1] if t_eval_s is None else t_eval_s)
        return x[:3], x[3:6]
    t_b, r, v, _ = smoothed
    dt = 0.0 if t_eval_s is None else t_eval_s - t_b
    return r + v * dt, v


def vigil_engine_estimate(
    observations: ObservationBatch, t_eval_s: float | None = None, jerk_psd_m2_s5: float = JERK_PSD_M2_S5
) -> tuple[np.ndarray, np.ndarray]:
    """The whole fusion chain (:class:`vigil.fusion.engine.FusionEngine`: strings, association, boost filter,
    launch back-fits, impact predictions) on one launch's detections; its event's burnout state (else its
    filter state) carried to ``t_eval_s``."""
    from vigil.fusion.engine import FusionConfig, FusionEngine

    engine = FusionEngine(FusionConfig(jerk_psd_m2_s5=jerk_psd_m2_s5, light_time=LIGHT_TIME))
    for _ in engine.run(observations):
        pass
    tracked = [e for e in engine.events if e.filter is not None]
    if len(tracked) != 1:
        raise DataError(f"vigil engine: expected one filtered event for one launch, got {len(tracked)}")
    b = tracked[0].burnout
    if b is not None and np.all(np.isfinite(b.r)):  # the smoothed burnout state (burnout.py)
        return b.r + b.v * (0.0 if t_eval_s is None else t_eval_s - b.time_s), b.v
    f = tracked[0].filter
    x, _ = f.state_at(f.t if t_eval_s is None else t_eval_s)
    return x[:3], x[3:6]


VIGIL_ESTIMATORS = {"filter": vigil_estimate, "engine": vigil_engine_estimate}


def compare(obs: ObservationBatch, traj: Trajectory, kind: str, psd: float, vigil: str = "filter") -> dict:
    """Errors at true burnout (m, m/s) and runtime per observation (s) of both estimators on ``obs``."""
    t_bo = burnout_time_s(traj)
    r_true, v_true = (a[0] for a in traj.state_at(np.array([t_bo])))
    track = run_peer(obs, kind, psd)
    r_ss, v_ss = track.state_at(t_bo, from_last=True)
    t0 = time.perf_counter()
    r_vg, v_vg = VIGIL_ESTIMATORS[vigil](obs, t_bo, psd)
    t_vg = time.perf_counter() - t0
    return {
        "n_obs": len(obs),
        "ss_pos_m": float(np.linalg.norm(r_ss - r_true)),
        "ss_vel_m_s": float(np.linalg.norm(v_ss - v_true)),
        "vg_pos_m": float(np.linalg.norm(r_vg - r_true)),
        "vg_vel_m_s": float(np.linalg.norm(v_vg - v_true)),
        "ss_s_per_obs": track.runtime_s / len(obs),
        "vg_s_per_obs": t_vg / len(obs),
    }


def scenario_launches(path: str, seed: int) -> list[tuple[str, ObservationBatch, Trajectory]]:
    """Every launch of a simulated scenario with its truth-associated detections up to burnout (light time)."""
    from vigil.sim.engine import simulate
    from vigil.sim.scenario import load_scenario

    res = simulate(load_scenario(path), np.random.default_rng(seed))
    out = []
    for lid, traj in res.trajectories.items():
        mine = (res.truth_launch == lid) & (res.t_emit_s <= burnout_time_s(traj))
        obs = res.observations.take(mine)
        if len(obs) >= 3 and len(set(obs.sensor_id)) >= 2:
            out.append((lid, obs, traj))
    return out


ROW = "{:>8} {:>5} {:>10.1f} {:>10.2f} {:>10.1f} {:>10.2f} {:>10.1f} {:>9.1f} {:>7.1f}"
HEAD = "{:>8} {:>5} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>7}".format(
    "run", "obs", "ss_pos_m", "ss_vel_m/s", "vg_pos_m", "vg_vel_m/s", "ss_us/obs", "vg_us/obs", "ratio"
)


def format_row(name: str, r: dict) -> str:
    return ROW.format(
        name,
        r["n_obs"],
        r["ss_pos_m"],
        r["ss_vel_m_s"],
        r["vg_pos_m"],
        r["vg_vel_m_s"],
        r["ss_s_per_obs"] * 1e6,
        r["vg_s_per_obs"] * 1e6,
        r["ss_s_per_obs"] / r["vg_s_per_obs"],
    )


def median_row(rows: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def tune(kind: str) -> None:
    """Median burnout errors of both estimators against the process noise, on :data:`TUNE_SEEDS`."""
    runs = [synthetic_launch(s) for s in TUNE_SEEDS]
    print(f"tuning jerk PSD on seeds {TUNE_SEEDS.start}..{TUNE_SEEDS.stop - 1} ({kind})")
    for psd in TUNE_PSD_M2_S5:
        med = median_row([compare(o, t, kind, psd) for o, t in runs])
        print(
            f"  q = {psd:6.2f} m²/s⁵: stone soup {med['ss_pos_m']:8.1f} m {med['ss_vel_m_s']:7.2f} m/s"
            f" | vigil {med['vg_pos_m']:8.1f} m {med['vg_vel_m_s']:7.2f} m/s"
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--kind", choices=("ukf", "ekf"), default="ukf")
    ap.add_argument("--psd", type=float, default=JERK_PSD_M2_S5, help="white-jerk PSD m²/s⁵ (both filters)")
    ap.add_argument(
        "--vigil",
        choices=tuple(VIGIL_ESTIMATORS),
        default="filter",
        help="vigil side: its boost filter alone, or the whole fusion engine",
    )
    ap.add_argument("--tune", action="store_true", help="sweep the process noise on held-out seeds")
    ap.add_argument("--scenario", help="simulate this scenario file per seed instead of the synthetic ICBM")
    a = ap.parse_args(argv)
    try:
        run(a)
    except VigilError as err:
        sys.exit(f"error: {err}")


def run(a: argparse.Namespace) -> None:
    """The benchmark proper (see the module docstring), for parsed arguments ``a``."""
    global LIGHT_TIME
    if a.tune:
        tune(a.kind)
        return
    LIGHT_TIME = bool(a.scenario)
    t_start = time.perf_counter()
    print(f"Stone Soup {a.kind.upper()} vs vigil {a.vigil}, jerk PSD {a.psd} m²/s⁵, state at true burnout")
    print(HEAD)
    rows = []
    for seed in range(a.runs):
        runs = scenario_launches(a.scenario, seed) if a.scenario else [(str(seed), *synthetic_launch(seed))]
        for name, obs, traj in runs:
            rows.append(compare(obs, traj, a.kind, a.psd, a.vigil))
            print(format_row(name if not a.scenario else f"{seed}:{name}", rows[-1]))
    print(format_row("median", median_row(rows)))
    print(f"{len(rows)} runs in {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
