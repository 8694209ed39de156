"""Percentile bootstrap intervals over seeds (the campaign's independent unit).

Launches of one seed share its frame phases and clutter, so the resampled unit is the seed (a cluster
bootstrap): a metric is a ``(seeds, launches)`` matrix with NaN where it does not apply, each resample
draws seeds with replacement and reduces every entry of the drawn rows at once (Efron & Tibshirani 1993,
*An Introduction to the Bootstrap*, ch. 13, percentile interval). With one launch per seed this is the
ordinary percentile bootstrap, which the tests hold against :func:`scipy.stats.bootstrap`.
The draws come from a fixed seed, so a summary is reproducible bit for bit.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

BOOTSTRAP_SEED = 20_261_207
RESAMPLES = 2000
LEVEL = 0.95

Reducer = Callable[..., np.ndarray]


def draws(n_seeds: int, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """``(resamples, n_seeds)`` row indices drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n_seeds, size=(resamples, n_seeds))


def _reduce(reducer: Reducer, values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():  # an all-NaN resample is a NaN statistic, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return reducer(values, axis=-1)


def _interval(estimate: float, boot: np.ndarray, n: int, level: float) -> dict:
    boot = boot[np.isfinite(boot)]
    if not np.isfinite(estimate) or boot.size == 0:
        return {"estimate": None, "low": None, "high": None, "n": n}
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(boot, [tail, 100.0 - tail])
    return {"estimate": float(estimate), "low": float(low), "high": float(high), "n": n}


def interval(matrix: np.ndarray, reducer: Reducer, idx: np.ndarray, level: float = LEVEL) -> dict:
    """Estimate and percentile interval of ``reducer`` (``np.nanmedian``, ``np.nanmean``) over every
    finite entry of ``matrix`` (seeds × launches), resampling rows by ``idx`` (:func:`draws`)."""
    estimate = float(_reduce(reducer, matrix.reshape(-1)))
    boot = _reduce(reducer, matrix[idx].reshape(idx.shape[0], -1))
    return _interval(estimate, boot, int(np.isfinite(matrix).sum()), level)


def difference(
    after: np.ndarray, before: np.ndarray, reducer: Reducer, idx: np.ndarray, level: float = LEVEL
) -> dict:
    """``reducer(after) - reducer(before)`` with a paired interval: both resampled by the same seeds."""
    estimate = float(_reduce(reducer, after.reshape(-1)) - _reduce(reducer, before.reshape(-1)))
    b = idx.shape[0]
    boot = _reduce(reducer, after[idx].reshape(b, -1)) - _reduce(reducer, before[idx].reshape(b, -1))
    n = int(min(np.isfinite(after).sum(), np.isfinite(before).sum()))
    return _interval(estimate, boot, n, level)
