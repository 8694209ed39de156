"""The Dask runner: results bit-identical to a serial run whatever the worker count, resumable after a
partial run or a kill, and a raising task recorded in one line while the campaign goes on."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

from vigil.campaign import expand, load_campaign, run_campaign, run_task, write_outputs
from vigil.campaign.summary import campaign_summary

DATA = Path(__file__).parent / "data"


def _run(campaign, out: Path, workers: int, results):
    run = run_campaign(campaign, out, workers=workers)
    write_outputs(campaign, out, report=False)
    return run, results(campaign, out)


def test_one_and_two_workers_match_a_serial_run_bit_for_bit(campaign, serial, results, tmp_path):
    run1, one = _run(campaign, tmp_path / "w1", 1, results)
    run2, two = _run(campaign, tmp_path / "w2", 2, results)
    assert (run1.workers, run2.workers, run1.ran, run2.ran) == (1, 2, 8, 8)
    assert one["records"] == serial and two["records"] == serial
    assert one["tables"] == two["tables"]
    assert len(one["tables"]["launches.parquet"]) == 8 * 2  # tasks × launches
    s1 = (tmp_path / "w1" / "summary.json").read_text()
    s2 = (tmp_path / "w2" / "summary.json").read_text()
    strip = [line for line in s1.splitlines() if "wall_s" not in line]
    assert strip == [line for line in s2.splitlines() if "wall_s" not in line]


def test_rerun_after_a_partial_run_runs_only_the_missing_tasks(campaign, serial, results, tmp_path):
    out = tmp_path / "c"
    run_campaign(campaign, out, workers=2)
    tasks = out / "tasks"
    removed = sorted(tasks.iterdir())[1::3]
    for p in removed:
        p.unlink()
    (tasks / f".{removed[0].stem}.999.tmp").write_text('{"key": "cut', encoding="utf-8")
    rerun, after = _run(campaign, out, 2, results)
    assert (rerun.skipped, rerun.ran, rerun.failed) == (8 - len(removed), len(removed), 0)
    assert after["records"] == serial
    again = run_campaign(campaign, out, workers=2)
    assert (again.ran, again.workers) == (0, 0)  # nothing left: no cluster is even started


def _fails_on_seed_2(task):
    if task.seed == 2:
        raise RuntimeError("injected failure\nwith a second line")
    return run_task(task)


cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module


def test_a_raising_task_is_recorded_in_one_line_and_the_rest_complete(campaign, serial, results, tmp_path):
    out = tmp_path / "c"
    run = run_campaign(campaign, out, workers=2, task_fn=_fails_on_seed_2)
    assert (run.ran, run.failed) == (8, 2)
    got = results(campaign, out)["records"]
    failed = {k: r for k, r in got.items() if r["status"] == "failed"}
    assert sorted(failed) == ["base__s0000002", "noisy__s0000002"]
    assert {r["error"] for r in failed.values()} == {"RuntimeError: injected failure with a second line"}
    assert {k: r for k, r in got.items() if k not in failed} == {
        k: r for k, r in serial.items() if k not in failed
    }
    rerun = run_campaign(campaign, out, workers=1)  # failed tasks are run again
    assert (rerun.skipped, rerun.ran, rerun.failed) == (6, 2, 0)
    assert results(campaign, out)["records"] == serial


def _refuse_to_load():
    raise RuntimeError("this record cannot be loaded on the client")


class _LoadsNowhere:
    """Pickles on the worker; unpickling it (on the client, when the batch's result is fetched) raises."""

    def __reduce__(self):
        return _refuse_to_load, ()


def _unfetchable_on_seed_1(task):
    record = run_task(task)
    return record | {"payload": _LoadsNowhere()} if task.seed == 1 else record


def test_a_result_that_cannot_be_fetched_fails_its_tasks_and_the_campaign_ends(
    campaign, serial, results, tmp_path
):
    out = tmp_path / "c"
    run = run_campaign(campaign, out, workers=2, task_fn=_unfetchable_on_seed_1)
    got = results(campaign, out)["records"]
    failed = {k: r for k, r in got.items() if r["status"] == "failed"}
    assert (run.ran, run.failed) == (8, 2) and sorted(failed) == ["base__s0000001", "noisy__s0000001"]
    assert all(
        r["error"].startswith("result not fetched: ")
        and "cannot be loaded" in r["error"]
        and "\n" not in r["error"]
        for r in failed.values()
    )
    assert {k: r for k, r in got.items() if k not in failed} == {
        k: r for k, r in serial.items() if k not in failed
    }


def test_summary_lists_failures_and_counts_missing_tasks(campaign, serial):
    records = [
        dict(
            r,
            wall_s=0.1,
            score=dict(
                r["score"],
                processing={
                    "fusion_wall_s": 1.0,
                    "simulated_s": 300.0,
                    "max_step_wall_s": 0.1,
                    "observations": 1,
                },
            ),
        )
        for r in serial.values()
    ]
    records[0] = {**records[0], "status": "failed", "error": "RuntimeError: x", "score": None}
    s = campaign_summary("tiny", ["base", "noisy"], records[:-1], [], [], n_tasks=8)
    assert (s["ok"], s["missing"], s["failed"]) == (
        6,
        1,
        [{"key": "base__s0000000", "error": "RuntimeError: x"}],
    )
    assert s["variants"]["base"]["seeds"] == 3 and s["variants"]["noisy"]["seeds"] == 3


def _wait_for(predicate, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


@pytest.mark.slow
def test_killed_command_resumes_to_identical_results(results, tmp_path):
    campaign = load_campaign(DATA / "tiny-sharing.yaml")
    out = tmp_path / "c"
    cmd = [
        sys.executable,
        "-m",
        "vigil.cli",
        "campaign",
        str(DATA / "tiny-sharing.yaml"),
        "--out",
        str(out),
        "--workers",
        "2",
        "--no-report",
    ]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: (out / "tasks").is_dir() and len(list((out / "tasks").glob("*.json"))) >= 3, 120)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the command, its cluster and its workers, mid-campaign
        proc.wait()
    stored = len(list((out / "tasks").glob("*.json")))
    assert 3 <= stored < 40
    resumed = run_campaign(campaign, out, workers=2)
    assert (resumed.skipped, resumed.ran, resumed.failed) == (stored, 40 - stored, 0)
    write_outputs(campaign, out, report=False)
    clean = tmp_path / "clean"
    run_campaign(campaign, clean, workers=2)
    write_outputs(campaign, clean, report=False)
    assert results(campaign, out) == results(campaign, clean)
    shutil.rmtree(clean)


def test_a_late_release_refit_with_fewer_seeds_than_the_ascent_degree_completes():
    """Seed 6 of the tiny campaign's delayed-release variant: a late row placed into a closed event redoes its
    closing launch fit from fewer triangulated seeds than the ascent polynomial's degree; the seed scan (a
    square solve per lag) raised LinAlgError there and failed the task. Now the cold start is skipped and the
    fit starts warm, as the estimator itself requires."""
    campaign = load_campaign(DATA / "tiny-sharing.yaml")
    [task] = [t for t in expand(campaign) if t.variant == "slow-release" and t.seed == 6]
    record = run_task(task)
    assert (record["status"], record["error"]) == ("ok", None)
    assert {row["partner"] for row in record["sharing"]} == {"north", "east"}


def _environ() -> dict:
    return {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")}


def test_local_workers_keep_glibcs_trim_threshold_and_one_thread_per_numerical_library():
    from vigil.campaign import open_client

    with open_client(workers=1) as client:
        [environ] = client.run(_environ).values()
    assert environ == {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1"}
