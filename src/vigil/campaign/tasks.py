"""A campaign's tasks: one per (variant, seed), in variant-then-seed order, each with a stable key.

A task carries everything a worker needs besides the installed package and the scenario's files (read at
the same absolute paths): the variant's scenario document, its agreement documents and the seed. Its
random draws come from ``numpy.random.default_rng(seed)`` alone, so its result does not depend on which
worker runs it, when, or next to what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .generator import LaunchGenerator
from .spec import Campaign


@dataclass(frozen=True)
class Task:
    """One (variant, seed) run. ``key`` names its result file: ``<variant>__s<seed>``."""

    variant: str
    seed: int
    scenario_path: str
    scenario_doc: dict[str, Any]
    agreement_docs: tuple[dict[str, Any], ...] | None
    sharing: bool
    late: tuple[float, float, float] | None = None  # the variant's LateSpec (fraction, min_s, max_s)
    generator: LaunchGenerator | None = None  # draws the seed's launches (vigil.campaign.generator)

    @property
    def key(self) -> str:
        return task_key(self.variant, self.seed)


def task_key(variant: str, seed: int) -> str:
    """File-name-safe key of a (variant, seed) task (variant names are identifiers)."""
    return f"{variant}__s{seed:07d}"


def expand(campaign: Campaign) -> list[Task]:
    """Every task of ``campaign``: variants in file order, seeds in campaign order within each."""
    return [
        Task(
            v.name,
            seed,
            str(campaign.scenario_path),
            v.scenario_doc,
            v.agreement_docs,
            campaign.sharing,
            v.late,
            campaign.generator,
        )
        for v in campaign.variants
        for seed in campaign.seeds
    ]
