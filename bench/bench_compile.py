"""First-run cost: numba compile time per kernel of one cold ``vigil demo``.

Usage: ``NUMBA_CACHE_DIR=$(mktemp -d) .venv/bin/python bench/bench_compile.py [--out DIR] [--top 30] [--record]``
(an empty ``NUMBA_CACHE_DIR`` makes every kernel compile, as on a fresh clone; without it the run reuses
the install's cache and compiles nothing). Prints the demo's wall and CPU time, the number of kernels
compiled, and the kernels with the longest compile: ``self`` (its own typing, lowering and LLVM, without the
callees it compiles first) and ``incl`` (with them; the ``incl`` column does not add up to the total).
``--record`` writes the entry points the run compiled (a kernel called from Python, with its signatures) to
:data:`vigil.warmup.MANIFEST`, the list ``vigil warmup`` compiles at install.
"""

from __future__ import annotations

import argparse
import collections
import os
import tempfile
import time

from numba.core import event


class _CompileTimes(event.Listener):
    """``numba:compile`` events: per kernel its inclusive and self CPU seconds (and of those, in LLVM), and the
    top-level signatures (CPU time: the box is shared)."""

    def __init__(self) -> None:
        self.stack: list[list] = []  # [name, start, seconds of the callees compiled inside]
        self.incl: collections.Counter[str] = collections.Counter()
        self.self_s: collections.Counter[str] = collections.Counter()
        self.llvm: collections.Counter[str] = collections.Counter()
        self.count: collections.Counter[str] = collections.Counter()
        self.entries: list[tuple[object, tuple, float]] = []  # (dispatcher, arg types, inclusive s), in order
        self.llvm_lock = _LLVMTimes(self)

    def on_start(self, e) -> None:
        fn = e.data["dispatcher"].py_func
        self.stack.append([f"{fn.__module__}.{fn.__qualname__}", time.process_time(), 0.0])

    def on_end(self, e) -> None:
        name, t0, inner = self.stack.pop()
        s = time.process_time() - t0
        self.incl[name] += s
        self.self_s[name] += s - inner
        self.count[name] += 1
        if self.stack:
            self.stack[-1][2] += s
        elif name.startswith("vigil."):
            self.entries.append((e.data["dispatcher"], tuple(e.data["args"]), s))


class _LLVMTimes(event.Listener):
    """``numba:llvm_lock`` spans (LLVM optimisation and code generation), credited to the kernel compiling."""

    def __init__(self, compiles: _CompileTimes) -> None:
        self.compiles, self.depth, self.t0 = compiles, 0, 0.0

    def on_start(self, e) -> None:
        self.depth += 1
        if self.depth == 1:
            self.t0 = time.process_time()

    def on_end(self, e) -> None:
        self.depth -= 1
        if self.depth == 0 and self.compiles.stack:
            self.compiles.llvm[self.compiles.stack[-1][0]] += time.process_time() - self.t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="demo output folder (default: a temporary one)")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--record", action="store_true", help="write the warm-up manifest from this run")
    args = ap.parse_args()
    listener = _CompileTimes()
    event.register("numba:compile", listener)
    event.register("numba:llvm_lock", listener.llvm_lock)
    from vigil.cli import main as vigil

    out = args.out or tempfile.mkdtemp(prefix="vigil-compile-")
    t0, c0 = time.perf_counter(), time.process_time()
    code = vigil(["demo", "--out", out, "--force"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    own = {k for k in listener.incl if k.startswith("vigil.")}
    total = sum(listener.self_s.values())
    print(
        f"vigil demo: exit {code}, {wall:.1f} s wall, {cpu:.1f} s CPU; NUMBA_CACHE_DIR="
        f"{os.environ.get('NUMBA_CACHE_DIR', '(unset: the install cache)')}; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print(
        f"compiled: {len(own)} Vigil kernels ({sum(listener.count[k] for k in own)} signatures, "
        f"{len(listener.entries)} called from Python), {len(listener.incl) - len(own)} numba library "
        f"implementations; {total:.1f} s CPU compiling, {sum(listener.llvm.values()):.1f} s of it in LLVM; "
        f"{sum(listener.self_s[k] for k in own):.1f} s in Vigil kernels' own code"
    )
    print("   self (llvm)    incl  sigs kernel (CPU s)")
    for name, s in listener.self_s.most_common(args.top):
        print(
            f"{s:7.2f} {listener.llvm[name]:6.2f} {listener.incl[name]:7.2f}  x{listener.count[name]:<3d} {name}"
        )
    if args.record:
        from vigil import warmup

        path = warmup.write_manifest(listener.entries)
        print(f"manifest: {len(listener.entries)} entry signatures written to {path}")


if __name__ == "__main__":
    main()
