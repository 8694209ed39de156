"""A real cluster on loopback: ``dask scheduler`` + two ``dask worker`` processes; one worker is killed
mid-campaign and the campaign still stores every task once, identical to a serial run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vigil.campaign import expand, load_campaign, run_campaign

DATA = Path(__file__).parent / "data"
DASK = str(Path(sys.executable).with_name("dask"))


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout_s} s")
        time.sleep(0.05)


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [DASK, *args], start_new_session=True, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _workers(scheduler_file: Path) -> int:
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file), timeout=10) as client:
        return len(client.scheduler_info()["workers"])


@pytest.fixture
def cluster(tmp_path):
    """(address, [worker A, worker B]) of a scheduler and two one-thread workers on 127.0.0.1."""
    sched_file = tmp_path / "scheduler.json"
    procs = [
        _start(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched_file),
            ],
            tmp_path / "scheduler.log",
        )
    ]
    try:
        _wait_for(lambda: sched_file.exists() and sched_file.stat().st_size > 0, 60, "scheduler file")
        for name in ("a", "b"):
            procs.append(
                _start(
                    [
                        "worker",
                        "--scheduler-file",
                        str(sched_file),
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-dashboard",
                        "--name",
                        name,
                        "--host",
                        "127.0.0.1",
                    ],
                    tmp_path / f"worker-{name}.log",
                )
            )
        _wait_for(lambda: _workers(sched_file) == 2, 60, "two workers")
        yield json.loads(sched_file.read_text())["address"], procs[1:]
    finally:
        for p in reversed(procs):
            _stop(p)


@pytest.mark.slow
def test_killing_a_worker_mid_campaign_loses_and_duplicates_nothing(cluster, tmp_path, results, serial_of):
    address, (worker_a, _) = cluster
    campaign = load_campaign(DATA / "tiny-sharing.yaml")  # 2 variants × 20 seeds = 40 tasks
    stored: list[str] = []
    killed_at: list[int] = []

    def progress(done: int, failed: int, total: int) -> None:
        stored.append(done)
        if done >= 4 and not killed_at:
            os.killpg(worker_a.pid, signal.SIGKILL)  # the worker process and its nanny, while tasks run
            killed_at.append(done)

    run = run_campaign(campaign, tmp_path / "c", scheduler=address, progress=progress)
    assert worker_a.wait() != 0 and killed_at and killed_at[0] < 40
    assert (run.tasks, run.ran, run.failed, run.workers) == (40, 40, 0, 2)
    files = sorted(p.name for p in (tmp_path / "c" / "tasks").iterdir())
    keys = [t.key for t in expand(campaign)]
    assert files == sorted(f"{k}.json" for k in keys)  # all 40, each once
    assert results(campaign, tmp_path / "c")["records"] == serial_of(campaign)
