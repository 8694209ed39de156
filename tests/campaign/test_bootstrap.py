"""The seed bootstrap against scipy's percentile bootstrap, and its paired difference against the truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from vigil.campaign import bootstrap


def test_one_launch_per_seed_matches_scipy_percentile_bootstrap():
    rng = np.random.default_rng(5)
    sample = rng.lognormal(0.0, 0.5, size=80)
    ours = bootstrap.interval(sample[:, None], np.nanmedian, bootstrap.draws(80, resamples=20000))
    ref = stats.bootstrap(
        (sample,),
        np.median,
        n_resamples=20000,
        method="percentile",
        confidence_level=0.95,
        rng=np.random.default_rng(9),
    ).confidence_interval
    width = ref.high - ref.low
    assert ours["estimate"] == np.median(sample)
    assert ours["low"] == pytest.approx(ref.low, abs=0.05 * width)
    assert ours["high"] == pytest.approx(ref.high, abs=0.05 * width)
    assert ours["n"] == 80


def test_nan_entries_are_left_out_and_all_nan_is_none():
    m = np.array([[1.0, np.nan], [3.0, np.nan], [2.0, 5.0]])
    out = bootstrap.interval(m, np.nanmedian, bootstrap.draws(3))
    assert out["estimate"] == 2.5 and out["n"] == 4
    assert bootstrap.interval(np.full((3, 2), np.nan), np.nanmedian, bootstrap.draws(3))["estimate"] is None


def test_paired_difference_has_the_normal_theory_width_and_cancels_the_seed_effect():
    rng = np.random.default_rng(1)
    seed_effect = rng.normal(0.0, 5.0, size=(60, 1))  # shared by both views of a seed
    before = seed_effect + rng.normal(10.0, 0.3, size=(60, 4))
    after = seed_effect + rng.normal(8.0, 0.3, size=(60, 4))
    idx = bootstrap.draws(60)
    d = bootstrap.difference(after, before, np.nanmean, idx)
    assert d["estimate"] == pytest.approx(after.mean() - before.mean(), abs=1e-12)
    per_seed = (after - before).mean(axis=1)  # the independent units
    half_width = stats.norm.ppf(0.975) * per_seed.std(ddof=1) / np.sqrt(60)
    assert (d["high"] - d["low"]) / 2 == pytest.approx(half_width, rel=0.15)
    assert d["low"] < d["estimate"] < d["high"]
    a = bootstrap.interval(after, np.nanmean, idx)  # unpaired: the seed effect (sd 5) stays in
    assert (a["high"] - a["low"]) > 10 * (d["high"] - d["low"]) and a["n"] == 240
