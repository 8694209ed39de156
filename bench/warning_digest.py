"""Bit-identity check of the fusion chain: the number of warnings of a salvo and a SHA-256 of all of them.

Usage: ``PYTHONPATH=src .venv/bin/python bench/warning_digest.py [N_LAUNCHES] [--late FRACTION DELAY_S]``
(default 100 launches, in order). The salvo is :func:`bench_fusion.scenario` (seed 1); with ``--late`` a random
``FRACTION`` of its rows (seed 0) arrive ``DELAY_S`` late and the salvo is fed through
:meth:`~vigil.fusion.FusionEngine.ingest` in 1 s arrival ticks (the out-of-sequence paths). Each warning's
``to_dict()`` without ``issued_at`` (a wall-clock instant) is hashed in issue order. A refactoring that claims
"results unchanged" prints the same line before and after (docs/benchmarks.md, issue 15).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fusion"))

import bench_fusion  # noqa: E402
from vigil.fusion import FusionEngine  # noqa: E402
from vigil.fusion.oosm.buffer import arrival_ticks  # noqa: E402


def warnings_of(n: int, late: tuple[float, float] | None) -> list:
    batch = bench_fusion.scenario(n, 1)
    engine = FusionEngine()
    if late is None:
        return [w for _, group in engine.run(batch) for w in group]
    fraction, delay_s = late
    rng = np.random.default_rng(0)
    arrival = batch.time_s + np.where(rng.random(len(batch)) < fraction, delay_s, 0.0)
    out, now = [], 0.0
    for now, rows in arrival_ticks(batch, arrival):
        out += engine.ingest(rows, now)
    return out + engine.finish(now)


def digest(warnings: list) -> str:
    h = hashlib.sha256()
    for w in warnings:
        d = w.to_dict()
        d.pop("issued_at", None)
        h.update(json.dumps(d, sort_keys=True, default=str).encode())
    return h.hexdigest()


def main() -> None:
    args = sys.argv[1:]
    late = None
    if "--late" in args:
        k = args.index("--late")
        late = (float(args[k + 1]), float(args[k + 2]))
        del args[k : k + 3]
    n = int(args[0]) if args else 100
    warnings = warnings_of(n, late)
    print(len(warnings), digest(warnings))


if __name__ == "__main__":
    main()
