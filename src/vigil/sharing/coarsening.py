"""What a releaser did to a detection, as measurement noise the receiving fusion can weigh.

A released detection (``vigil.sharing.precision``) differs from the partner's own in three ways, and the
receiver models each as an added line-of-sight error with the right *correlation over frames*: a fit that
treats a bias as white noise averages it down by √N and over-weighs the partner's rows, which is how
sharing could make a partner worse.

1. **LOS rounding** to the angular cell ``q`` (``los_quantum_rad``). The stated ``los_sigma_rad`` already
   holds ``q²/12`` in quadrature; the sensor's own noise is ``σn² = σ² − q²/12``. Rounding is white only
   when the noise dithers it: the part of the rounding error that follows the signal (and so stays put
   while the true LOS is in one cell) is a fraction ρ of ``q²/12`` (:func:`dither_fraction`: the sawtooth's
   harmonics through the Gaussian noise's characteristic function, Widrow & Kollár, *Quantization Noise*,
   2008, ch. 5). That part is a bias over the ``N = q / |Δθ|`` frames the line of
   sight takes to cross a cell along each of the grid's two angles (elevation, and azimuth × cos el; Δθ:
   its change per frame, measured from the sensor's previous released detection of the same object). A
   line of sight moving along one angle keeps the other's rounding for many frames.
2. **Sensor position rounding** to ``precision_m`` per axis (uniform, ``p²/12``): seen from the target an
   angle ``p / range``, ≤ ``q`` (``q ≥ p / range`` to the Earth), so ``q²/12``; no noise dithers it, so it
   is a bias for the ``N = p / |Δx|`` frames the sensor takes to cross a cell along each ECEF axis (a
   geostationary sensor sits in one cell: every frame of a fit; one moving along x keeps y and z).
3. The partner's **clock**: an offset ``σ_clock`` moves a moving line of sight by ``ω σ_clock``, the same
   for a whole fit. Records state no clock uncertainty, so :data:`PARTNER_CLOCK_SIGMA_S` is 0 unless a
   node is given one (``ReleasedErrorModel(clock_sigma_s=…)``); the simulated partners' clocks are exact.

Over the ``M`` rows of one sensor in a fit, the mean rounding error has variance ``g q²/12`` with ``g`` from
:func:`held_fraction` (1 for a cell held all M frames: a bias; ~1/M once the value crosses cells, when the
sawtooth averages out); so each row gets the rounding variance ``M g`` times, averaged over the grid's axes (the equal-weight form of a consider state: the fit's estimate is unchanged by a
uniform re-weighting and its information from the bias is right). ``N`` is capped at the rows of one
sensor in an ascent fit (:data:`vigil.fusion.launch.backfit.ASCENT_WINDOW_S` over the frame interval); a row
with no earlier row to measure ω or v against gets the cap (nothing says the bias is short).
"""

from __future__ import annotations

import math

import numpy as np

from ..fusion.launch.backfit import ASCENT_WINDOW_S

PARTNER_CLOCK_SIGMA_S = 0.0  # a partner's time-tag error (s, 1σ); records state none, so 0 unless configured
MATCH_WINDOW_S = 12.0  # an earlier detection of the same object is looked for this far back
MATCH_MAX_RATE_RAD_S = 2e-3  # and no further than this angular rate (7 km/s across, seen from 3,500 km)
HISTORY_S = 15.0  # per sensor, released detections kept this long for the matching


def dither_fraction(noise_rad: np.ndarray, q_rad: np.ndarray, harmonics: int = 8) -> np.ndarray:
    """ρ: the fraction of the rounding variance ``q²/12`` that follows the signal rather than the noise, i.e.
    the variance of ``E[rounding error | signal]``: ``(6/π²) Σₖ exp(−4π²k²σn²/q²) / k²`` (the sawtooth's
    Fourier series, each harmonic damped by the noise's characteristic function). 1 without noise, ~0 for
    ``σn ≳ q/2``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.asarray(noise_rad, dtype=float) ** 2 / np.where(q_rad > 0, q_rad, np.nan) ** 2
    k = np.arange(1, harmonics + 1)
    rho = 6.0 / math.pi**2 * (np.exp(-4.0 * math.pi**2 * np.multiply.outer(r2, k * k)) / (k * k)).sum(axis=-1)
    return np.nan_to_num(rho, nan=0.0)


class ReleasedErrorModel:
    """Per sensor, the partner's recent released detections; :meth:`sigma` weighs a new batch of them."""

    def __init__(self, clock_sigma_s: float = PARTNER_CLOCK_SIGMA_S) -> None:
        self.clock_sigma_s = clock_sigma_s
        self._hist: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # sensor → (t, los, pos)

    def sigma(
        self,
        sensor: np.ndarray,
        t_s: np.ndarray,
        los: np.ndarray,
        pos: np.ndarray,
        stated: np.ndarray,
        q: np.ndarray,
        precision_m: np.ndarray,
    ) -> np.ndarray:
        """The LOS sigma (rad) to fuse each released row with (module docstring); rows need not be sorted."""
        out = np.array(stated, dtype=float)
        for name in np.unique(sensor):
            rows = np.flatnonzero(sensor == name)
            rows = rows[np.argsort(t_s[rows], kind="stable")]
            out[rows] = self._sensor_sigma(
                str(name), t_s[rows], los[rows], pos[rows], out[rows], q[rows], precision_m[rows]
            )
        return out

    def _sensor_sigma(self, name, t, los, pos, stated, q, p) -> np.ndarray:
        old_t, old_los, old_pos = self._hist.get(name, (np.empty(0), np.empty((0, 3)), np.empty((0, 3))))
        all_t, all_los, all_pos = (
            np.concatenate([old_t, t]),
            np.concatenate([old_los, los]),
            np.concatenate([old_pos, pos]),
        )
        keep = all_t >= all_t.max() - HISTORY_S
        self._hist[name] = (all_t[keep], all_los[keep], all_pos[keep])
        n_old = len(old_t)
        rate, dt = np.full(len(t), np.nan), np.full(len(t), np.nan)
        step = np.full((len(t), 2), np.nan)  # |Δ elevation|, |Δ azimuth| cos(el) to the previous frame (rad)
        move = np.full((len(t), 3), np.nan)  # |Δ position| per ECEF axis (m)
        for i in range(len(t)):
            j = _previous(all_t[: n_old + i], all_los[: n_old + i], t[i], los[i])
            if j < 0:
                continue
            dt[i] = t[i] - all_t[j]
            rate[i] = math.acos(min(1.0, max(-1.0, float(all_los[j] @ los[i])))) / dt[i]
            step[i] = np.abs(_el_az(los[i]) - _el_az(all_los[j])) * [1.0, math.cos(_el_az(los[i])[0])]
            move[i] = np.abs(pos[i] - all_pos[j])
        return self._combine(stated, q, p, rate, dt, step, move)

    def _combine(self, stated, q, p, rate, dt, step, move) -> np.ndarray:
        """Each rounding per grid axis, over the ``M`` rows of one sensor in a fit: variance ``M g`` per row with
        ``g`` = :func:`held_fraction` of the cells crossed per frame; the LOS grid's two angles and the position
        grid's three axes averaged (no motion known: held, ``g = 1``)."""
        frames = np.maximum(
            np.where(
                np.isfinite(dt) & (dt > 0), ASCENT_WINDOW_S / np.where(dt > 0, dt, 1.0), ASCENT_WINDOW_S
            ),
            1.0,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            los_cells = np.where(
                np.isfinite(step) & (q[:, None] > 0), step / q[:, None], 0.0
            )  # no LOS grid: none
            pos_cells = np.where(np.isfinite(move) & (p[:, None] > 0), move / p[:, None], 0.0)
        m = np.rint(frames).astype(np.int64)
        n_los = frames * held_fraction(los_cells, m).mean(axis=1)
        n_pos = frames * held_fraction(pos_cells, m).mean(axis=1)
        cell = q * q / 12.0
        noise2 = np.maximum(stated**2 - cell, 0.0)
        rho = dither_fraction(np.sqrt(noise2), q)
        clock = np.where(np.isfinite(rate), rate, 0.0) * self.clock_sigma_s
        var = (
            noise2
            + (1.0 - rho) * cell
            + rho * np.maximum(n_los, 1.0) * cell
            + np.maximum(n_pos, 1.0) * cell
            + frames * clock * clock
        )
        return np.sqrt(var)


_PHASES = (np.arange(64) + 0.5) / 64.0


def held_fraction(cells_per_frame: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """``12 Var[mean of the rounding error over M frames] / q²`` for a value moving ``c`` cells per frame
    from a uniformly random phase (the sawtooth ``frac(φ + k c) − ½``, k < M): 1 when it holds still (a bias
    for all M frames), ~1/M or less once it crosses cells (the rounding errors then average out).
    ``cells_per_frame``: (n, axes); ``frames``: (n,) the M of each row."""
    c = np.asarray(cells_per_frame, dtype=float)
    m_max = int(frames.max()) if len(frames) else 1
    k = np.arange(m_max)
    inside = k[None, :] < frames[:, None]  # (n, M)
    saw = (_PHASES[None, None, :, None] + c[:, :, None, None] * k[None, None, None, :]) % 1.0 - 0.5
    mean = (saw * inside[:, None, None, :]).sum(axis=3) / frames[:, None, None]
    return 12.0 * mean.var(axis=2)


def _el_az(u: np.ndarray) -> np.ndarray:
    """ECEF elevation and azimuth (rad) of a unit vector: the releaser's LOS grid axes."""
    return np.array([math.atan2(u[2], math.hypot(u[0], u[1])), math.atan2(u[1], u[0])])


def _previous(t_hist: np.ndarray, los_hist: np.ndarray, t: float, los: np.ndarray) -> int:
    """Index of the same object's detection in the sensor's latest earlier frame (nearest direction, within
    :data:`MATCH_WINDOW_S` and :data:`MATCH_MAX_RATE_RAD_S`), or -1."""
    earlier = np.flatnonzero((t_hist < t) & (t_hist >= t - MATCH_WINDOW_S))
    if not len(earlier):
        return -1
    frame = earlier[t_hist[earlier] == t_hist[earlier].max()]
    ang = np.arccos(np.clip(los_hist[frame] @ los, -1.0, 1.0))
    k = int(np.argmin(ang))
    return int(frame[k]) if ang[k] / (t - t_hist[frame[k]]) <= MATCH_MAX_RATE_RAD_S else -1
