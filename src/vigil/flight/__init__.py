"""Flight physics: vehicles, equations of motion, launches, targeting, telemetry replay.

Public names::

    load_vehicle(name_or_path) -> Vehicle
    fly(vehicle, site_lat_deg, site_lon_deg, launch_time_s, azimuth_deg, loft=None) -> Trajectory
    fly_to_target(vehicle, site, launch_time_s, target_lat_deg, target_lon_deg) -> Trajectory
    replay(csv_path, site_lat_deg, site_lon_deg, launch_time_s, azimuth_deg) -> Trajectory
    coast(r0_ecef_m, v0_ecef_m_s, duration_s, opts) -> Trajectory     (free flight of a state)
"""

from vigil.flight.dynamics import EomOptions, jacobi_energy
from vigil.flight.launch import coast, fly
from vigil.flight.orbit import apsides_radii_m, inertial_velocity, perigee_altitude_m
from vigil.flight.replay import read_telemetry, replay
from vigil.flight.summary import summarize
from vigil.flight.targeting import fly_to_target, solve_min_energy
from vigil.flight.trajectory import Trajectory
from vigil.flight.vehicle import Stage, Vehicle, builtin_vehicles, load_vehicle

__all__ = [
    "EomOptions",
    "Stage",
    "Trajectory",
    "Vehicle",
    "apsides_radii_m",
    "builtin_vehicles",
    "coast",
    "fly",
    "fly_to_target",
    "inertial_velocity",
    "jacobi_energy",
    "load_vehicle",
    "perigee_altitude_m",
    "read_telemetry",
    "replay",
    "solve_min_energy",
    "summarize",
]
