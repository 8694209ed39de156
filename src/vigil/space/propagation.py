"""Array propagation of a constellation with SGP4 into ECEF: positions ``(T, N, 3)`` in metres.

python-sgp4's ``SatrecArray`` (C++) propagates in TEME and holds the GIL, so for large jobs the
satellites are split across forked worker processes that write straight into one shared buffer; each
worker rotates its slice into ECEF (GMST 1982 at UT1, :func:`vigil.frames.teme_to_ecef`) with a numba
kernel fused with the (N, T) -> (T, N) transpose and the km -> m scaling. Element sets that SGP4 cannot
propagate at an instant give NaN there and ``ok == False`` (never an exception).
"""

from __future__ import annotations

import mmap
import multiprocessing as mp
import os
from dataclasses import dataclass

import numba
import numpy as np
from sgp4.api import SatrecArray

from ..frames import gmst82_rad
from ..timescale import TimeGrid
from .constellation import Constellation

PARALLEL_MIN_WORK = 200_000  # satellite-instants below which forking costs more than it saves


@dataclass(frozen=True)
class Ephemeris:
    """Satellite positions over a time grid: ``r_ecef_m`` ``(T, N, 3)``, ``ok`` ``(T, N)`` (False = SGP4 error)."""

    times: TimeGrid
    r_ecef_m: np.ndarray
    ok: np.ndarray
    names: tuple[str, ...]


@numba.njit(cache=True, nogil=True)
def _rotate_transpose(e, r_km, cos_t, sin_t, out_m, ok, col0):
    """out[t, col0 + n] = Rz(theta_t) r[n, t] * 1000; NaN where SGP4 reported an error."""
    n_sat, n_t = e.shape
    for n in range(n_sat):
        for t in range(n_t):
            j = col0 + n
            if e[n, t] != 0:
                out_m[t, j, 0] = np.nan
                out_m[t, j, 1] = np.nan
                out_m[t, j, 2] = np.nan
                ok[t, j] = 0
                continue
            x = r_km[n, t, 0] * 1000.0
            y = r_km[n, t, 1] * 1000.0
            out_m[t, j, 0] = cos_t[t] * x + sin_t[t] * y
            out_m[t, j, 1] = -sin_t[t] * x + cos_t[t] * y
            out_m[t, j, 2] = r_km[n, t, 2] * 1000.0
            ok[t, j] = 1


def _propagate_slice(satrecs, times: TimeGrid, cos_t, sin_t, out_m, ok, col0) -> None:
    e, r, _v = SatrecArray(list(satrecs)).sgp4(times.jd_utc_whole, times.jd_utc_fraction)
    _rotate_transpose(e, r, cos_t, sin_t, out_m, ok, col0)


def _shared_array(shape, dtype):
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = mmap.mmap(-1, max(size, 1))  # anonymous MAP_SHARED: visible to forked children
    return np.frombuffer(buf, dtype=dtype, count=int(np.prod(shape))).reshape(shape)


def propagate_ecef(constellation: Constellation, times: TimeGrid, workers: int | None = None) -> Ephemeris:
    """Propagate every satellite of ``constellation`` to every instant of ``times``; ECEF metres ``(T, N, 3)``.

    ``workers`` processes share the satellites (default: the CPUs available, for jobs above
    :data:`PARALLEL_MIN_WORK` satellite-instants; 1 runs in this process).
    """
    n_sat, n_t = len(constellation), len(times)
    theta = gmst82_rad(times.jd_ut1_whole, times.jd_ut1_fraction)
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if n_sat * n_t >= PARALLEL_MIN_WORK else 1
    workers = max(1, min(workers, n_sat))
    if workers == 1 or mp.get_start_method(allow_none=True) not in (None, "fork"):
        out = np.empty((n_t, n_sat, 3))
        ok = np.empty((n_t, n_sat), dtype=np.uint8)
        _propagate_slice(constellation.satrecs, times, cos_t, sin_t, out, ok, 0)
    else:
        out = _shared_array((n_t, n_sat, 3), np.float64)
        ok = _shared_array((n_t, n_sat), np.uint8)
        bounds = np.linspace(0, n_sat, workers + 1).astype(int)
        ctx = mp.get_context("fork")
        procs = []
        for lo, hi in zip(bounds[1:-1], bounds[2:], strict=True):
            p = ctx.Process(
                target=_propagate_slice, args=(constellation.satrecs[lo:hi], times, cos_t, sin_t, out, ok, lo)
            )
            p.start()
            procs.append(p)
        _propagate_slice(constellation.satrecs[: bounds[1]], times, cos_t, sin_t, out, ok, 0)
        for p in procs:
            p.join()
            if p.exitcode != 0:
                raise RuntimeError(f"propagation worker exited with code {p.exitcode}")
    return Ephemeris(times=times, r_ecef_m=out, ok=ok.astype(bool), names=constellation.names)
