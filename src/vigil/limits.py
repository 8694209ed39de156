"""Memory budget of one run: refuse, in one line and before allocating, work that cannot fit.

A scenario with ``frame_s: 1e-6`` or ``false_alarms_per_frame: 1e6``, or a 0.01° coverage grid, asks for
terabytes; numpy would raise MemoryError (or the OOM killer would end the process) minutes later. The
edges estimate the bytes a run needs from its inputs (each estimator documents its per-item sizes) and
call :func:`check_memory`, which raises a :class:`~vigil.errors.ConfigError` naming the input, the
estimate and the limit.
"""

from __future__ import annotations

import os

from .errors import ConfigError

MEMORY_FRACTION = 0.5  # a run may plan for half the machine's physical memory
FALLBACK_MEMORY_BYTES = 4 * 1024**3  # when the machine's memory cannot be read
MEMORY_ENV = "VIGIL_MEMORY_LIMIT_BYTES"  # an explicit budget (tests, shared machines) overrides the fraction


def memory_limit_bytes() -> int:
    """The budget: ``$VIGIL_MEMORY_LIMIT_BYTES`` if set, else half the physical memory."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        try:
            return max(1, int(float(env)))
        except ValueError:
            raise ConfigError(f"{MEMORY_ENV}: {env!r} is not a number of bytes") from None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 2 * FALLBACK_MEMORY_BYTES
    return int(total * MEMORY_FRACTION)


def _gib(n: float) -> str:
    return f"{n / 1024**3:.3g} GiB"


def check_memory(estimate_bytes: float, where: str, detail: str, advice: str) -> None:
    """ConfigError ``where: needs about X GiB (detail), more than the Y GiB limit; advice`` when over."""
    limit = memory_limit_bytes()
    if not estimate_bytes <= limit:  # also catches inf / NaN estimates
        raise ConfigError(
            f"{where}: needs about {_gib(estimate_bytes)} ({detail}), more than the "
            f"{_gib(limit)} memory limit (half this machine's memory, or ${MEMORY_ENV}); {advice}"
        )
