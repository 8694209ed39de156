"""Light-time and Earth-rotation correction of detections, before any fusion stage.

A detection is stamped at reception ``t_r`` with the sensor position at ``t_r`` in the ECEF axes of
``t_r``; the plume was where it is seen at emission ``t_e = t_r - ρ/c`` (ρ the range, 0.12–0.14 s from
GEO: ~0.9 km of along-track motion at 7 km/s), and the ECEF axes turned by ``ω⊕ (t_r - t_e)`` about z in
between (the Sagnac term, ~56 m at the Equator, ~1.5 µrad from GEO; :func:`vigil.sensors.signal.to_reception_frame`).
Both are removed here, once per detection: the time becomes ``t_e`` and the ray (sensor position and unit
LOS) is expressed in the ECEF axes of ``t_e``, so every later stage fits ECEF positions at one instant.

Range: distance along the LOS to the ellipsoid inflated by :data:`REFERENCE_ALT_M` (or to the closest
approach to the Earth's centre for a ray that misses it). A plume between 10 and 300 km altitude is at most
~400 km off that point along the ray: ≤ 1.4 ms of time error, ≤ 10 m of position at 7 km/s (checked in
tests/fusion against :func:`vigil.sensors.signal.light_time_solve`).
"""

from __future__ import annotations

import numpy as np

from vigil.frames import C_LIGHT_M_S, WGS84_A_M, WGS84_B_M
from vigil.records import ObservationBatch
from vigil.sensors.signal import to_reception_frame

REFERENCE_ALT_M = 50_000.0  # mid-boost altitude: the ray's range is taken to this shell


def range_to_shell_m(pos_m, los, alt_m: float = REFERENCE_ALT_M) -> np.ndarray:
    """Distance (m) ``(M,)`` along unit ``los`` ``(M, 3)`` from ``pos_m`` to the inflated ellipsoid's near side."""
    a, b = WGS84_A_M + alt_m, WGS84_B_M + alt_m
    scale = np.array([1.0 / a, 1.0 / a, 1.0 / b])
    p, u = np.asarray(pos_m, float) * scale, np.asarray(los, float) * scale
    qa = np.einsum("mi,mi->m", u, u)
    qb = np.einsum("mi,mi->m", p, u)
    qc = np.einsum("mi,mi->m", p, p) - 1.0
    disc = qb * qb - qa * qc
    near = (-qb - np.sqrt(np.maximum(disc, 0.0))) / qa
    closest = -np.einsum("mi,mi->m", np.asarray(pos_m, float), np.asarray(los, float))
    return np.where(disc >= 0.0, near, closest)


def correct_light_time(batch: ObservationBatch) -> ObservationBatch:
    """Detections at emission time, rays in the ECEF axes of emission (see module docstring)."""
    if not len(batch):
        return batch
    dt = range_to_shell_m(batch.sensor_pos_ecef_m, batch.los_ecef) / C_LIGHT_M_S
    out = batch.take(np.arange(len(batch)))
    out.time_s = batch.time_s - dt
    out.sensor_pos_ecef_m = to_reception_frame(batch.sensor_pos_ecef_m, -dt)
    out.los_ecef = to_reception_frame(batch.los_ecef, -dt)
    return out
