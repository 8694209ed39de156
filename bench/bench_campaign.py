"""Campaign engine costs: Dask scheduler overhead per task, and 1 vs 2 worker throughput.

Usage: ``.venv/bin/python bench/bench_campaign.py [--noop 2000] [--seeds 16]
[--scenario bench/reference/reference.yaml]``.

1. Overhead: ``--noop`` tasks whose function returns at once, through the campaign's own submit / as_completed
   loop on a LocalCluster of one worker process, with and without the per-task store write (temporary file,
   fsync, rename); wall / tasks is the cost the engine adds to every task.
2. Throughput: ``--seeds`` seeds of the scenario on 1 and then 2 worker processes (one thread each), each
   worker warmed first (trajectories flown, compiled kernels loaded: a fixed cost per worker, reported
   apart); tasks / s in steady state, and whether the stored records are identical between the two.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from vigil.campaign import TaskStore, expand, open_client, parse_campaign, run_task
from vigil.campaign.runner import run_tasks


class _NullStore(TaskStore):
    def write(self, record: dict) -> Path:
        return self.folder


def noop(task) -> dict:
    return {"key": task.key, "variant": task.variant, "seed": task.seed, "status": "ok", "error": None,
            "score": None, "sharing": None, "wall_s": 0.0}


def _campaign(scenario: str, seeds: int, folder: Path):
    return parse_campaign({"name": "bench", "scenario": str(Path(scenario).resolve()), "seeds": seeds},
                          folder / "campaign.yaml")


def overhead(scenario: str, n: int) -> dict:
    tasks = expand(_campaign(scenario, n, Path(tempfile.mkdtemp())))
    out = {}
    with open_client(workers=1) as client:
        run_tasks(client, tasks[:50], _NullStore(Path("/nonexistent")), noop)  # warm-up
        for label, store in (("dask", _NullStore(Path("/nonexistent"))),
                             ("dask+store", TaskStore(Path(tempfile.mkdtemp()) / "tasks"))):
            t0 = time.perf_counter()
            run_tasks(client, tasks, store, noop)
            out[label] = (time.perf_counter() - t0) / n
    return out


def _warm(task) -> float:
    t0 = time.perf_counter()
    run_task(task)
    return time.perf_counter() - t0


def throughput(scenario: str, seeds: int, workers: int) -> dict:
    folder = Path(tempfile.mkdtemp())
    tasks = expand(_campaign(scenario, seeds, folder))
    t0 = time.perf_counter()
    with open_client(workers=workers) as client:
        started = time.perf_counter() - t0
        warm = client.run(_warm, tasks[0])  # on every worker: flights, kernels, first seed
        store = TaskStore(folder / "tasks")
        t1 = time.perf_counter()
        failed = run_tasks(client, tasks, store, run_task)
        wall = time.perf_counter() - t1
    records = [{k: v for k, v in r.items() if k != "wall_s"} | {"score": {k: v for k, v in r["score"].items()
                                                                          if k != "processing"}}
               for r in store.records([t.key for t in tasks])]
    return {"workers": workers, "tasks": len(tasks), "failed": failed, "cluster_start_s": started,
            "warm_s": max(warm.values()), "wall_s": wall, "tasks_per_s": len(tasks) / wall,
            "records": json.dumps(records, sort_keys=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(Path(__file__).parent / "reference" / "reference.yaml"))
    ap.add_argument("--noop", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=16)
    args = ap.parse_args()
    per_task = overhead(args.scenario, args.noop)
    print(f"scheduler overhead per task ({args.noop} no-op tasks, 1 worker): "
          f"{per_task['dask'] * 1e3:.2f} ms (Dask submit → result), "
          f"{per_task['dask+store'] * 1e3:.2f} ms with the atomic store write")
    one, two = (throughput(args.scenario, args.seeds, w) for w in (1, 2))
    for r in (one, two):
        print(f"{r['workers']} worker(s): {r['tasks']} tasks in {r['wall_s']:.1f} s = {r['tasks_per_s']:.2f} tasks/s "
              f"(cluster start {r['cluster_start_s']:.1f} s, warm-up per worker {r['warm_s']:.1f} s, "
              f"{r['failed']} failed)")
    print(f"speed-up 2 vs 1 workers: {two['tasks_per_s'] / one['tasks_per_s']:.2f}x; "
          f"records identical: {one['records'] == two['records']}")


if __name__ == "__main__":
    main()
