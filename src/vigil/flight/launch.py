"""Integrated flights: a vehicle launched from a site along an azimuth, to impact or to orbit.

Steering programme (textbook gravity turn, e.g. Wiesel, *Spaceflight Dynamics*, ch. 7): vertical rise for
``vehicle.vertical_rise_s``; pitch-over at the fixed angle ``loft`` (deg from vertical, toward the azimuth)
for ``vehicle.pitch_over_s``; then thrust along the Earth-relative velocity through every stage (or, for
``guidance: orbit_insertion``, closed-loop steering of the upper stages to a circular orbit, cut off when
the semi-major axis reaches the target radius). ``loft`` is the one scalar that shapes the trajectory:
small = lofted, large = depressed. Optional ``cut_s`` terminates thrust early (energy management).

Integration: :func:`scipy.integrate.solve_ivp` (DOP853, rtol 1e-9 by default) phase by phase; phase
boundaries (end of vertical rise, pitch-over, each stage's burn) fall at known times and are integration
limits; the impact (height 0 on the WGS84 ellipsoid) and the orbit cut-off are terminal events. The
trajectory is sampled from the dense output every ``BOOST_STEP_S`` while burning and ``COAST_STEP_S``
in free flight, plus every phase boundary and the final instant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from vigil.flight.dynamics import EomOptions, Phase, derivatives, ellipsoid_height_m
from vigil.flight.orbit import perigee_altitude_m
from vigil.flight.trajectory import Trajectory
from vigil.flight.vehicle import Vehicle, load_vehicle
from vigil.frames import GM_EARTH_M3_S2, OMEGA_EARTH_RAD_S, WGS84_A_M, enu_basis, geodetic_to_ecef

BOOST_STEP_S = 1.0  # output sampling while an engine burns (issue 3: ≤ 1 s)
COAST_STEP_S = 5.0  # output sampling in free flight (issue 3: ≤ 5–10 s)
MAX_FLIGHT_S = 3.0 * 3600.0  # a ballistic flight that has not come down by then is given up (notional)
ORBIT_COAST_S = 600.0  # how long an orbital flight is followed after cut-off (notional)
ORBIT_MIN_PERIGEE_ALT_M = 100e3  # perigee above this at cut-off: the flight is orbital (Kármán line)
RTOL = 1e-9
ATOL = np.array([1e-4, 1e-4, 1e-4, 1e-7, 1e-7, 1e-7, 1e-6])  # m, m/s, kg


@dataclass
class Segment:
    """One integrated phase: its solution, time span (s from lift-off), stage index and plume intensity."""

    sol: object
    t0: float
    t1: float
    phase: Phase
    stage: int
    intensity_w_sr: float


@dataclass
class Flight:
    """Raw result of :func:`simulate`: segments, event times (s from lift-off), final state."""

    segments: list[Segment] = field(default_factory=list)
    events: dict[str, float] = field(default_factory=dict)
    y_end: np.ndarray | None = None
    outcome: str = "impact"


def _impact_event(t, y, *args):
    return ellipsoid_height_m(y[0], y[1], y[2])


_impact_event.terminal = True
_impact_event.direction = -1


def _orbit_cut_event(target_radius_m: float):
    """Event: the osculating semi-major axis reaches ``target_radius_m`` (1/a falls through 1/a_t)."""

    def event(t, y, *args):
        r = math.sqrt(y[0] ** 2 + y[1] ** 2 + y[2] ** 2)
        w = OMEGA_EARTH_RAD_S if args[1].rotating else 0.0
        vi2 = (y[3] - w * y[1]) ** 2 + (y[4] + w * y[0]) ** 2 + y[5] ** 2
        return 2.0 / r - vi2 / GM_EARTH_M3_S2 - 1.0 / target_radius_m

    event.terminal = True
    event.direction = -1
    return event


def integrate(y0, t0, t1, phase, opts, rtol=RTOL, extra_events=(), dense=True):
    """One phase with :func:`solve_ivp`; stops at impact (and ``extra_events``)."""
    return solve_ivp(
        derivatives,
        (t0, t1),
        y0,
        method="DOP853",
        rtol=rtol,
        atol=ATOL,
        events=[_impact_event, *extra_events],
        dense_output=dense,
        args=(phase, opts),
    )


def _stage_phases(vehicle: Vehicle, k: int, up, horiz, kick_rad: float) -> list[tuple[float, Phase]]:
    """(duration, phase) list of stage ``k``'s burn: vertical, pitch-over, then turn or guidance."""
    s = vehicle.stages[k]
    common = dict(
        thrust_vac_n=s.thrust_vac_n,
        thrust_sl_n=s.thrust_sl_n,
        mdot_kg_s=s.mdot_kg_s,
        area_m2=s.reference_area_m2,
        cd=s.cd,
    )
    if k > 0:
        steer = "orbit" if vehicle.guidance == "orbit_insertion" else "velocity"
        return [(s.burn_time_s, Phase(steer=steer, target_alt_m=vehicle.target_orbit_alt_m, **common))]
    pitched = tuple(math.cos(kick_rad) * up + math.sin(kick_rad) * horiz)
    t_v = min(vehicle.vertical_rise_s, s.burn_time_s)
    t_p = min(vehicle.pitch_over_s, s.burn_time_s - t_v)
    return [
        (t_v, Phase(steer="fixed", direction=tuple(up), **common)),
        (t_p, Phase(steer="fixed", direction=pitched, **common)),
        (s.burn_time_s - t_v - t_p, Phase(steer="velocity", direction=pitched, **common)),
    ]


def _run(flight: Flight, y, t, duration, phase, opts, rtol, stage, intensity, dense, events=()):
    """Integrate one phase from (t, y); record it; return (t, y, stopped_by_event_index or None)."""
    if duration <= 0.0:
        return t, y, None
    sol = integrate(y, t, t + duration, phase, opts, rtol, events, dense)
    flight.segments.append(Segment(sol, t, float(sol.t[-1]), phase, stage, intensity))
    hit = next((i for i, te in enumerate(sol.t_events) if len(te)), None)
    return float(sol.t[-1]), sol.y[:, -1].copy(), hit


def simulate(
    vehicle: Vehicle,
    lat_rad: float,
    lon_rad: float,
    azimuth_rad: float,
    kick_rad: float,
    cut_s: float | None = None,
    opts: EomOptions = EomOptions(),
    rtol: float = RTOL,
    dense: bool = True,
) -> Flight:
    """Fly ``vehicle`` from the site (on the ellipsoid); times are seconds from lift-off."""
    east, north, up = enu_basis(lat_rad, lon_rad)
    horiz = math.sin(azimuth_rad) * east + math.cos(azimuth_rad) * north
    y = np.concatenate([geodetic_to_ecef(lat_rad, lon_rad, 0.0), np.zeros(3), [vehicle.liftoff_mass_kg]])
    flight, t = Flight(events={"liftoff": 0.0}), 0.0
    cut = math.inf if cut_s is None else cut_s
    orbit_cut = [_orbit_cut_event(WGS84_A_M + vehicle.target_orbit_alt_m)]
    for k, stage in enumerate(vehicle.stages):
        if k > 0:
            flight.events[f"staging_{k}"] = t
            y[6] = vehicle.payload_mass_kg + sum(
                s.dry_mass_kg + s.propellant_mass_kg for s in vehicle.stages[k:]
            )
        for duration, phase in _stage_phases(vehicle, k, up, horiz, kick_rad):
            events = orbit_cut if phase.steer == "orbit" else ()
            t, y, hit = _run(
                flight,
                y,
                t,
                min(duration, cut - t),
                phase,
                opts,
                rtol,
                k,
                stage.plume_intensity_w_sr,
                dense,
                events,
            )
            if hit is not None or t >= cut:
                return _coast(flight, vehicle, y, t, opts, rtol, dense, crashed=hit == 0)
        if k + 1 < len(vehicle.stages) and stage.coast_after_s > 0.0:
            coast_phase = Phase(area_m2=stage.reference_area_m2, cd=stage.cd)
            t, y, hit = _run(flight, y, t, stage.coast_after_s, coast_phase, opts, rtol, -1, 0.0, dense)
            if hit is not None:
                return _coast(flight, vehicle, y, t, opts, rtol, dense, crashed=True)
    return _coast(flight, vehicle, y, t, opts, rtol, dense, crashed=False)


def _coast(flight, vehicle, y, t, opts, rtol, dense, crashed) -> Flight:
    """Burnout: drop to the payload, then free flight to impact, or a while in orbit."""
    flight.events["burnout"] = t
    y = y.copy()
    y[6] = vehicle.payload_mass_kg
    phase = Phase(area_m2=vehicle.payload_area_m2, cd=vehicle.payload_cd)
    orbital = not crashed and perigee_altitude_m(y[:3], y[3:6]) > ORBIT_MIN_PERIGEE_ALT_M
    if crashed:
        flight.events["impact"] = t
    elif orbital:
        flight.events["orbit"] = t
        t, y, _ = _run(flight, y, t, ORBIT_COAST_S, phase, opts, rtol, -1, 0.0, dense)
    else:
        t, y, hit = _run(flight, y, t, MAX_FLIGHT_S - t, phase, opts, rtol, -1, 0.0, dense)
        if hit is not None:
            flight.events["impact"] = t
    flight.outcome = "orbit" if orbital else ("impact" if "impact" in flight.events else "timeout")
    flight.y_end = y
    return flight


def to_trajectory(flight: Flight, launch_time_s: float, opts: EomOptions, launch_id: str = "") -> Trajectory:
    """Sample a :class:`Flight` into the :class:`Trajectory` contract (times from the scenario epoch)."""
    ts, ys, stages, intens, accs = [], [], [], [], []
    last = len(flight.segments) - 1
    for i, seg in enumerate(flight.segments):
        step = BOOST_STEP_S if seg.phase.steer != "none" else COAST_STEP_S
        t = np.arange(seg.t0, seg.t1, step)
        t = np.append(t, seg.t1) if i == last or len(t) == 0 else t
        y = seg.sol.sol(t).T
        ts.append(t)
        ys.append(y)
        stages.append(np.full(len(t), seg.stage))
        intens.append(np.full(len(t), seg.intensity_w_sr))
        # one physics implementation: the acceleration is the right-hand side at each sample
        accs.append(
            np.array([derivatives(tt, yy, seg.phase, opts)[3:6] for tt, yy in zip(t, y, strict=True)])
        )
    t_all, y_all = np.concatenate(ts), np.concatenate(ys)
    keep = np.concatenate([[True], np.diff(t_all) > 1e-9])  # zero-length phases leave duplicates
    kind = "space_launch" if flight.outcome == "orbit" else "ballistic"
    return Trajectory(
        launch_id=launch_id,
        kind=kind,
        t_s=launch_time_s + t_all[keep],
        r_ecef_m=y_all[keep, :3],
        v_ecef_m_s=y_all[keep, 3:6],
        a_ecef_m_s2=np.concatenate(accs)[keep],
        stage=np.concatenate(stages)[keep].astype(int),
        intensity_w_sr=np.concatenate(intens)[keep],
        events={k: launch_time_s + v for k, v in flight.events.items()},
    )


def fly(
    vehicle,
    site_lat_deg: float,
    site_lon_deg: float,
    launch_time_s: float,
    azimuth_deg: float,
    loft: float | None = None,
    *,
    cut_s: float | None = None,
    opts: EomOptions = EomOptions(),
    launch_id: str = "",
) -> Trajectory:
    """Launch ``vehicle`` (name, path or :class:`Vehicle`) and return its sampled :class:`Trajectory`.

    ``loft``: pitch-over angle from the vertical (deg); default the vehicle's ``pitch_kick_deg``.
    ``cut_s``: thrust termination (s after lift-off), for energy management; ``opts``: EOM switches.
    """
    v = load_vehicle(vehicle)
    kick = math.radians(v.pitch_kick_deg if loft is None else loft)
    flight = simulate(
        v,
        math.radians(site_lat_deg),
        math.radians(site_lon_deg),
        math.radians(azimuth_deg),
        kick,
        cut_s,
        opts,
    )
    return to_trajectory(flight, launch_time_s, opts, launch_id or v.name)


def coast(
    r0_ecef_m,
    v0_ecef_m_s,
    duration_s: float,
    opts: EomOptions = EomOptions(),
    t0_s: float = 0.0,
    ballistic_coefficient_kg_m2: float = math.inf,
    rtol: float = RTOL,
) -> Trajectory:
    """Free flight of a state for ``duration_s`` or until impact (kind ``ballistic``, stage -1).

    ``ballistic_coefficient_kg_m2`` = m / (Cd A) sets the drag (inf: none).
    """
    beta = ballistic_coefficient_kg_m2
    phase = Phase(area_m2=0.0 if math.isinf(beta) else 1.0, cd=1.0)
    y0 = np.concatenate(
        [np.asarray(r0_ecef_m, float), np.asarray(v0_ecef_m_s, float), [1.0 if math.isinf(beta) else beta]]
    )
    flight = Flight(events={})
    t, _, hit = _run(flight, y0, 0.0, duration_s, phase, opts, rtol, -1, 0.0, True)
    if hit is not None:
        flight.events["impact"] = t
    return to_trajectory(flight, t0_s, opts)
