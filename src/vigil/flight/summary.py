"""Key figures of a flight (burnout, range, impact or orbit) for reports, the CLI and tests."""

from __future__ import annotations

import math

import numpy as np

from vigil.flight.orbit import apsides_radii_m, inertial_velocity
from vigil.flight.trajectory import Trajectory
from vigil.frames import WGS84_A_M, ecef_to_geodetic, great_circle_distance_m


def summarize(tr: Trajectory) -> dict[str, float | str | None]:
    """Figures at burnout and at the end, in edge units (s, km, km/s, deg); JSON-ready.

    Burnout speeds are given Earth-relative (ECEF) and inertial (``v + ω×r``); the range is the
    great-circle distance (sphere of radius a) from the first to the last sample.
    """
    t_bo = tr.events.get("burnout", math.nan)
    r_bo, v_bo = tr.state_at(t_bo)
    lat0, lon0, _ = ecef_to_geodetic(tr.r_ecef_m[0])
    lat1, lon1, alt1 = ecef_to_geodetic(tr.r_ecef_m[-1])
    perigee, apogee = apsides_radii_m(tr.r_ecef_m[-1], tr.v_ecef_m_s[-1])
    return {
        "launch_id": tr.launch_id,
        "kind": tr.kind,
        "burnout_time_s": float(t_bo - tr.launch_time_s),
        "burnout_alt_km": float(ecef_to_geodetic(r_bo)[2] / 1e3),
        "burnout_speed_rel_km_s": float(np.linalg.norm(v_bo) / 1e3),
        "burnout_speed_inertial_km_s": float(np.linalg.norm(inertial_velocity(r_bo, v_bo)) / 1e3),
        "range_km": float(great_circle_distance_m(lat0, lon0, lat1, lon1) / 1e3),
        "end_lat_deg": float(math.degrees(lat1)),
        "end_lon_deg": float(math.degrees(lon1)),
        "end_alt_km": float(alt1 / 1e3),
        "flight_time_s": float(tr.t_s[-1] - tr.launch_time_s),
        "perigee_alt_km": float((perigee - WGS84_A_M) / 1e3),
        "apogee_alt_km": float((apogee - WGS84_A_M) / 1e3) if np.isfinite(apogee) else None,
    }
