"""Truth records of a simulated launch (what really flew), for ``truth.json`` and the scorers.

Geodetic at the edge (degrees, metres); ECEF metres alongside. Orbit figures are two-body apsides of the
state at burnout (:func:`vigil.flight.orbit.apsides_radii_m`), altitudes above the WGS84 equatorial radius.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..flight.orbit import apsides_radii_m
from ..flight.trajectory import Trajectory
from ..frames import WGS84_A_M, ecef_to_geodetic, initial_azimuth_rad


def iso_utc(epoch: dt.datetime, offset_s: float) -> str:
    """ISO 8601 UTC text (ms resolution, ``Z``) of ``epoch + offset_s``."""
    t = epoch + dt.timedelta(seconds=float(offset_s))
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _geodetic_deg(r_ecef_m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lat, lon, alt = ecef_to_geodetic(r_ecef_m)
    return np.degrees(lat), np.degrees(lon), alt


def burnout_time_s(traj: Trajectory) -> float:
    """Time (s from epoch) of the last engine cut-off: the ``burnout`` event or the last lit sample."""
    if "burnout" in traj.events:
        return float(traj.events["burnout"])
    lit = np.nonzero(np.asarray(traj.intensity_w_sr) > 0)[0]
    return float(traj.t_s[lit[-1]] if len(lit) else traj.t_s[0])


def state_record(traj: Trajectory, t_s: float) -> dict:
    """Time, geodetic position, ECEF position and velocity, speed of ``traj`` at ``t_s``."""
    r, v = traj.state_at(np.array([t_s]))
    lat, lon, alt = _geodetic_deg(r[0])
    return {
        "time_s": float(t_s),
        "lat_deg": float(lat),
        "lon_deg": float(lon),
        "alt_m": float(alt),
        "pos_ecef_m": r[0].tolist(),
        "vel_ecef_m_s": v[0].tolist(),
        "speed_m_s": float(np.linalg.norm(v[0])),
    }


def trajectory_samples(traj: Trajectory) -> dict:
    """The trajectory at its own samples, column-wise: time, lat, lon, alt, ECEF position, intensity."""
    lat, lon, alt = _geodetic_deg(traj.r_ecef_m)
    return {
        "time_s": np.asarray(traj.t_s, float).tolist(),
        "lat_deg": lat.tolist(),
        "lon_deg": lon.tolist(),
        "alt_m": alt.tolist(),
        "pos_ecef_m": np.asarray(traj.r_ecef_m, float).tolist(),
        "intensity_w_sr": np.asarray(traj.intensity_w_sr, float).tolist(),
    }


def launch_truth(
    traj: Trajectory, epoch: dt.datetime, launch_id: str, source: str, azimuth_deg: float | None
) -> dict:
    """Truth of one launch: id, class, source (vehicle or telemetry), site, launch time, azimuth,
    burnout state, impact point or orbit apsides, and the sampled trajectory."""
    t0 = traj.launch_time_s
    lat0, lon0, _ = _geodetic_deg(traj.r_ecef_m[0])
    end = _ending(traj)
    if azimuth_deg is None and "impact" in end:
        az = initial_azimuth_rad(
            np.radians(lat0),
            np.radians(lon0),
            np.radians(end["impact"]["lat_deg"]),
            np.radians(end["impact"]["lon_deg"]),
        )
        azimuth_deg = float(np.degrees(az))
    t_bo = burnout_time_s(traj)
    return {
        "id": launch_id,
        "class": traj.kind,
        "source": source,
        "site": {"lat_deg": float(lat0), "lon_deg": float(lon0)},
        "launch_time_s": float(t0),
        "launch_time": iso_utc(epoch, t0),
        "azimuth_deg": None if azimuth_deg is None else float(azimuth_deg),
        "events_s": {k: float(v) for k, v in traj.events.items()},
        "burnout": state_record(traj, t_bo) | {"time": iso_utc(epoch, t_bo)},
        **end,
        "trajectory": trajectory_samples(traj),
    }


def _ending(traj: Trajectory) -> dict:
    """``{"impact": …}`` for a flight that came down, else ``{"orbit": perigee/apogee}`` at burnout."""
    if traj.kind != "space_launch" and "impact" in traj.events:
        t_imp = float(traj.events["impact"])
        t_imp = min(t_imp, float(traj.t_s[-1]))
        rec = state_record(traj, t_imp)
        return {"impact": {k: rec[k] for k in ("time_s", "lat_deg", "lon_deg", "alt_m", "pos_ecef_m")}}
    t_bo = burnout_time_s(traj)
    r, v = traj.state_at(np.array([t_bo]))
    perigee, apogee = apsides_radii_m(r[0], v[0])
    return {
        "impact": None,
        "orbit": {
            "perigee_alt_m": float(perigee - WGS84_A_M),
            "apogee_alt_m": float(apogee - WGS84_A_M) if np.isfinite(apogee) else None,
        },
    }
