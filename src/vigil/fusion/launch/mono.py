"""Single-sensor (mono) launch estimates: honest, with large uncertainty, from an assumed ascent.

One sensor gives directions only; range comes from an assumption. The plume first appears when it climbs
through the sensor's visibility altitude, so the first detection's ray is intersected with the surface at
:data:`FIRST_DETECTION_ALT_M` above the ellipsoid; the launch point is the ground point below, and the
launch time the first detection minus :data:`TIME_TO_VISIBLE_S`. The stated 1σ (:data:`LAUNCH_SIGMA_M`,
:data:`TIME_SIGMA_S`) cover the spread of visibility altitude (cloud tops 5–15 km, times the tangent of the
off-nadir view) and of the downrange drift before first sight (a few km). The azimuth is not reported:
from one sensor the climb and the downrange motion cannot be separated without more assumptions.
Also used by the stereo engine as the launch estimate before the back-fit has enough data.
"""

from __future__ import annotations

import numpy as np

from vigil.frames import ecef_to_geodetic
from vigil.fusion.launch.backfit import LaunchEstimate

FIRST_DETECTION_ALT_M = (
    10_000.0  # default plume visibility altitude (cloud tops), as in docs/design.md "Signal"
)
TIME_TO_VISIBLE_S = 40.0  # typical liftoff-to-10-km time of a ballistic missile or launcher (30–60 s)
TIME_SIGMA_S = 15.0  # spread of that time across vehicles
LAUNCH_SIGMA_M = 15_000.0  # see module docstring
RAY_ITERATIONS = 8


def ray_altitude_point(sensor_pos_m, los, altitude_m: float) -> np.ndarray | None:
    """First point along ``p + s u`` at geodetic ``altitude_m`` (m), by Newton on ``s``; None if it misses."""
    p, u = np.asarray(sensor_pos_m, dtype=float), np.asarray(los, dtype=float)
    s = -p @ u  # closest approach to the Earth's centre: start there and walk back to the near side
    x = p + s * u
    if ecef_to_geodetic(x)[2] > altitude_m:
        return None
    s_near = 0.0
    for _ in range(60):  # bisection between the sensor (above) and the closest approach (below)
        mid = 0.5 * (s_near + s)
        if ecef_to_geodetic(p + mid * u)[2] > altitude_m:
            s_near = mid
        else:
            s = mid
    return p + s * u


def mono_launch(
    t_first: float,
    sensor_pos_m,
    los,
    altitude_m: float = FIRST_DETECTION_ALT_M,
    time_to_visible_s: float = TIME_TO_VISIBLE_S,
) -> LaunchEstimate | None:
    """Mono launch estimate from the first detection of a string (see module docstring)."""
    x = ray_altitude_point(sensor_pos_m, los, altitude_m)
    if x is None:
        return None
    return point_launch(t_first, x, time_to_visible_s)


def point_launch(t_first: float, r_first_m, time_to_visible_s: float = TIME_TO_VISIBLE_S) -> LaunchEstimate:
    """Launch estimate from a first 3-D position: the ground point below it, with the mono uncertainties."""
    lat, lon, _ = ecef_to_geodetic(np.asarray(r_first_m, dtype=float))
    return LaunchEstimate(
        t_first - time_to_visible_s,
        TIME_SIGMA_S,
        float(lat),
        float(lon),
        np.eye(2) * LAUNCH_SIGMA_M**2,
        None,
        None,
        method="assumed-ascent",
    )
