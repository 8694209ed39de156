"""Cost of the warnings' tracks in fusion: the same salvo fused with ``FusionConfig(tracks=False)`` (``vigil
fuse``, ``bench_fusion.py``) and ``tracks=True`` (``vigil run``, ``vigil serve`` live, ``vigil node --serve``)
in one process, alternating (ABBA pairs), thread CPU per run; medians and their ratio.

Usage: ``python bench/bench_fusion_tracks.py [N_LAUNCHES] [PAIRS]`` (default 100, 9); the salvo is
``bench_fusion.py``'s (same seed 1), after a warm-up salvo on seed 2 and :func:`gc.freeze`.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_fusion import scenario  # noqa: E402
from vigil.fusion import FusionConfig, FusionEngine  # noqa: E402


def main(n: int, pairs: int) -> None:
    batch = scenario(n, 1)
    list(FusionEngine(FusionConfig(tracks=True)).run(scenario(n, 2)))  # every compiled kernel loaded first
    gc.freeze()
    cpu: dict[bool, list[float]] = {False: [], True: []}
    issued = 0
    for i in range(pairs):
        for tracks in (False, True) if i % 2 == 0 else (True, False):
            start = time.thread_time()
            issued = sum(len(ws) for _, ws in FusionEngine(FusionConfig(tracks=tracks)).run(batch))
            cpu[tracks].append(time.thread_time() - start)
    off, on = statistics.median(cpu[False]), statistics.median(cpu[True])
    print(
        f"launches={n} observations={len(batch)} warnings={issued} pairs={pairs}: thread CPU median "
        f"tracks off {off * 1e3:.1f} ms ({len(batch) / off:.0f} obs/CPU s), on {on * 1e3:.1f} ms "
        f"({len(batch) / on:.0f} obs/CPU s); on/off {on / off:.3f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100, int(sys.argv[2]) if len(sys.argv) > 2 else 9)
