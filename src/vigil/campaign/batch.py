"""A batch of tasks run by one worker in one Dask task, so the engine's per-task cost is paid once per batch.

:func:`run_batch` runs its tasks one after the other with the campaign's task function and returns their
records with the batch's wall and CPU seconds (the runner sizes later batches from them, the bench reports
them). A task whose function raises is a ``failed`` record with its one-line error; the others run on.
Pickled together, the tasks of a batch carry their variant's scenario document once (pickle shares the
object the tasks of one variant hold).

The first task of each worker process runs under a machine-wide file lock while numba's on-disk kernel
cache is missing: one process compiles the fusion kernels (about a minute) and writes the cache, the other
workers of the machine wait, then load the kernels from it instead of compiling them too. With the cache
present the lock is taken and released at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .tasks import Task
from .work import failed_record, one_line

_state = {"warm": False}  # this process has run a task: its kernels are loaded


def kernels_folder() -> Path:
    """Where ``cache=True`` writes the fusion kernels' index files (``*.nbi``)."""
    from .. import fusion

    return Path(fusion.__file__).parent / "__pycache__"


def kernels_cached() -> bool:
    return any(kernels_folder().glob("*.nbi"))


@contextmanager
def first_compile_lock() -> Iterator[None]:
    """Hold a per-machine lock around this process's first task while the kernel cache is missing."""
    if _state["warm"]:
        yield
        return
    digest = hashlib.sha256(str(kernels_folder()).encode()).hexdigest()[:12]
    lock = Path(tempfile.gettempdir()) / f"vigil-kernels-{digest}.lock"
    with lock.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # waits while another process compiles
        if kernels_cached():
            fcntl.flock(f, fcntl.LOCK_UN)
        try:
            yield
        finally:
            _state["warm"] = True


def run_batch(task_fn: Callable[[Task], dict], tasks: list[Task]) -> dict:
    """``{"records": [...], "wall_s": s, "cpu_s": s}`` of ``tasks`` run in order by ``task_fn``."""
    wall, cpu = time.perf_counter(), time.process_time()
    records = []
    for task in tasks:
        with first_compile_lock():
            try:
                records.append(task_fn(task))
            except Exception as err:  # a task function other than run_task may raise; the batch goes on
                records.append(failed_record(task, one_line(err)))
    return {"records": records, "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
