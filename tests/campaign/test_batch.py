"""Batches: short tasks go many to a Dask task, every record is stored once whatever the batch sizes, a task
that raises inside a batch fails alone, and the first-compile lock lets one process compile while the
others wait (only while the kernel cache is missing)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import cloudpickle

from vigil.campaign import TaskStore, expand, open_client, parse_campaign
from vigil.campaign.runner import _Sizer, run_tasks

DATA = Path(__file__).parent / "data"


def _quick(task) -> dict:
    if task.seed % 50 == 7:
        raise ValueError(f"bad seed {task.seed}")
    return {
        "key": task.key,
        "variant": task.variant,
        "seed": task.seed,
        "status": "ok",
        "error": None,
        "score": {"square": task.seed * task.seed},
        "sharing": None,
        "wall_s": 0.0,
    }


cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module


def test_sizer_fills_the_target_and_spreads_the_tail():
    s = _Sizer([])
    assert s.size(1000, 2) == 1  # nothing timed yet
    s.per_task_s += [0.5, 0.6, 0.55]
    assert s.size(1000, 2) == 1  # half-second tasks go one by one
    s.per_task_s += [0.01] * 8
    assert s.size(1000, 2) == 25  # 0.25 s of 10 ms tasks
    s.per_task_s += [0.0] * 8
    assert s.size(1000, 2) == 64 and s.size(40, 2) == 10 and s.size(3, 2) == 1
    assert _Sizer([0.0], max_batch=1).size(1000, 1) == 1


def test_batched_run_stores_every_record_once_and_a_raising_task_fails_alone(tmp_path):
    campaign = parse_campaign(
        {"scenario": str(DATA / "tiny.yaml"), "seeds": 300, "variants": [{"name": "a"}, {"name": "b"}]},
        tmp_path / "c.yaml",
    )
    tasks = expand(campaign)
    store, stats, seen = TaskStore(tmp_path / "tasks"), {}, []
    with open_client(workers=2) as client:
        failed = run_tasks(client, tasks, store, _quick, on_record=seen.append, stats=stats)
    assert failed == 12 and len(seen) == 600 and len({r["key"] for r in seen}) == 600
    assert max(stats["sizes"]) > 1 and stats["batches"] < 600 and sum(stats["sizes"]) == 600
    records = list(store.records([t.key for t in tasks]))
    assert [r["key"] for r in records] == [t.key for t in tasks]
    bad = [r for r in records if r["status"] == "failed"]
    assert {r["seed"] % 50 for r in bad} == {7} and bad[0]["error"] == "ValueError: bad seed 7"
    assert all(r["score"]["square"] == r["seed"] ** 2 for r in records if r["status"] == "ok")


_LOCKED = """
import sys, time
from pathlib import Path
import vigil.campaign.batch as b
folder = Path(sys.argv[1])
b.kernels_folder = lambda: folder
with b.first_compile_lock():  # the first task: "compiles" when the cache is missing, then runs 2 s
    start = time.time()
    if not b.kernels_cached():
        (folder / "k.nbi").write_text("")
    time.sleep(2.0)
    end = time.time()
print(start, end)
"""


def _two_first_tasks(folder: Path) -> list[tuple[float, float]]:
    code = textwrap.dedent(_LOCKED)
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    out = [p.communicate(timeout=60)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    return sorted((float(a), float(b)) for a, b in out)


def test_first_compile_lock_serialises_only_while_the_cache_is_missing(tmp_path):
    first, second = _two_first_tasks(tmp_path)
    assert second[0] >= first[1]  # the second process waited for the first one's first task
    first, second = _two_first_tasks(tmp_path)  # the cache is there now: both run at once
    assert second[0] < first[1]
