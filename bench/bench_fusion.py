"""Fusion throughput: observations fused per second for N simultaneous launches on one core.

Usage: ``python bench/bench_fusion.py [N_LAUNCHES] [SEED] [--repeat R] [--no-freeze] [--late-frac F --late-s L]
[--closing-starts A,B,…]`` (default 100, 1, 5). Launch sites are spread on a
grid over a 40°×60° region so that every launch is seen by the same 2 GEO + 2 HEO fixed sensors; the
truth and observation generator are the test helpers (tests/fusion/fusion_truth.py); every sensor has one
frame clock (all launches in its frames) and 0.01 false alarms per frame.

A warm-up salvo of the same size on another seed runs first, so that every compiled kernel the timed run uses
is loaded from the numba cache before the clock starts (as in a running service); a smaller warm-up can miss
kernels that only crowded frames need. After the warm-up the process's start-up objects (numba, llvmlite, scipy: ~1.5·10⁵ tracked objects) are moved out
of the garbage collector's view (:func:`gc.freeze`, as a long-running service does after start-up): a full
collection otherwise walks them once per ~0.8 s run (~7 % of it). ``--no-freeze`` measures without it.

The salvo is then fused ``R`` times, each by a new engine (no state carried over), and the median is the figure
(each run printed too): single runs on this shared machine scatter by several per cent.

``--late-frac F --late-s L`` (out-of-sequence detections, :mod:`vigil.fusion.oosm.buffer`): each repeat also delivers
the salvo as a node receives it, in 1 s ticks of arrival time through :meth:`FusionEngine.ingest`, a random
``F`` of the detections (each row independently, a fixed draw) arriving ``L`` s late, the others on time; the
in-order run and the late run alternate (interleaved pairs), and the figures are the medians of each, per
wall second and per CPU second (the box is shared), with their ratio, and how far the late run's launch
points lie from the in-order run's.

``--closing-starts both,warm`` (values of :data:`vigil.fusion.engine.CLOSING_STARTS`): the in-order salvo is fused
``R`` times with each value in turn, interleaved in this process (what the closing launch fit's second start
costs, free of the load drift between two processes), and each value's median per CPU second is printed with
its ratio to the first's and its events, warnings and launch-point offset from the first's.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fusion"))

from fusion_truth import boost_truth, observe, sensors  # noqa: E402

from vigil.frames import WGS84_A_M  # noqa: E402
from vigil.fusion import FusionEngine  # noqa: E402
from vigil.fusion import engine as fusion_engine  # noqa: E402
from vigil.fusion.oosm.buffer import arrival_ticks  # noqa: E402
from vigil.records import ObservationBatch  # noqa: E402


def scenario(n: int, seed: int) -> ObservationBatch:
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    truths = []
    for k in range(n):
        lat = 25.0 + 40.0 * (k // side) / max(side - 1, 1)
        lon = 35.0 + 60.0 * (k % side) / max(side - 1, 1)
        truths.append(
            boost_truth(
                lat_deg=lat, lon_deg=lon, az_deg=float(rng.uniform(0, 360)), t0=100.0 + rng.uniform(0, 30)
            )
        )
    return observe(truths, sensors(45.0, 63.3), rng, clutter_per_frame=0.01)  # one frame clock per sensor


def _option(args: list[str], name: str, default: float) -> float:
    if name not in args:
        return default
    k = args.index(name)
    value = float(args[k + 1])
    del args[k : k + 2]
    return value


def timed(batch: ObservationBatch, arrival: np.ndarray | None) -> tuple[FusionEngine, int, float, float]:
    """Fuse ``batch`` by a new engine (one batch, or ticks of ``arrival``); (engine, warnings, wall s, CPU s)."""
    engine = FusionEngine()
    start, cpu = time.perf_counter(), time.process_time()
    if arrival is None:
        issued = sum(len(ws) for _, ws in engine.run(batch))
    else:
        issued, now = 0, 0.0
        for now, rows in arrival_ticks(batch, arrival):
            issued += len(engine.ingest(rows, now))
        issued += len(engine.finish(now))
    return engine, issued, time.perf_counter() - start, time.process_time() - cpu


def _points(engine: FusionEngine) -> np.ndarray:
    return np.array(
        [(e.launch.lat_rad, e.launch.lon_rad) for e in engine.events if e.launch is not None and not e.mono]
    ).reshape(-1, 2)


def offsets_km(a: FusionEngine, b: FusionEngine) -> np.ndarray:
    """Distance (km) of each stereo launch point of ``a`` to the nearest of ``b``."""
    pa, pb = _points(a), _points(b)
    if not len(pa) or not len(pb):
        return np.zeros(0)
    dlat = pa[:, None, 0] - pb[None, :, 0]
    dlon = (pa[:, None, 1] - pb[None, :, 1]) * np.cos(pa[:, None, 0])
    return WGS84_A_M * np.hypot(dlat, dlon).min(axis=1) / 1000.0


def closing_starts(batch: ObservationBatch, values: list[str], repeat: int) -> None:
    """The in-order salvo under each :data:`~vigil.fusion.engine.CLOSING_STARTS` value, interleaved (module docstring)."""
    cpu: dict[str, list[float]] = {v: [] for v in values}
    runs: dict[str, tuple[FusionEngine, int]] = {}
    saved = fusion_engine.CLOSING_STARTS
    try:
        for _ in range(max(repeat, 1)):
            for value in values:
                fusion_engine.CLOSING_STARTS = value
                engine, issued, _, seconds = timed(batch, None)
                cpu[value].append(seconds)
                runs[value] = (engine, issued)
    finally:
        fusion_engine.CLOSING_STARTS = saved
    first = statistics.median(cpu[values[0]])
    for value in values:
        engine, issued = runs[value]
        off = offsets_km(engine, runs[values[0]][0])
        m = statistics.median(cpu[value])
        print(
            f"closing starts {value}: events={len(engine.events)} warnings={issued} cpu_seconds median={m:.3f} "
            f"(runs {' '.join(f'{x:.3f}' for x in cpu[value])}) obs_per_cpu_s={len(batch) / m:.0f} "
            f"cpu / {values[0]}'s={m / first:.3f} launch_offset_km_max={off.max() if len(off) else 0.0:.4f}"
        )


def main() -> None:
    args = sys.argv[1:]
    repeat = 5
    if "--repeat" in args:
        k = args.index("--repeat")
        repeat = int(args[k + 1])
        del args[k : k + 2]
    late_frac = _option(args, "--late-frac", 0.0)
    late_s = _option(args, "--late-s", 30.0)
    starts = None
    if "--closing-starts" in args:
        k = args.index("--closing-starts")
        starts = args[k + 1].split(",")
        del args[k : k + 2]
        bad = [v for v in starts if v not in ("both", "cold", "warm")]
        if bad:
            print(
                f"--closing-starts: expected values among both, cold, warm, got {bad[0]!r}", file=sys.stderr
            )
            sys.exit(2)
    args = [a for a in args if a != "--no-freeze"]
    n = int(args[0]) if args else 100
    seed = int(args[1]) if len(args) > 1 else 1
    batch = scenario(n, seed)
    arrival = None
    if late_frac > 0:
        rng = np.random.default_rng([seed, 11])
        arrival = batch.time_s + np.where(rng.random(len(batch)) < late_frac, late_s, 0.0)
    list(
        FusionEngine().run(scenario(n, seed + 1))
    )  # load every compiled kernel the run uses (numba cache) first:
    # a salvo of the same size on another seed (a 9-launch warm-up left the linker's component solve, which only
    # crowded frames need, to load inside the timed run: ~15 ms)
    if arrival is not None:
        timed(batch, arrival)  # (and the kernels only re-processing uses)
    if "--no-freeze" not in sys.argv:
        gc.freeze()
    if starts is not None:
        closing_starts(batch, starts, repeat)
        return
    rates, cpu_rates, late_rates, late_cpu_rates = [], [], [], []
    for _ in range(max(repeat, 1)):
        engine, issued, elapsed, cpu = timed(batch, None)
        rates.append(len(batch) / elapsed)
        cpu_rates.append(len(batch) / cpu)
        print(
            f"launches={n} observations={len(batch)} events={len(engine.events)} warnings={issued} "
            f"seconds={elapsed:.3f} cpu_seconds={cpu:.3f} obs_per_s={len(batch) / elapsed:.0f} "
            f"obs_per_cpu_s={len(batch) / cpu:.0f}"
        )
        if arrival is None:
            continue
        late, issued, elapsed, cpu = timed(batch, arrival)
        late_rates.append(len(batch) / elapsed)
        late_cpu_rates.append(len(batch) / cpu)
        off = offsets_km(late, engine)
        c = late.counts
        print(
            f"  late {late_frac:.0%} by {late_s:g} s: events={len(late.events)} warnings={issued} "
            f"seconds={elapsed:.3f} cpu_seconds={cpu:.3f} obs_per_s={len(batch) / elapsed:.0f} "
            f"obs_per_cpu_s={len(batch) / cpu:.0f} late_rows={c.late} too_late={c.too_late} replays={c.replays} "
            f"replayed_chunks={c.replayed_chunks} launch_offset_km_max={off.max() if len(off) else 0.0:.4f}"
        )
    print(
        f"median of {len(rates)} runs: obs_per_s={statistics.median(rates):.0f} "
        f"(min {min(rates):.0f}, max {max(rates):.0f}) obs_per_cpu_s={statistics.median(cpu_rates):.0f}"
    )
    if late_rates:
        print(
            f"late median of {len(late_rates)} runs: obs_per_s={statistics.median(late_rates):.0f} "
            f"(min {min(late_rates):.0f}, max {max(late_rates):.0f}) "
            f"obs_per_cpu_s={statistics.median(late_cpu_rates):.0f}; late / in-order: "
            f"{statistics.median(late_rates) / statistics.median(rates):.2f} per wall s, "
            f"{statistics.median(late_cpu_rates) / statistics.median(cpu_rates):.2f} per CPU s"
        )


if __name__ == "__main__":
    main()
