"""The receiver's model of released (rounded) detections against a Monte Carlo of the rounding itself."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.sharing.coarsening import ReleasedErrorModel, dither_fraction, held_fraction


def _window_mean_variance(
    q: float, sigma: float, step: float, frames: int, rng: np.random.Generator
) -> float:
    """Variance of the mean rounding error over ``frames`` consecutive frames of a signal moving ``step`` per
    frame with Gaussian noise ``sigma``, quantised to ``q`` (what a fit of those frames averages)."""
    trials = 4000
    x = rng.uniform(0, q, size=(trials, 1)) + step * np.arange(frames)[None, :]
    y = x + rng.normal(0.0, sigma, size=x.shape)
    err = np.round(y / q) * q - y  # the rounding part of the released value's error
    return float(np.var(err.mean(axis=1)))


@pytest.mark.parametrize("ratio", [0.02, 0.2, 0.35, 1.0])
@pytest.mark.parametrize("step", [0.0, 0.01, 0.04, 0.3])
def test_rounding_bias_model_matches_the_monte_carlo(ratio: float, step: float) -> None:
    rng = np.random.default_rng(3)
    q, n = 1.0, 20  # 20 frames in a fit; the value moves `step` cells a frame
    sigma = ratio * q
    measured = _window_mean_variance(q, sigma, step, n, rng)
    cell = q * q / 12.0
    rho = float(dither_fraction(np.array([sigma]), np.array([q]))[0])
    g = float(held_fraction(np.array([[step]]), np.array([n]))[0, 0])
    per_row = (1.0 - rho) * cell + rho * max(n * g, 1.0) * cell  # the model's variance of one row
    if n * g >= 1.0 or rho < 0.5:
        assert per_row / n == pytest.approx(measured, rel=0.2)  # n rows taken as independent: the truth
    else:  # crossing cells without noise the errors anti-correlate; the model keeps white rounding as a floor
        assert measured <= per_row / n
    if ratio <= 0.2 and step <= 0.01:
        assert cell / n < 0.5 * measured  # white rounding (no correlation) would be badly optimistic here


def test_sigma_holds_a_geostationary_sensors_rounding_for_the_whole_fit() -> None:
    # one sensor, its LOS moving in elevation only, its position fixed (GEO): 1 s frames, q = 100 µrad
    t = np.arange(20.0)
    el = 0.3 + 5e-6 * t  # 5 µrad per frame: an elevation cell is held 20 frames; azimuth never moves
    los = np.stack([np.cos(el), np.zeros_like(el), np.sin(el)], axis=1)
    pos = np.tile([4.2e7, 0.0, 0.0], (len(t), 1))
    q, stated = np.full(len(t), 1e-4), np.full(len(t), np.hypot(30e-6, 1e-4 / np.sqrt(12)))
    sigma = ReleasedErrorModel().sigma(
        np.array(["s"] * len(t), dtype=object), t, los, pos, stated, q, np.full(len(t), 5000.0)
    )
    cell = 1e-8 / 12
    # later rows: position and azimuth held for the whole fit (40 frames), elevation crossing half a cell:
    # far above white rounding, below every axis held
    assert sigma[-1] ** 2 > 20 * cell and sigma[-1] ** 2 < (40 + 1) * 2 * cell + stated[-1] ** 2
    assert np.all(sigma >= stated)


def test_rows_without_a_los_grid_keep_their_stated_sigma() -> None:
    """A partner row with no LOS quantum (los_quantum_rad 0 or absent) and no position grid has no rounding
    to add: its sigma is the stated one, finite (it was NaN when a still sensor's LOS steps divided by q = 0)."""
    n = 3
    los = np.tile([0.0, 0.6, 0.8], (n, 1))
    pos = np.tile([4.2e7, 0.0, 0.0], (n, 1))
    stated = np.full(n, 20e-6)
    out = ReleasedErrorModel().sigma(
        np.array(["s"] * n, dtype=object),
        np.arange(n, dtype=float),
        los,
        pos,
        stated,
        np.zeros(n),
        np.zeros(n),
    )
    np.testing.assert_allclose(out, stated, rtol=1e-12)
