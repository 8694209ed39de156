"""A campaign's output folder, rebuilt from its stored task records:

``DIR/tasks/<key>.json`` (one per finished task, :mod:`vigil.campaign.store`), ``DIR/launches.parquet`` and
``DIR/sharing.parquet`` (:mod:`vigil.campaign.results`), ``DIR/summary.json``
(:mod:`vigil.campaign.summary`) and ``DIR/report.html`` (:mod:`vigil.campaign.report`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .results import GENERATED_SCHEMA, LAUNCH_SCHEMA, SHARING_SCHEMA, launch_rows, sharing_rows, write_table
from .spec import Campaign
from .store import TaskStore
from .summary import campaign_summary
from .tasks import expand


@dataclass(frozen=True)
class CampaignOutputs:
    """Paths of what :func:`write_outputs` wrote, and the summary it wrote."""

    launches: Path
    sharing: Path | None
    summary_path: Path
    report: Path | None
    summary: dict


def write_outputs(campaign: Campaign, out: Path, report: bool = True) -> CampaignOutputs:
    """Tables, summary.json and (``report``) report.html of every stored task of ``campaign`` in ``out``."""
    out = Path(out)
    tasks = expand(campaign)
    records = list(TaskStore(out / "tasks").records([t.key for t in tasks]))
    launches, shared = launch_rows(records), sharing_rows(records)
    schema = GENERATED_SCHEMA if campaign.generator is not None else LAUNCH_SCHEMA
    launches_path = write_table(launches, schema, out / "launches.parquet")
    sharing_path = write_table(shared, SHARING_SCHEMA, out / "sharing.parquet") if campaign.sharing else None
    summary = campaign_summary(
        campaign.name, [v.name for v in campaign.variants], records, launches, shared, len(tasks)
    )
    summary_path = out / "summary.json"
    tmp = summary_path.with_name(".summary.json.tmp")
    tmp.write_text(json.dumps(summary, indent=1, sort_keys=False), encoding="utf-8")
    tmp.replace(summary_path)
    report_path = None
    if report:
        from .report import write_report

        report_path = write_report(summary, launches, shared, out / "report.html")
    return CampaignOutputs(launches_path, sharing_path, summary_path, report_path, summary)
