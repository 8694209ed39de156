"""The simulator: scenario files, observation generation (true + noise + misses + clutter), truth, files.

Public names: :func:`load_scenario`, :func:`simulate`, :class:`SimulationResult`, :func:`read_observations`,
:func:`write_observations`; the CLI command lives in :mod:`vigil.sim.commands`.
"""

from .engine import CLUTTER, SimulationResult, simulate
from .io import read_associations, read_observations, write_observations
from .scenario import Scenario, load_scenario

__all__ = [
    "CLUTTER",
    "Scenario",
    "SimulationResult",
    "load_scenario",
    "read_associations",
    "read_observations",
    "simulate",
    "write_observations",
]
