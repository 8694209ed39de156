"""Fixtures of the campaign tests: the tiny campaign, its serial truth (no Dask), and ``results(campaign,
out)``: a campaign folder's stored records (without timing) by key and its tables' rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.campaign import TaskStore, expand, load_campaign, run_task
from vigil.campaign.results import read_table

DATA = Path(__file__).parent / "data"
TIMING = ("processing", "wall_s")


def without_timing(record: dict) -> dict:
    out = {k: v for k, v in record.items() if k not in TIMING}
    if out.get("score"):
        out["score"] = {k: v for k, v in out["score"].items() if k not in TIMING}
    return out


def folder_results(campaign, out: Path) -> dict:
    keys = [t.key for t in expand(campaign)]
    records = {r["key"]: without_timing(r) for r in TaskStore(out / "tasks").records(keys)}
    tables = {
        name: read_table(out / name)
        for name in ("launches.parquet", "sharing.parquet")
        if (out / name).exists()
    }
    return {"records": records, "tables": tables}


@pytest.fixture(name="results")
def _results():
    return folder_results


@pytest.fixture(scope="module")
def campaign():
    return load_campaign(DATA / "tiny-campaign.yaml")


@pytest.fixture(scope="module")
def serial(campaign):
    """The records computed in this process, one task after the other."""
    return {t.key: without_timing(run_task(t)) for t in expand(campaign)}


def serial_records(campaign) -> dict:
    return {t.key: without_timing(run_task(t)) for t in expand(campaign)}


@pytest.fixture(name="serial_of")
def _serial_of():
    """``serial_of(campaign)``: its records computed in this process, one task after the other."""
    return serial_records
