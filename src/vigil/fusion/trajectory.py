"""The fitted trajectory of an event as display samples ``(t_s, lat_deg, lon_deg, alt_m)`` (the warning's
``track``): what the operators' globe draws as the event's live track.

Every part comes from an estimate the warning already states, so a version's track changes only when its
estimate does (a re-issued version with the same estimate has the same track):

1. **ascent** — the launch back-fit's model ``r(t)`` (:class:`~vigil.fusion.launch.AscentModel` with the
   estimate's ``φ``) from the launch time (the pad, altitude 0) to the last fitted detection, every
   :data:`ASCENT_STEP_S`. A launch estimate without a fitted model (mono, a single point) gives the pad only.
2. **boost** — once burnout is estimated: the triangulated points of the event's detections (the seeds the
   burnout smoother takes) after the ascent fit, thinned to one per :data:`BOOST_STEP_S`, then the burnout
   state itself.
3. **coast** — for a ballistic event: the mean burnout state propagated to the ground with the impact
   predictor's dynamics (J2 gravity in the rotating frame, RK4 at :data:`~vigil.fusion.impact.RK4_STEP_S`), a
   sample every :data:`COAST_SAMPLE_STEPS` steps while above the ground, ending with the warning's impact point
   (the unscented mean, altitude 0).

Samples are rounded for the record (0.1 s, 1e-5°, 1 m: ~1 m, far below the estimates' errors).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from vigil.frames import ecef_to_geodetic

from .impact import MAX_FLIGHT_S, RK4_STEP_S, ImpactPrediction, _acc, _altitude
from .launch import AscentModel, LaunchEstimate

ASCENT_STEP_S = 5.0
BOOST_STEP_S = 10.0
COAST_SAMPLE_STEPS = 5  # one coast sample per 5 RK4 steps (40 s): ~45 samples for a 30-minute coast

Sample = tuple[float, float, float, float]


def ascent_samples(launch: LaunchEstimate) -> list[Sample]:
    """Part 1 (module docstring): the pad, then the fitted ascent model up to its last fitted detection."""
    pad = (launch.time_s, math.degrees(launch.lat_rad), math.degrees(launch.lon_rad), 0.0)
    phi, degree, t_last = launch.phi, launch.degree, launch.t_last_s
    if phi is None or degree is None or t_last is None or not t_last > launch.time_s:
        return [_rounded(pad)]
    first_horizontal = 2 * degree + 4 - len(phi)  # AscentModel.size solved for it (2 or 3)
    model = AscentModel(degree, float(t_last), vertical_liftoff=first_horizontal == 3)
    n = max(int(math.ceil((t_last - launch.time_s) / ASCENT_STEP_S)), 1)
    times = np.linspace(launch.time_s, t_last, n + 1)[1:]
    return [_rounded(pad), *_geodetic(times, model.position(times, np.asarray(phi, dtype=float)))]


def boost_samples(after_s: float, seed_times: np.ndarray, seed_points: np.ndarray | None,
                  burnout_s: float, r_burnout: np.ndarray) -> list[Sample]:
    """Part 2: triangulated points later than ``after_s`` (one per :data:`BOOST_STEP_S`), then burnout."""
    out: list[Sample] = []
    if seed_points is not None and len(seed_times):
        t = np.asarray(seed_times, dtype=float)
        p = np.asarray(seed_points, dtype=float)
        keep = (t > after_s) & (t < burnout_s) & np.isfinite(p).all(axis=1)
        t, p = t[keep], p[keep]
        if len(t):
            bins = np.floor((t - t[0]) / BOOST_STEP_S)
            first = np.flatnonzero(np.r_[True, np.diff(bins) > 0])
            out = _geodetic(t[first], p[first])
    if np.all(np.isfinite(r_burnout)):
        out += _geodetic(np.array([burnout_s]), np.asarray(r_burnout, dtype=float)[None, :])
    return out


def coast_samples(burnout_s: float, r: np.ndarray, v: np.ndarray, impact: ImpactPrediction) -> list[Sample]:
    """Part 3: the mean burnout state's coast (module docstring), ending at the stated impact point."""
    x0 = np.concatenate([np.asarray(r, dtype=float), np.asarray(v, dtype=float)])
    out: list[Sample] = []
    if np.all(np.isfinite(x0)):
        t, pos = _coast(x0, float(RK4_STEP_S), COAST_SAMPLE_STEPS, float(min(MAX_FLIGHT_S, impact.time_s - burnout_s)))
        keep = burnout_s + t < impact.time_s
        out = _geodetic(burnout_s + t[keep], pos[keep])
    end = (impact.time_s, math.degrees(impact.lat_rad), math.degrees(impact.lon_rad), 0.0)
    return [*out, _rounded(end)]


def joined(*parts: list[Sample]) -> tuple[Sample, ...]:
    """The parts in order, each sample kept only if not earlier than the one before (a later part may
    start before an earlier one ends: the ascent fit and the triangulated points overlap by construction)."""
    out: list[Sample] = []
    for part in parts:
        for s in part:
            if not out or s[0] >= out[-1][0]:
                out.append(s)
    return tuple(out)


@numba.njit(cache=True, error_model="numpy")
def _coast(x0, h, every, max_s):
    """RK4 of one coast state (:func:`~vigil.fusion.impact._acc`, the predictor's dynamics) from ``t = 0``: the
    times and positions of every ``every``-th step above the ground (the start excluded), until the ground or
    ``max_s``."""
    n_max = int(max_s / h) // every + 1
    times = np.empty(n_max)
    pos = np.empty((n_max, 3))
    x = x0.copy()
    k1, k2, k3, k4, tmp = np.empty(6), np.empty(6), np.empty(6), np.empty(6), np.empty(6)
    n, step, t = 0, 0, 0.0
    while t < max_s:
        _acc(x, k1)
        tmp[:] = x + 0.5 * h * k1
        _acc(tmp, k2)
        tmp[:] = x + 0.5 * h * k2
        _acc(tmp, k3)
        tmp[:] = x + h * k3
        _acc(tmp, k4)
        x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        t += h
        step += 1
        if _altitude(x[:3].copy()) <= 0.0:
            break
        if step % every == 0 and n < n_max:
            times[n] = t
            pos[n] = x[:3]
            n += 1
    return times[:n], pos[:n]


def _geodetic(times: np.ndarray, r_ecef_m: np.ndarray) -> list[Sample]:
    lat, lon, alt = ecef_to_geodetic(np.asarray(r_ecef_m, dtype=float).reshape(-1, 3))
    lat, lon, alt = (np.atleast_1d(a) for a in (lat, lon, alt))
    return [_rounded((float(t), math.degrees(a), math.degrees(b), float(c)))
            for t, a, b, c in zip(np.asarray(times).tolist(), lat.tolist(), lon.tolist(), alt.tolist(), strict=True)]


def _rounded(s: Sample) -> Sample:
    lon = (s[2] + 180.0) % 360.0 - 180.0
    return (round(s[0], 1), round(s[1], 5), round(lon, 5), float(round(s[3])))
