"""Scoring a run against truth: which event is which launch, latencies, errors, bounds (docs/benchmarks.md).

Public names: :func:`score`, :func:`assign_events`, :class:`Gate`, :func:`simulation_bounds`,
:func:`score_scenario`, :func:`timed_fusion`, :data:`LAUNCH_KEYS`.
"""

from .assign import GATE_DISTANCE_KM, GATE_TIME_S, Assignment, Gate, assign_events
from .bounds import launch_bound, simulation_bounds
from .metrics import IMPACT_AFTER_BURNOUT_S, LAUNCH_KEYS, final_versions, score
from .pipeline import ScoredRun, score_result, score_scenario, timed_fusion

__all__ = [
    "GATE_DISTANCE_KM",
    "GATE_TIME_S",
    "IMPACT_AFTER_BURNOUT_S",
    "LAUNCH_KEYS",
    "Assignment",
    "Gate",
    "ScoredRun",
    "assign_events",
    "final_versions",
    "launch_bound",
    "score",
    "score_result",
    "score_scenario",
    "simulation_bounds",
    "timed_fusion",
]
