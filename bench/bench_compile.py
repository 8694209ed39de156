"""First-run cost: numba compile time per kernel of one cold ``vigil demo``.

Usage: ``NUMBA_CACHE_DIR=$(mktemp -d) .venv/bin/python bench/bench_compile.py [--out DIR] [--top 30]``
(an empty ``NUMBA_CACHE_DIR`` makes every kernel compile, as on a fresh clone; without it the run reuses
the install's cache and compiles nothing). Prints the demo's wall time, the number of kernels compiled,
and the kernels with the longest compile (numba's ``numba:compile`` events; a kernel's time includes the
callees it compiles, so the column does not add up to the total).
"""

from __future__ import annotations

import argparse
import collections
import os
import tempfile
import time

from numba.core import event


class _CompileTimes(event.Listener):
    def __init__(self) -> None:
        self.started: dict[tuple[int, str], float] = {}
        self.seconds: collections.Counter[str] = collections.Counter()
        self.count: collections.Counter[str] = collections.Counter()

    def on_start(self, e) -> None:
        self.started[id(e.data["dispatcher"]), str(e.data["args"])] = time.perf_counter()

    def on_end(self, e) -> None:
        t0 = self.started.pop((id(e.data["dispatcher"]), str(e.data["args"])), None)
        if t0 is not None:
            fn = e.data["dispatcher"].py_func
            name = f"{fn.__module__}.{fn.__qualname__}"
            self.seconds[name] += time.perf_counter() - t0
            self.count[name] += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="demo output folder (default: a temporary one)")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    listener = _CompileTimes()
    event.register("numba:compile", listener)
    from vigil.cli import main as vigil

    out = args.out or tempfile.mkdtemp(prefix="vigil-compile-")
    t0, c0 = time.perf_counter(), time.process_time()
    code = vigil(["demo", "--out", out, "--force"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    own = {k: v for k, v in listener.seconds.items() if k.startswith("vigil.")}
    print(f"vigil demo: exit {code}, {wall:.1f} s wall, {cpu:.1f} s CPU; NUMBA_CACHE_DIR="
          f"{os.environ.get('NUMBA_CACHE_DIR', '(unset: the install cache)')}; load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"compiled: {len(own)} Vigil kernels, {len(listener.seconds) - len(own)} numba library implementations")
    for name, s in listener.seconds.most_common(args.top):
        print(f"{s:7.2f} s  x{listener.count[name]:<3d} {name}")


if __name__ == "__main__":
    main()
