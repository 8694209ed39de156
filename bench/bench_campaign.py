"""Campaign engine costs: Dask overhead per task (one Dask task per task vs batched), and 1 vs 2 workers.

Usage: ``.venv/bin/python bench/bench_campaign.py [--noop 1000] [--seeds 16] [--repeats 3]
[--scenario bench/reference/reference.yaml]``.

1. Overhead: ``--noop`` tasks whose function returns at once, through the campaign's own loop
   (:func:`vigil.campaign.runner.run_tasks`) on a LocalCluster of one worker process: every task its own Dask
   task (``max_batch=1``, what a task of half a second or more pays) and batched as campaigns run them,
   each without and with the per-task atomic record write. Wall per task, and the CPU per task of this
   process (client and scheduler: the cost that does not spread over workers).
2. Throughput: ``--seeds`` seeds of the scenario on a 1-worker and a 2-worker cluster, alternately
   ``--repeats`` times, each cluster fresh and warmed first (trajectories flown, kernels loaded: a fixed cost
   per worker, reported apart). Wall tasks/s and its ratio (what this box gave, load included); the
   workers' CPU per task and this process's CPU per task, and from them the speed-up two otherwise idle
   cores give: 1 worker takes N·c1 (client on the other core), 2 workers N·(c2 + o)/2, ratio 2·c1/(c2 + o).
   Records are compared bit for bit across worker counts and repeats.

3. ``--split CAMPAIGN.yaml [--split-seeds 4]``: where one sharing task's CPU goes, stage by stage, for the
   first seeds of the campaign (every variant of each, in one process, interleaved): simulation, scoring,
   and the partners' network run twice, as a task ran it before seeds were grouped (every partner fused
   alone, audit logs, stores on disk) and as it runs now (alone fused by the seed's first variant only, no
   audit, stores in memory). Rows of the two runs are compared. Only this mode runs when given.

Medians over repeats. Load average printed at the start and the end: other jobs on the box slow the wall
figures, not the CPU-based ones.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from vigil.campaign import TaskStore, expand, open_client, parse_campaign, run_task
from vigil.campaign.runner import run_tasks


class _NullStore(TaskStore):
    def write(self, record: dict) -> Path:
        return self.folder


def noop(task) -> dict:
    return {
        "key": task.key,
        "variant": task.variant,
        "seed": task.seed,
        "status": "ok",
        "error": None,
        "score": None,
        "sharing": None,
        "wall_s": 0.0,
    }


def _campaign(scenario: str, seeds: int, folder: Path):
    return parse_campaign(
        {"name": "bench", "scenario": str(Path(scenario).resolve()), "seeds": seeds}, folder / "campaign.yaml"
    )


def _timed(client, tasks, store, fn, **kw) -> dict:
    """One run: wall, this process's CPU, and the worker processes' CPU (tasks and their Dask threads)."""
    stats: dict = {}
    w0 = client.run(time.process_time)
    t0, c0 = time.perf_counter(), time.process_time()
    failed = run_tasks(client, tasks, store, fn, stats=stats, **kw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    w1 = client.run(time.process_time)
    return {
        "wall_s": wall,
        "client_cpu_s": cpu,
        "failed": failed,
        **stats,
        "worker_process_cpu_s": sum(w1[k] - w0[k] for k in w1),
    }


def overhead(scenario: str, n: int, repeats: int) -> dict:
    tasks = expand(_campaign(scenario, n, Path(tempfile.mkdtemp())))
    out: dict = {}
    with open_client(workers=1) as client:
        run_tasks(client, tasks[:50], _NullStore(Path("/nonexistent")), noop)  # warm-up
        for _ in range(repeats):
            for batching, max_batch in (("unbatched", 1), ("batched", None)):
                for label, store in (
                    ("dask", _NullStore(Path("/nonexistent"))),
                    ("dask+store", TaskStore(Path(tempfile.mkdtemp()) / "tasks")),
                ):
                    kw = {} if max_batch is None else {"max_batch": max_batch}
                    r = _timed(client, tasks, store, noop, **kw)
                    out.setdefault((batching, label), []).append(r)
    return {
        k: {
            "wall_ms": 1e3 * statistics.median(r["wall_s"] for r in v) / n,
            "client_cpu_ms": 1e3 * statistics.median(r["client_cpu_s"] for r in v) / n,
            "batches": v[-1]["batches"],
        }
        for k, v in out.items()
    }


def _warm(task) -> float:
    t0 = time.perf_counter()
    run_task(task)
    return time.perf_counter() - t0


def _records(store: TaskStore, tasks) -> str:
    recs = [
        {k: v for k, v in r.items() if k != "wall_s"}
        | {"score": {k: v for k, v in r["score"].items() if k != "processing"}}
        for r in store.records([t.key for t in tasks])
    ]
    return json.dumps(recs, sort_keys=True)


def throughput(scenario: str, seeds: int, repeats: int) -> dict:
    """Each repeat: a fresh 1-worker cluster, then a fresh 2-worker one (one cluster open at a time: two
    clients open in one process once left a fetch hanging inside Dask's comms), each warmed before timing."""
    tasks = expand(_campaign(scenario, seeds, Path(tempfile.mkdtemp())))
    runs: dict[int, list[dict]] = {1: [], 2: []}
    setup: dict[int, dict] = {}
    for _ in range(repeats):
        for w in (1, 2):
            t0 = time.perf_counter()
            with open_client(workers=w) as client:
                started = time.perf_counter() - t0
                warm = client.run(_warm, tasks[0])  # on every worker: flights, kernels, first seed
                setup[w] = {"cluster_start_s": started, "warm_s": max(warm.values())}
                store = TaskStore(Path(tempfile.mkdtemp()) / "tasks")
                r = _timed(client, tasks, store, run_task)
                r["records"] = _records(store, tasks)
                runs[w].append(r)
    out = {}
    for w, rs in runs.items():
        out[w] = setup[w] | {
            "tasks": len(tasks),
            "failed": sum(r["failed"] for r in rs),
            "tasks_per_s": statistics.median(len(tasks) / r["wall_s"] for r in rs),
            "all_tasks_per_s": [len(tasks) / r["wall_s"] for r in rs],
            "task_cpu_per_task_s": statistics.median(r["worker_cpu_s"] / len(tasks) for r in rs),
            "worker_cpu_per_task_s": statistics.median(r["worker_process_cpu_s"] / len(tasks) for r in rs),
            "client_cpu_per_task_s": statistics.median(r["client_cpu_s"] / len(tasks) for r in rs),
            "parallelism": statistics.median(r["worker_process_cpu_s"] / r["wall_s"] for r in rs),
            "records": {r["records"] for r in rs},
        }
    return out


def _cpu(fn, *args, **kw):
    c0 = time.process_time()
    out = fn(*args, **kw)
    return out, time.process_time() - c0


def _views(net, truths) -> list[str]:
    from vigil.sharing.network import launch_view

    return [
        json.dumps(launch_view(w, truths, net.epoch), sort_keys=True, default=str)
        for p in net.partners.values()
        for w in (p.alone, p.shared)
    ]


def split(path: str, seeds: int) -> None:
    import numpy as np

    from vigil.campaign import load_campaign, work
    from vigil.scoring import score_result
    from vigil.sharing.network import MEMORY_DB, run_network
    from vigil.sim import simulate

    campaign = load_campaign(path)
    tasks = [t for t in expand(campaign) if t.seed in campaign.seeds[:seeds]]
    run_task(tasks[0])  # flights, kernels
    stages: dict[str, list[float]] = {}
    fused: set[int] = set()
    for task in sorted(tasks, key=lambda t: t.seed):  # a seed's variants together, as its batch runs them
        scenario, trajectories = work.prepared(task)
        result, sim_s = _cpu(simulate, scenario, np.random.default_rng(task.seed), trajectories=trajectories)
        score_s = _cpu(score_result, scenario, result)[1]
        agreements = work._agreements(task)
        before, before_s = _cpu(run_network, scenario, simulation=result, agreements=agreements)
        first = task.seed not in fused
        now, now_s = _cpu(
            run_network,
            scenario,
            simulation=result,
            agreements=agreements,
            audit=False,
            db=MEMORY_DB,
            alone=first,
        )
        fused.add(task.seed)
        old_views, new_views = _views(before, list(result.truth)), _views(now, list(result.truth))
        assert old_views[1::2] == new_views[1::2], f"{task.key}: shared views differ"
        assert not first or old_views == new_views, f"{task.key}: alone views differ"
        for name, v in (
            ("simulate", sim_s),
            ("score", score_s),
            ("network before", before_s),
            ("network now, seed's first variant" if first else "network now, later variants", now_s),
            ("task before", sim_s + score_s + before_s),
            ("task now", sim_s + score_s + now_s),
        ):
            stages.setdefault(name, []).append(v)
    print(
        f"{len(tasks)} tasks ({seeds} seeds x {len(campaign.variants)} variants) of {path}; CPU s per task, "
        "median [min, max], mean:"
    )
    for name, v in stages.items():
        print(
            f"  {name:36s} {statistics.median(v):6.3f} [{min(v):.3f}, {max(v):.3f}] mean {statistics.mean(v):.3f}"
        )
    ratio = sum(stages["task now"]) / sum(stages["task before"])
    print(f"  now / before (sums): {ratio:.2f}; alone and shared views identical where both were fused")


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(Path(__file__).parent / "reference" / "reference.yaml"))
    ap.add_argument("--noop", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--split", metavar="CAMPAIGN", help="time one sharing campaign's tasks stage by stage")
    ap.add_argument("--split-seeds", type=int, default=4)
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, {_load()} at the start")
    if args.split:
        split(args.split, args.split_seeds)
        print(_load(), "at the end")
        return
    ov = overhead(args.scenario, args.noop, args.repeats)
    print(f"engine overhead per task ({args.noop} no-op tasks, 1 worker, median of {args.repeats}):")
    for (batching, label), r in ov.items():
        print(
            f"  {batching:9s} {label:10s}: {r['wall_ms']:6.2f} ms wall, {r['client_cpu_ms']:6.3f} ms client+scheduler "
            f"CPU ({r['batches']} Dask tasks)"
        )
    tp = throughput(args.scenario, args.seeds, args.repeats)
    one, two = tp[1], tp[2]
    for w, r in tp.items():
        print(
            f"{w} worker(s): {r['tasks']} tasks, median {r['tasks_per_s']:.3f} tasks/s "
            f"(runs {', '.join(f'{x:.3f}' for x in r['all_tasks_per_s'])}); worker CPU {r['worker_cpu_per_task_s']:.3f} s"
            f"/task, client+scheduler CPU {1e3 * r['client_cpu_per_task_s']:.2f} ms/task, parallelism "
            f"{r['parallelism']:.2f}; cluster start {r['cluster_start_s']:.1f} s, warm-up per worker "
            f"{r['warm_s']:.1f} s, {r['failed']} failed"
        )
    wall_ratio = two["tasks_per_s"] / one["tasks_per_s"]
    c1, c2, o = one["worker_cpu_per_task_s"], two["worker_cpu_per_task_s"], two["client_cpu_per_task_s"]
    identical = len(one["records"] | two["records"]) == 1
    print(
        f"speed-up 2 vs 1 workers: wall {wall_ratio:.2f}x (this box, {_load()}); CPU-based 2*c1/(c2+o) = "
        f"{2 * c1 / (c2 + o):.2f}x (c1 {c1:.3f} s, c2 {c2:.3f} s, o {1e3 * o:.2f} ms); "
        f"records identical across worker counts and repeats: {identical}"
    )


if __name__ == "__main__":
    main()
