"""Running a campaign's tasks on Dask distributed: a LocalCluster by default, or an existing cluster.

:func:`run_campaign` expands the campaign, skips every task already stored as ``ok`` in ``DIR/tasks/``,
submits the rest in batches, and stores each record *on the client* the moment its batch completes (so
workers need no access to ``DIR``). A batch holds whole :func:`seed_groups` (a sharing campaign's tasks of
one seed, so the worker fuses the seed's alone views once); batches are one group each until tasks have
been timed, then sized to about :data:`TARGET_BATCH_S` of work (so short tasks pay the engine's few
milliseconds per Dask task once per batch, and tasks of half a second or more still go one group at a
time); only :data:`IN_FLIGHT_PER_WORKER` batches per worker are submitted at a time, so the scheduler holds
a few futures, not the whole campaign. Dask's scheduler re-runs a task whose worker died on another worker
(up to its ``distributed.scheduler.allowed-failures``; a batch reruns whole, and records are stored by key,
once); a task that still cannot finish, or whose function raised, is stored as ``failed`` with a one-line
error and the campaign goes on. The default cluster has one worker process per core with one thread each:
the chain is single-threaded Python and numba, and processes keep the GIL out of the way.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ServiceError
from .batch import run_batch
from .spec import Campaign
from .store import TaskStore
from .tasks import Task, expand
from .work import failed_record, one_line, run_task

TaskFn = Callable[[Task], dict]
TARGET_BATCH_S = 0.25  # a batch of short tasks is sized to about this long, so the engine's cost per
MAX_BATCH = 64  # batch (~5 ms on the loaded 2-core box) stays a few per cent of it
IN_FLIGHT_PER_WORKER = (
    8  # batches submitted per worker thread (2: 9.7 ms per unbatched no-op, 8: 5.0, 32: 4.1)
)
SPREAD_PER_WORKER = 2  # the last batches shrink so that each worker thread still gets this many
WORKERS_CHECK_S = 5.0
Progress = Callable[[int, int, int], None]  # (done, failed, total)
CONNECT_TIMEOUT_S = 10.0
RESULT_TIMEOUT_S = 120.0  # fetching one finished batch's records (kilobytes) over the cluster's comms
# The local cluster's background work, measured idle on the 2-core box (bench/bench_campaign.py, docs/benchmarks.md):
# each worker's statistical profiler samples its task thread every 10 ms (2.5 % of a core per worker, idle
# or not), the event loops' tick monitor runs every 20 ms and the system monitor every 0.5 s (3.4 % of a
# core in the client's process, which hosts the scheduler). None of them is used by a campaign; off or slow,
# idle cost falls to 0.6 % per worker and 1.2 % for client + scheduler.
# Dask's nannies also start workers with MALLOC_TRIM_THRESHOLD_=65536: glibc then hands freed memory back to
# the system at once and faults it in again, and the fusion's array churn pays for it (measured on a sharing
# task: +3.7 % user and 3.8x the system CPU, about +1 s per 4 tasks); local workers keep glibc's default and
# Dask's one thread per numerical library.
WORKER_ENVIRON = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}
QUIET_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.tick.limit": "30s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.nanny.pre-spawn-environ": WORKER_ENVIRON,
}


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
    import dask
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
    with (
        dask.config.set(QUIET_CONFIG),
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@dataclass
class _Sizer:
    """Batch sizes: one task until tasks have been timed, then as many as fill :data:`TARGET_BATCH_S` (at
    most :data:`MAX_BATCH`), never more than leaves :data:`SPREAD_PER_WORKER` batches per worker for what
    remains (so the last batches spread over the workers)."""

    per_task_s: list[float]
    max_batch: int = MAX_BATCH

    def size(self, remaining: int, workers: int) -> int:
        if not self.per_task_s:
            return 1
        recent = sorted(self.per_task_s[-8:])
        per_task = recent[len(recent) // 2]
        fill = self.max_batch if per_task <= 0.0 else int(TARGET_BATCH_S / per_task)
        spread = remaining // (SPREAD_PER_WORKER * max(workers, 1))
        return max(1, min(fill, self.max_batch, spread))


def seed_groups(tasks: list[Task]) -> deque[list[Task]]:
    """The tasks in groups that go to one worker together: a sharing task's group is every variant of its
    seed (in campaign order), so the worker fuses the seed's alone views once for all of them
    (:func:`vigil.campaign.work.run_task`); any other task is a group of its own. Groups keep the order of
    their first task."""
    groups: dict[object, list[Task]] = {}
    for i, task in enumerate(tasks):
        groups.setdefault(("seed", task.seed) if task.sharing else i, []).append(task)
    return deque(groups.values())


def _threads(client) -> int:
    return max(1, sum(client.nthreads().values()))


def _fetch(future) -> tuple[dict | None, str]:
    """A finished batch's result, or ``None`` and the one-line reason it has none. The result is fetched
    here rather than by ``as_completed(with_results=True)``: a fetch that fails inside Dask's event loop
    there never reaches the loop below (measured: a comm error in that fetch left a campaign waiting
    forever), here it is the batch's error."""
    if future.status != "finished":
        try:
            exc = future.exception(timeout=RESULT_TIMEOUT_S)
        except Exception as err:  # noqa: BLE001 -- cancelled, or the exception itself not fetched
            exc = err
        return None, one_line(exc) if exc is not None else f"batch {future.status}"
    try:
        return future.result(timeout=RESULT_TIMEOUT_S), ""
    except Exception as err:  # noqa: BLE001 -- any failure to fetch is recorded against the batch's tasks
        return None, f"result not fetched: {one_line(err)}"


def _batch_records(future, batch: list[Task], sizer: _Sizer, tally: dict) -> list[dict]:
    """A completed batch's records (each task failed when the batch did), its worker times added to
    ``tally`` and its seconds per task to ``sizer``; the future is released."""
    result, error = _fetch(future)
    if result is not None:
        records = result["records"]
        sizer.per_task_s.append(result["wall_s"] / len(batch))
        tally["worker_wall_s"] += result["wall_s"]
        tally["worker_cpu_s"] += result["cpu_s"]
    else:  # the batch outlived its allowed worker failures, could not be run, or its result not fetched
        records = [failed_record(task, error) for task in batch]
    future.release()
    return records


def run_tasks(
    client,
    tasks: list[Task],
    store: TaskStore,
    task_fn: TaskFn = run_task,
    on_record: Callable[[dict], None] | None = None,
    stats: dict | None = None,
    max_batch: int = MAX_BATCH,
) -> int:
    """Run ``tasks`` on ``client`` in batches of whole :func:`seed_groups` (:mod:`vigil.campaign.batch`), keeping
    :data:`IN_FLIGHT_PER_WORKER` batches per worker thread submitted; store each record as its batch
    completes; the number that failed. ``max_batch`` 1 sends every task as a Dask task of its own. ``stats`` (a dict) receives the batches' count, sizes, and summed
    worker wall and CPU seconds."""
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]  # keys of their own: a shared cluster may hold another run's tasks
    queue, sizer, left = seed_groups(tasks), _Sizer([], max_batch), len(tasks)
    running: dict[str, list[Task]] = {}
    done = (
        as_completed()
    )  # results fetched below, on this thread: a failed fetch is a failed batch, never a hang
    threads, checked = _threads(client), time.monotonic()
    tally = {"batches": 0, "sizes": [], "worker_wall_s": 0.0, "worker_cpu_s": 0.0}

    def submit() -> None:
        nonlocal left
        size, batch = sizer.size(left, threads), []
        while queue and (not batch or len(batch) + len(queue[0]) <= size):  # whole groups, at least one
            batch += queue.popleft()
        left -= len(batch)
        future = client.submit(
            run_batch, task_fn, batch, key=f"vigil-{token}-{batch[0].key}-n{len(batch)}", pure=False
        )
        running[future.key] = batch
        done.add(future)
        tally["sizes"].append(len(batch))

    while queue and len(running) < IN_FLIGHT_PER_WORKER * threads:
        submit()
    failed = 0
    for future in done:
        batch = running.pop(future.key)
        records = _batch_records(future, batch, sizer, tally)
        for record in records:
            store.write(record)
            failed += record["status"] != "ok"
            if on_record is not None:
                on_record(record)
        tally["batches"] += 1
        if time.monotonic() - checked > WORKERS_CHECK_S:  # workers may join or leave a shared cluster
            threads, checked = _threads(client), time.monotonic()
        while queue and len(running) < IN_FLIGHT_PER_WORKER * threads:
            submit()
    if stats is not None:
        stats.update(tally)
    return failed


def run_campaign(
    campaign: Campaign,
    out: Path,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    task_fn: TaskFn = run_task,
) -> CampaignRun:
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
            n_workers = len(client.nthreads())
            failed = run_tasks(client, pending, store, task_fn, on_record)
    else:
        failed = 0
    return CampaignRun(
        len(tasks), len(done_keys), len(pending), failed, n_workers, time.perf_counter() - start
    )
