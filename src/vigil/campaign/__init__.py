"""Monte Carlo campaigns: a scenario × seeds × variants on Dask distributed, resumable, with reports.

Public names: :func:`load_campaign`, :func:`expand`, :func:`run_campaign`, :func:`write_outputs`,
:func:`run_task`; the CLI command (``vigil campaign``) lives in :mod:`vigil.campaign.commands`.
See docs/campaigns.md.
"""

from .outputs import CampaignOutputs, write_outputs
from .runner import CampaignRun, open_client, run_campaign
from .spec import Campaign, Variant, load_campaign, parse_campaign
from .store import TaskStore
from .tasks import Task, expand, task_key
from .work import run_task

__all__ = [
    "Campaign",
    "CampaignOutputs",
    "CampaignRun",
    "Task",
    "TaskStore",
    "Variant",
    "expand",
    "load_campaign",
    "open_client",
    "parse_campaign",
    "run_campaign",
    "run_task",
    "task_key",
    "write_outputs",
]
