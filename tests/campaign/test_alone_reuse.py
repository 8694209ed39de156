"""A seed's variants share its partners' alone views: the first network run of a simulation in a worker
process fuses them, later variants of the seed run the network without fusing alone. The rows must equal
those of a full network run per task (alone fused, audit logs, stores on disk), as before the reuse."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vigil.campaign import expand, load_campaign, run_task, work
from vigil.campaign.runner import seed_groups
from vigil.sharing import network
from vigil.sim import simulate

DATA = Path(__file__).parent / "data"


def _full_network_rows(task) -> list[dict]:
    """The task's sharing rows from an unabridged network run (its defaults: alone fused, audited, on disk)."""
    scenario, trajectories = work.prepared(task)
    result = simulate(scenario, np.random.default_rng(task.seed), trajectories=trajectories)
    net = network.run_network(scenario, simulation=result, agreements=work._agreements(task))
    rows = []
    for pid, part in net.partners.items():
        for view, warnings in (("alone", part.alone), ("shared", part.shared)):
            for lid, r in network.launch_view(warnings, list(result.truth), net.epoch).items():
                rows.append(
                    {"partner": pid, "view": view, "id": lid, **{k: r[k] for k in work.SHARING_ROW_KEYS[3:]}}
                )
    return rows


def test_later_variants_of_a_seed_reuse_its_alone_views_and_match_a_full_network_run(monkeypatch):
    tasks = [t for t in expand(load_campaign(DATA / "tiny-sharing.yaml")) if t.seed == 6]
    assert [t.variant for t in tasks] == ["as-signed", "slow-release"]
    calls = []
    real = network.run_network
    monkeypatch.setattr(network, "run_network", lambda *a, **kw: calls.append(kw["alone"]) or real(*a, **kw))
    work._ALONE.clear()
    records = [run_task(t) for t in tasks]
    assert calls == [True, False]  # the second variant did not fuse alone
    monkeypatch.setattr(network, "run_network", real)
    for task, record in zip(tasks, records, strict=True):
        assert record["status"] == "ok"
        assert record["sharing"] == _full_network_rows(task)
    alone = [[r for r in rec["sharing"] if r["view"] == "alone"] for rec in records]
    assert alone[0] == alone[1] and len(alone[0]) == 2 * 2  # partners × launches


def test_a_changed_simulation_is_not_served_a_cached_alone_view():
    tasks = expand(load_campaign(DATA / "tiny-sharing.yaml"))
    keys = set()
    for task in (tasks[0], tasks[1], tasks[20]):  # seeds 0, 1 of one variant, seed 0 of the other
        scenario, trajectories = work.prepared(task)
        result = simulate(scenario, np.random.default_rng(task.seed), trajectories=trajectories)
        keys.add((task.seed, work.alone_key(scenario, result)))
    assert len({k for _, k in keys}) == 2 and len(keys) == 2  # one key per seed, shared across variants


def test_sharing_tasks_are_grouped_by_seed_other_tasks_alone():
    tasks = expand(load_campaign(DATA / "tiny-sharing.yaml"))
    groups = seed_groups(tasks)
    assert len(groups) == 20 and all([t.seed for t in g] == [g[0].seed] * 2 for g in groups)
    assert [t.variant for t in groups[0]] == ["as-signed", "slow-release"]
    plain = [t for t in expand(load_campaign(DATA / "tiny-campaign.yaml"))]
    assert [len(g) for g in seed_groups(plain)] == [1] * len(plain)
