"""Running a campaign's tasks on Dask distributed: a LocalCluster by default, or an existing cluster.

:func:`run_campaign` expands the campaign, skips every task already stored as ``ok`` in ``DIR/tasks/``,
submits the rest, and stores each record *on the client* the moment its future completes (so workers need
no access to ``DIR``). Dask's scheduler re-runs a task whose worker died on another worker (up to its
``distributed.scheduler.allowed-failures``); a task that still cannot finish, or whose function raised, is
stored as ``failed`` with a one-line error and the campaign goes on. The default cluster has one worker
process per core with one thread each: the chain is single-threaded Python and numba, and processes keep
the GIL out of the way.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ServiceError
from .spec import Campaign
from .store import TaskStore
from .tasks import Task, expand
from .work import failed_record, one_line, run_task

TaskFn = Callable[[Task], dict]
Progress = Callable[[int, int, int], None]  # (done, failed, total)
CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class CampaignRun:
    """What one invocation did: tasks in the campaign, already stored (skipped), run now, failed now."""

    tasks: int
    skipped: int
    ran: int
    failed: int
    workers: int
    wall_s: float


@contextmanager
def open_client(scheduler: str | None = None, workers: int | None = None) -> Iterator:
    """A ``distributed.Client`` on ``scheduler`` (``tcp://host:port``), else on a fresh LocalCluster of
    ``workers`` processes (default: one per core), closed on exit."""
    from distributed import Client, LocalCluster

    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: must be at least 1 (got {workers})")
    if scheduler is not None and workers is not None:
        raise ConfigError("--workers: not used with --scheduler (the cluster's workers run the tasks)")
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as err:
            raise ServiceError(f"--scheduler {scheduler}: cannot connect ({one_line(err)})") from None
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def run_tasks(client, tasks: list[Task], store: TaskStore, task_fn: TaskFn = run_task,
              on_record: Callable[[dict], None] | None = None) -> int:
    """Submit ``tasks`` to ``client``; store each record as it completes; the number that failed."""
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]  # keys of their own: a shared cluster may hold another run's tasks
    futures = client.map(task_fn, tasks, key=[f"vigil-{token}-{t.key}" for t in tasks], pure=False)
    by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
    failed = 0
    done = as_completed(futures, with_results=True, raise_errors=False)  # results come in batches
    for future, result in done:
        task = by_key[future.key]
        if future.status == "finished":
            record = result
        else:  # raised in the task, or the task outlived its allowed worker failures
            record = failed_record(task, one_line(result if isinstance(result, BaseException) else future.exception()))
        store.write(record)
        failed += record["status"] != "ok"
        future.release()
        if on_record is not None:
            on_record(record)
    return failed


def run_campaign(campaign: Campaign, out: Path, scheduler: str | None = None, workers: int | None = None,
                 progress: Progress | None = None, task_fn: TaskFn = run_task) -> CampaignRun:
    """Run every task of ``campaign`` not yet stored under ``out/tasks``; see the module docstring."""
    start = time.perf_counter()
    store = TaskStore(Path(out) / "tasks")
    tasks = expand(campaign)
    done_keys = store.done([t.key for t in tasks])
    pending = [t for t in tasks if t.key not in done_keys]
    counts = {"done": len(done_keys), "failed": 0}

    def on_record(record: dict) -> None:
        counts["done"] += 1
        counts["failed"] += record["status"] != "ok"
        if progress is not None:
            progress(counts["done"], counts["failed"], len(tasks))

    if progress is not None:
        progress(counts["done"], 0, len(tasks))
    n_workers = 0
    if pending:
        with open_client(scheduler, workers) as client:
            n_workers = len(client.scheduler_info().get("workers", {}))
            failed = run_tasks(client, pending, store, task_fn, on_record)
    else:
        failed = 0
    return CampaignRun(len(tasks), len(done_keys), len(pending), failed, n_workers, time.perf_counter() - start)
