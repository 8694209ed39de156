"""Telemetry replay: a real (time, altitude, downrange) ascent placed on the Earth as a Trajectory.

The profile is laid on the great circle that leaves the site along the azimuth (spherical formulas of
:func:`vigil.frames.great_circle_destination`, radius a of WGS84), at the given altitude above the WGS84
ellipsoid. Velocity and acceleration are Savitzky–Golay derivatives of the ECEF positions (local cubic
least squares over ``SG_WINDOW_S`` of data; Savitzky & Golay, Anal. Chem. 36 (1964) 1627), which smooths
the 1 m rounding of the telemetry; it also smears the acceleration over a few seconds around engine
cut-offs. The stage comes from the events line (``meco``, ``ses1``, ``seco1``); the intensity is the
matching stage's plume intensity of a vehicle file (default ``notional-launcher-2stage``).

Downrange: the shipped Falcon 9 files (shahar603/Telemetry-Data) integrate the horizontal speed at the
flight altitude, ``ds = v cos γ dt`` (their last rows advance by exactly ``speed_m_s`` per second at
γ ≈ 0). So by default (``downrange_at_altitude=True``) the column is converted to the surface arc
``a dθ = a ds / (a + h)`` before the profile is placed; the replayed speed then matches the file's
``speed_m_s`` column to ~30 m/s, where taking the column as a surface arc overshoots it by up to 250 m/s
at cut-off (h/a ≈ 3 %) and puts CRS-8 on a 205 × 1,335 km orbit instead of ≈ 200 × 380 km.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.signal import savgol_filter

from vigil.errors import DataError
from vigil.flight.orbit import perigee_altitude_m
from vigil.flight.trajectory import Trajectory
from vigil.flight.vehicle import load_vehicle
from vigil.frames import WGS84_A_M, geodetic_to_ecef, great_circle_destination

REQUIRED_COLUMNS = ("time_s", "altitude_m", "downrange_m")
SG_WINDOW_S = 11.0  # Savitzky–Golay window (s); 11 samples at the files' 1 s sampling
SG_POLYORDER = 3
UNIFORM_TOL_S = 1e-6  # sampling steps must agree to this (the filter assumes uniform sampling)
MIN_ROWS = 20
MIN_VALUE_M = -1000.0  # real profiles dip a few metres below 0 (downrange while vertical); reject below this
ORBIT_MIN_PERIGEE_ALT_M = 100e3  # perigee above this at the end: an 'orbit' event (Kármán line)


def _events(path: Path, line: str) -> dict[str, float]:
    """Parse ``# events_s: maxq=72, meco=155, ...``."""
    out = {}
    for item in line.split(":", 1)[1].split(","):
        name, _, value = item.strip().partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise DataError(f"{path}:2: event {item.strip()!r} is not name=seconds") from None
    return out


def read_telemetry(csv_path) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Columns (name → float array) and events (name → s) of a telemetry CSV; DataError names the row."""
    path = Path(csv_path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read telemetry ({getattr(exc, 'strerror', None) or exc})") from None
    events: dict[str, float] = {}
    header, rows, first = None, [], 0
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            if text[1:].strip().startswith("events_s:"):
                events = _events(path, text)
            continue
        if header is None:
            header = [c.strip() for c in text.split(",")]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise DataError(f"{path}:{number}: header lacks column(s) {', '.join(missing)}")
            continue
        cells = text.split(",")
        if len(cells) != len(header):
            raise DataError(f"{path}:{number}: {len(cells)} fields, header has {len(header)}")
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise DataError(f"{path}:{number}: non-numeric field in {text!r}") from None
        first = first or number
    if header is None or len(rows) < MIN_ROWS:
        raise DataError(f"{path}: {len(rows)} data rows, at least {MIN_ROWS} needed")
    data = np.array(rows)
    _validate(path, data, header, first)
    return {name: data[:, i] for i, name in enumerate(header)}, events


def _validate(path: Path, data: np.ndarray, header: list[str], first_line: int) -> None:
    bad = np.flatnonzero(~np.isfinite(data).all(axis=1))
    if bad.size:
        raise DataError(f"{path}:{first_line + bad[0]}: non-finite value")
    dt = np.diff(data[:, header.index("time_s")])
    if np.any(dt <= 0):
        raise DataError(f"{path}:{first_line + 1 + int(np.argmax(dt <= 0))}: time_s does not increase")
    if np.ptp(dt) > UNIFORM_TOL_S:
        raise DataError(
            f"{path}:{first_line + 1 + int(np.argmax(np.abs(dt - dt[0]) > UNIFORM_TOL_S))}: "
            "time_s is not uniformly sampled"
        )
    for name in ("downrange_m", "altitude_m"):
        low = np.flatnonzero(data[:, header.index(name)] < MIN_VALUE_M)
        if low.size:
            raise DataError(f"{path}:{first_line + low[0]}: {name} below {MIN_VALUE_M:g} m")


def _stage_of(t: np.ndarray, events: dict[str, float]) -> np.ndarray:
    """0 before meco, -1 between meco and ses1, 1 between ses1 and seco1, -1 after."""
    stage = np.full(t.shape, -1, dtype=int)
    meco = events.get("meco", math.inf)
    stage[t < meco] = 0
    ses1, seco1 = events.get("ses1", math.inf), events.get("seco1", math.inf)
    stage[(t >= ses1) & (t < seco1)] = 1
    return stage


def place_profile(lat_rad: float, lon_rad: float, azimuth_rad: float, altitude_m, downrange_m):
    """ECEF positions ``(K, 3)`` of (altitude, surface downrange) along the great circle from the site."""
    lat2, lon2 = great_circle_destination(lat_rad, lon_rad, azimuth_rad, np.asarray(downrange_m, float))
    return geodetic_to_ecef(lat2, lon2, altitude_m)


def replay(
    csv_path,
    site_lat_deg: float,
    site_lon_deg: float,
    launch_time_s: float,
    azimuth_deg: float,
    *,
    vehicle="notional-launcher-2stage",
    downrange_at_altitude: bool = True,
    launch_id: str = "",
) -> Trajectory:
    """Replay a telemetry CSV from a site along an azimuth as a ``space_launch`` :class:`Trajectory`."""
    cols, events = read_telemetry(csv_path)
    t, h, s = cols["time_s"], cols["altitude_m"], cols["downrange_m"]
    if downrange_at_altitude:
        s = WGS84_A_M * cumulative_trapezoid(np.gradient(s, t) / (WGS84_A_M + h), t, initial=0.0)
    r = place_profile(math.radians(site_lat_deg), math.radians(site_lon_deg), math.radians(azimuth_deg), h, s)
    dt = float(t[1] - t[0])
    window = int(round(SG_WINDOW_S / dt)) | 1
    v = savgol_filter(r, window, SG_POLYORDER, deriv=1, delta=dt, axis=0)
    a = savgol_filter(r, window, SG_POLYORDER, deriv=2, delta=dt, axis=0)
    stage = _stage_of(t, events)
    stages = load_vehicle(vehicle).stages
    intensity = np.array(
        [stages[min(k, len(stages) - 1)].plume_intensity_w_sr if k >= 0 else 0.0 for k in stage]
    )
    out_events = {"liftoff": 0.0, **events}
    if "meco" in events:
        out_events["staging_1"] = events["meco"]
    if "seco1" in events:
        out_events["burnout"] = events["seco1"]
        if perigee_altitude_m(r[-1], v[-1]) > ORBIT_MIN_PERIGEE_ALT_M:
            out_events["orbit"] = events["seco1"]
    return Trajectory(
        launch_id=launch_id or Path(csv_path).stem,
        kind="space_launch",
        t_s=launch_time_s + t,
        r_ecef_m=r,
        v_ecef_m_s=v,
        a_ecef_m_s2=a,
        stage=stage,
        intensity_w_sr=intensity,
        events={k: launch_time_s + x for k, x in out_events.items()},
    )
