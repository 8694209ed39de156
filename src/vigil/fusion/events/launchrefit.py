"""An event's launch refits: when one is due, and the refit (warm start, seed scan, the closing fit).

The engine (:class:`~vigil.fusion.engine.FusionEngine`) refits a stereo event's launch when its data span passes
each of :data:`REFIT_SPANS_S`, then once at the launch window + :attr:`FusionConfig.update_interval_s` (the
closing fit), and at burnout (docs/fusion.md, step 6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from vigil.fusion.association.associate import Detections, Seeds, detections_and_seeds, triangulation_seeds
from vigil.fusion.config import FusionConfig
from vigil.fusion.events.event import FusedEvent
from vigil.fusion.launch.backfit import TL_GRID_S, LaunchEstimator
from vigil.fusion.launch.mono import point_launch
from vigil.fusion.launch.seedscan import seed_start
from vigil.fusion.strings.sensorstring import SensorString

# Launch refits when the event's data span passes these (s), then once at launch window + update interval (the
# final fit): three scheduled refits keep the launch estimate current while the fits stay a minor share of the
# engine's time (docs/benchmarks.md has the measurements behind the choice).
REFIT_SPANS_S = (3.0, 10.0, 20.0)
DEGRADE_FACTOR = 4.0  # a refit whose launch covariance grows this much is a side minimum: keep the old


def refit_due(
    event: FusedEvent, config: FusionConfig, latest_s: float, span_start: dict[str, tuple[int, float]]
) -> bool:
    """A launch refit is due when the event's data span passed the next of :data:`REFIT_SPANS_S` or the final
    span (launch window + update interval), or when it has no launch estimate yet. Called per event per chunk:
    the next mark after the fitted span is cached on the event (:attr:`FusedEvent.next_refit_s`, recomputed
    when the fitted span changes), and the earliest start of its strings in ``span_start`` (event id → (strings,
    earliest first time); recomputed when a string joins; a string's first time never changes). Most calls end at the latest detection of all
    (``latest_s``, at least any string's last time): the span cannot pass the mark before that does."""
    if event.launch is None:
        return True
    fitted = event.fitted_span_s
    cached = event.next_refit_s
    if cached is None or cached[0] != fitted:
        marks = [m for m in (*REFIT_SPANS_S, config.launch_window_s + config.update_interval_s) if fitted < m]
        cached = event.next_refit_s = (
            fitted,
            min(marks) if marks else float("nan"),
        )  # NaN: none (<= is False)
    strings = event.strings
    start = span_start.get(event.event_id)
    if start is None or start[0] != len(strings):
        start = span_start[event.event_id] = (len(strings), min([s.first_time for s in strings]))
    if not cached[1] <= latest_s - start[1]:  # (the span is at most this: rounding is monotonic)
        return False
    return cached[1] <= max([s.last_time for s in strings]) - start[1]


def refit_launch(
    event: FusedEvent,
    estimator: LaunchEstimator,
    config: FusionConfig,
    closing_starts: str,
    final: bool = False,
    data_only: bool = False,
) -> tuple[Detections, Seeds] | None:
    """Refit the event's launch; returns :func:`detections_and_seeds` of its strings where it triangulated
    them (None otherwise). ``final``: the refit before the burnout estimate, which takes them from here.
    ``data_only``: a closing fit whose starts are the seed scan and the estimator's own (never the previous
    fit), on the strings in a canonical order (:func:`canonical`): bit for bit a function of the detections
    (the previous estimate is kept only if every such start fails).

    The fit that closes the launch (``final``, or the one whose data span passes the launch window + update
    interval: no scheduled fit follows) is a function of the event's data, not of its fit history: it is
    converged to the χ² minimum (``ascentfit.LM_CHI2_TOL``), so the warm start reaches the point a second
    start would (``closing_starts``: "warm" the previous fit, "cold" the seed scan, "both"), and it is kept whatever the previous fit's covariance was
    (:data:`DEGRADE_FACTOR` applies to the fits before it only). So late detections placed in its window (:mod:`~vigil.fusion.oosm.retrodict`) and refitted give the in-order point."""
    previous = event.launch
    # a warm start needs the seeds' times only (their points only if its fit fails: then triangulated), unless
    # the burnout estimate that follows needs them (the same values: one concatenation instead of two)
    warm = previous is not None and previous.phi is not None and estimator.takes_starts and not data_only
    closing = final or closes(event, config)
    cold_start = not warm or (closing and closing_starts != "warm")
    triangulate = final or cold_start
    strings = canonical(event.strings) if data_only else event.strings
    shared = detections_and_seeds(strings, triangulate=triangulate)
    (t, p, u, sigma), (times, points) = shared
    seed_points: np.ndarray | Callable[[], np.ndarray] | None = points
    if not triangulate:
        strings = list(event.strings)
        seed_points = lambda: triangulation_seeds(strings)[1]  # noqa: E731
    est = None
    if len(times) >= 3:
        cold = seed_start_for(estimator, t, times, points) if cold_start else None
        start = cold if data_only or previous is None or previous.phi is None else previous
        extra: dict[str, Any] = (
            {"also": cold} if warm and cold is not None and closing_starts == "both" else {}
        )
        if closing and warm and cold is not None and closing_starts == "cold":
            start, extra = cold, {"also": previous, "lowest": False}  # (the warm start if the cold one fails)
        est = estimator.estimate(t, p, u, sigma, times, seed_points, previous=start, **extra)
    if est is None and previous is None and len(times) and points is not None:  # (no previous: triangulated)
        est = point_launch(float(t[0]), points[0])
    worse = False
    if not closing and previous is not None and est is not None and previous.method == est.method:
        c1, c0 = est.cov_en_m2, previous.cov_en_m2  # traces (2×2)
        worse = c1[0, 0] + c1[1, 1] > DEGRADE_FACTOR * (c0[0, 0] + c0[1, 1])
    if est is not None and not worse:
        event.launch = est
        event.dirty = True
    event.fitted_span_s = float(t[-1] - t[0])
    event.launch_final = event.fitted_span_s > config.launch_window_s + config.update_interval_s
    return shared if triangulate else None


def closes(event: FusedEvent, config: FusionConfig) -> bool:
    """True when a launch fit of ``event`` now is its last scheduled one (span past window + update interval)."""
    span = max([s.last_time for s in event.strings]) - min([s.first_time for s in event.strings])
    return span > config.launch_window_s + config.update_interval_s


def seed_start_for(estimator: LaunchEstimator, t, seed_times, seed_points) -> LaunchStart | None:
    """First start of an event's first back-fit: :func:`~vigil.fusion.launch.seedscan.seed_start` (the batched
    seed scan, ~6× faster than the estimator's own, same start), handed over as the ``previous`` estimate."""
    chosen = estimator.model_for(t)
    if chosen is None:
        return None
    model = chosen[0]
    in_window = seed_times <= model.t_last
    if in_window.sum() < max(3, model.degree):  # the scan solves for `degree` coefficients per lag
        return None
    return LaunchStart(
        seed_start(
            model.degree, model.first_horizontal, seed_times[in_window], seed_points[in_window], TL_GRID_S
        )
    )


def canonical(strings: list[SensorString]) -> list[SensorString]:
    """``strings`` ordered by their content (sensor, first and last time, length), not by when they joined: the
    order :func:`detections_and_seeds` breaks its ties in (the first longest string, equal times)."""
    return sorted(strings, key=lambda s: (s.sensor_id, float(s.first_time), float(s.last_time), len(s)))


@dataclass(frozen=True)
class LaunchStart:
    """A start of the launch back-fit passed where the estimator takes its previous estimate (only ``phi``)."""

    phi: np.ndarray
