"""Launch point, launch time and azimuth by back-fitting the early ascent to the ground.

The early ascent is modelled as a low-order polynomial in time that *starts from rest on the ground*:
``r(t) = r_g(lat, lon) + Σ_{k=2..d} c_k τ^k / k!`` with ``τ = t - t_L`` and ``r_g`` the WGS84 surface point
(altitude 0). Parameters ``φ = (lat, lon, t_L, c_2, …, c_d)``; it is fitted by Gauss–Newton directly to
the LOS detections of the first :data:`ASCENT_WINDOW_S` seconds of an event. Why constrained: the plume
appears only above ~10 km, 30–60 s after liftoff, and an unconstrained cubic extrapolated that far back
misses the pad by tens of km (26 km on the test profile), while the from-rest quartic fitted to a
noise-free gravity-turn profile misses it by < 0.5 km (documented in docs/fusion.md).
The launch azimuth is the initial great-circle azimuth from the launch point to the ground point under
the last fitted position. Covariances are the inverse information at the solution (lat/lon/t_L direct,
the azimuth through a central-difference gradient); :mod:`crlb` evaluates the same information at the truth.

Every fit carries a Gaussian prior on ``t_L`` (first detection − :data:`TIME_TO_VISIBLE_S` ±
:data:`TIME_TO_VISIBLE_SIGMA_S`) and ends with Gauss–Newton polishing steps, so the estimate is the
maximum a posteriori of a stated objective, not wherever Levenberg–Marquardt stopped in the flat ``t_L``
valley (it stopped early and stayed near its start: a hidden prior the bound could not carry). The
estimate records what it used (window, degree, prior: :class:`LaunchEstimate`), and the bound is computed
from exactly that (:func:`vigil.fusion.bounds.crlb.launch_crlb`, :mod:`vigil.scoring.bounds`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np

from vigil.frames import (
    WGS84_A_M,
    WGS84_E2,
    ecef_to_geodetic,
    enu_basis,
    great_circle_distance_m,
    initial_azimuth_rad,
)
from vigil.fusion.geometry.polytrack import least_squares
from vigil.fusion.geometry.triangulate import tangent_basis
from vigil.fusion.launch.ascentdata import Detections, FitControls, Objective
from vigil.fusion.launch.ascentfit import backfit, profile_at, window_data
from vigil.fusion.launch.ascentmodel import AscentModel

ASCENT_WINDOW_S = 40.0  # early-ascent span used for the back-fit
QUARTIC_MIN_SPAN_S = 25.0  # below this span the 4th-order term is not observable at 20 µrad: fit a cubic
MIN_SPAN_S = 3.0  # no back-fit from less data than this (the engine falls back to the mono estimate)
LM_MAX_ITERATIONS = 60
LM_START_SHIFTS_S = (0.0, -15.0, 15.0)  # launch-time offsets of the Levenberg-Marquardt starts
TL_GRID_S = np.arange(5.0, 150.0, 5.0)  # launch-time lags scanned to start Gauss-Newton from the seeds
MAX_BACK_EXTRAPOLATION_S = 200.0  # a launch further back than this before the first detection is a failed fit
MAX_REDUCED_CHI2 = 3.0  # a converged fit of a true ascent sits at ~1 (model bias < 0.5 km)
MIN_AZIMUTH_BASELINE_M = 3000.0  # ground displacement below which the azimuth is not reported
# Prior on first sight - launch (same as mono.TIME_TO_VISIBLE_S): the time to climb through the cloud tops
# (~10 km). Reference-scenario truth: missiles 36-45 s, launchers 57-77 s (ensemble 49 ± 15 s), so it is
# fair for missiles and 1-2.5 σ short for launchers, whose t_L the data barely constrain (σ 40-140 s).
TIME_TO_VISIBLE_S = 40.0
TIME_TO_VISIBLE_SIGMA_S = 15.0
POLISH_STEPS = 8  # Gauss-Newton steps after Levenberg-Marquardt (it stops early where the valley is flat)
POLISH_CHI2_TOL = 1e-6  # polishing stops when χ² improves by less than this
TRACK_AZIMUTH_MIN_M = 100_000.0  # ground baseline below which the track azimuth is not used (σ > ~0.5°)
CONTROLS = FitControls(LM_MAX_ITERATIONS, POLISH_STEPS, POLISH_CHI2_TOL)


@dataclass(frozen=True)
class LaunchEstimate:
    """Launch time (s from epoch) ± 1σ, point (rad) with east/north covariance (m²), azimuth (rad) ± 1σ."""

    time_s: float
    time_sigma_s: float
    lat_rad: float
    lon_rad: float
    cov_en_m2: np.ndarray
    azimuth_rad: float | None
    azimuth_sigma_rad: float | None
    method: str = "backfit"
    phi: np.ndarray | None = None  # the fitted model parameters (warm start of the next fit)
    # what the fit used, so that a bound can use exactly the same (None for a mono / point estimate):
    t_first_s: float | None = None  # first and last (emission) time of the fitted detections, s
    t_last_s: float | None = None
    n_detections: int | None = None
    degree: int | None = None  # AscentModel degree (vertical liftoff)
    prior_time_s: float | None = None  # Gaussian prior on t_L: mean and σ (s); None: no prior
    prior_time_sigma_s: float | None = None


def wrap_lat_lon(lat_rad: float, lon_rad: float) -> tuple[float, float]:
    """The same point with latitude in [-π/2, π/2] and longitude in [-π, π): the fit's parameters are free
    angles (a latitude of 135° is latitude 45° on the opposite meridian; the reference campaign met both)."""
    lat = (lat_rad + math.pi) % (2 * math.pi) - math.pi
    if abs(lat) > math.pi / 2:
        lat, lon_rad = math.copysign(math.pi, lat) - lat, lon_rad + math.pi
    return lat, (lon_rad + math.pi) % (2 * math.pi) - math.pi


def summarize(model: AscentModel, phi, cov) -> LaunchEstimate:
    """Launch estimate from parameters and their covariance (the fit's or a CRLB). The azimuth is reported
    when the modelled ground displacement from the pad to ``t_last`` — ``√(h² + s²)``, ``up ⊥ along`` — is at
    least :data:`MIN_AZIMUTH_BASELINE_M`."""
    phi = np.asarray(phi, dtype=float)
    h, s = profile_at(phi, model.degree, model.first_horizontal, max(model.t_last - float(phi[2]), 0.0))
    return _summary(phi.copy(), cov, h, s)


def _summary(phi: np.ndarray, cov, h: float, s: float, **used) -> LaunchEstimate:
    """:func:`summarize` given the profile ``(h, s)`` at ``t_last``; ``phi`` is kept (not copied); ``used``: the
    fit's record (:class:`LaunchEstimate` fields). The east/north covariance is ``J C Jᵀ`` with
    ``J = [[0, m_lon], [m_lat, 0]]`` (:meth:`AscentModel.metric`) written out in scalars, the products and sums
    of the 2×2 matrix products in their order (zero terms included: same values, NaN included)."""
    lat0 = float(phi[0])
    s2 = math.sin(lat0) ** 2
    m_lat = WGS84_A_M * (1 - WGS84_E2) / (1 - WGS84_E2 * s2) ** 1.5
    m_lon = WGS84_A_M / math.sqrt(1 - WGS84_E2 * s2) * math.cos(lat0)
    (c00, c01), (c10, c11) = cov[:2, :2].tolist()
    a00, a01 = 0.0 * c00 + m_lon * c10, 0.0 * c01 + m_lon * c11  # J C
    a10, a11 = m_lat * c00 + 0.0 * c10, m_lat * c01 + 0.0 * c11
    cov_en = np.array(
        [
            [a00 * 0.0 + a01 * m_lon, a00 * m_lat + a01 * 0.0],  # (J C) Jᵀ
            [a10 * 0.0 + a11 * m_lon, a10 * m_lat + a11 * 0.0],
        ]
    )
    az_ok = math.hypot(h, s) >= MIN_AZIMUTH_BASELINE_M
    lat, lon = wrap_lat_lon(lat0, float(phi[1]))
    return LaunchEstimate(
        float(phi[2]),
        float(np.sqrt(cov[2, 2])),
        lat,
        lon,
        cov_en,
        float(phi[3] % (2 * np.pi)) if az_ok else None,
        float(np.sqrt(cov[3, 3])) if az_ok else None,
        phi=phi,
        **used,
    )


def track_azimuth(launch: LaunchEstimate, r_end_m, cov_end_m2) -> LaunchEstimate:
    """``launch`` with the azimuth of the whole visible ascent: the initial great-circle azimuth from the
    launch point to the ground point under ``r_end_m`` (ECEF, m; e.g. the burnout state, 3×3 covariance
    ``cov_end_m2``), σ from the two points' errors across the track over the baseline.

    Why: a launcher is first seen 56–76 s after liftoff and its early back-fit spans a few tens of km, so its
    azimuth is good to 1–6°; the whole track spans 500–2000 km. A space launch flies close to a plane
    (telemetry replays: exactly the great circle from the pad; the notional vehicles' orbit guidance:
    0.8–0.9° off at burnout, measured on the simulator's truth). Not for missiles: thrust along the
    Earth-relative velocity bends their ground track by Coriolis up to ~1.2° at burnout, more than their
    early back-fit misses. Returns ``launch`` unchanged under a :data:`TRACK_AZIMUTH_MIN_M` baseline."""
    lat, lon, _ = ecef_to_geodetic(np.asarray(r_end_m, dtype=float))
    dist = float(great_circle_distance_m(launch.lat_rad, launch.lon_rad, lat, lon))
    if dist < TRACK_AZIMUTH_MIN_M:
        return launch
    az = float(initial_azimuth_rad(launch.lat_rad, launch.lon_rad, lat, lon))
    back = float(initial_azimuth_rad(lat, lon, launch.lat_rad, launch.lon_rad))
    across0 = np.array([math.cos(az), -math.sin(az)])  # (east, north) normal to the track at the pad
    across1 = np.array([math.cos(back), -math.sin(back)])  # same at the end point (sign irrelevant)
    east, north, _ = enu_basis(float(lat), float(lon))
    en = np.stack([east, north])
    var_pad = across0 @ launch.cov_en_m2 @ across0
    var_end = across1 @ (en @ np.asarray(cov_end_m2) @ en.T) @ across1
    # right spherical triangles: an across-track offset moves the bearing by offset / (a tan θ) at the pad
    # and by offset / (a sin θ) at the far end (θ = dist / a)
    theta = dist / WGS84_A_M
    var = var_pad / (WGS84_A_M * math.tan(theta)) ** 2 + var_end / (WGS84_A_M * math.sin(theta)) ** 2
    return replace(launch, azimuth_rad=az, azimuth_sigma_rad=float(math.sqrt(max(var, 0.0))))


def initial_phi(model: AscentModel, seed_times, seed_points) -> np.ndarray | None:
    """Start for the fit: scan t_L; for each, a linear fit of ground point + vector coefficients to seeds
    (:func:`~vigil.fusion.geometry.polytrack.least_squares`: ``numpy.linalg.lstsq``'s numbers, less wrapping)."""
    seed_times = np.asarray(seed_times, dtype=float)
    best: tuple[float, float, float, float, np.ndarray] | None = None
    for lag in TL_GRID_S:
        t_l = seed_times.min() - lag
        tau = seed_times - t_l
        a = np.stack(
            [np.ones_like(tau)] + [tau**k / math.factorial(k) for k in range(2, model.degree + 1)], -1
        )
        coef = least_squares(a, seed_points)
        lat, lon, alt = ecef_to_geodetic(coef[0])
        resid = np.sum((a @ coef - seed_points) ** 2) + float(alt) ** 2
        if best is None or resid < best[0]:
            best = (resid, float(lat), float(lon), t_l, coef[1:])
    assert best is not None  # (TL_GRID_S is not empty)
    _, lat, lon, t_l, coef = best
    east, north, up = enu_basis(lat, lon)
    horiz = coef @ east, coef @ north
    az = math.atan2(float(np.sum(horiz[0] * np.abs(horiz[0]))), float(np.sum(horiz[1] * np.abs(horiz[1]))))
    along = math.sin(az) * east + math.cos(az) * north
    k0 = model.first_horizontal - 2
    return np.concatenate([[lat, lon, t_l, az], coef @ up, (coef @ along)[k0:]])


def fit_ascent(
    model: AscentModel,
    times,
    pos,
    los,
    sigma,
    phi0,
    prior_time_s: float = 0.0,
    prior_time_sigma_s: float | None = None,
    max_iterations: int = LM_MAX_ITERATIONS,
):
    """Levenberg–Marquardt fit of ``model`` to LOS detections, then Gauss–Newton polishing (:func:`~vigil.fusion.launch.ascentfit.gauss_newton_polish_blocked`);
    returns ``(φ, covariance, χ²)``.

    One compiled call (:func:`vigil.fusion.launch.ascentfit.backfit`). Plain Gauss–Newton overshoots from a rough start:
    ``t_L`` and the coefficients are strongly correlated (condition number ~1e8 after scaling) and the model
    is non-linear in ``t_L``. ``prior_time_*``: optional Gaussian prior on ``t_L`` (s); the covariance then
    includes it.
    """
    return fit_prepared(
        model, _prepare(model, times, pos, los, sigma, prior_time_s, prior_time_sigma_s), phi0, max_iterations
    )


def _prepare(
    model: AscentModel, times, pos, los, sigma, prior_time_s, prior_time_sigma_s
) -> tuple[Objective, Detections]:
    """The compiled fit's objective and data (tangent bases and weights computed once for all starts)."""
    times, pos, los, sigma = (np.ascontiguousarray(a, dtype=float) for a in (times, pos, los, sigma))
    e1, e2 = tangent_basis(los)
    return (
        _objective(model, float(prior_time_s), prior_time_sigma_s),
        Detections(times, pos, np.ascontiguousarray(e1), np.ascontiguousarray(e2), 1.0 / sigma**2),
    )


def _objective(model: AscentModel, prior_time_s: float, prior_time_sigma_s: float | None) -> Objective:
    """The compiled fit's :class:`~vigil.fusion.launch.ascentdata.Objective`: ``model``'s shape and the prior."""
    return Objective(model.degree, model.first_horizontal, prior_time_s, _prior_weight(prior_time_sigma_s))


def _prior_weight(sigma_s: float | None) -> float:
    """Weight ``1/σ²`` of the launch-time prior (0: none)."""
    return 0.0 if sigma_s is None else 1.0 / sigma_s**2


def fit_prepared(
    model: AscentModel, data: tuple[Objective, Detections], phi0, max_iterations: int = LM_MAX_ITERATIONS
):
    """:func:`fit_ascent` on the objective and data from :func:`_prepare`: ``(φ, covariance, χ²)``."""
    phi, cov, chi2 = backfit(
        np.array(phi0, dtype=float),
        *data,
        CONTROLS._replace(lm_iterations=max_iterations),
        float(model.t_last),
    )[:3]
    return phi, cov, float(chi2)


class LaunchEstimator(ABC):
    """Base of launch estimators: LOS detections of one event → :class:`LaunchEstimate` or None.

    The engine refits an event's launch as its data grow; an estimator that can start from an earlier fit says
    so with :attr:`takes_starts`, and one with a polynomial ascent model gives it in :meth:`model_for` (the
    engine then hands it the batched seed scan's start, :func:`~vigil.fusion.launch.seedscan.seed_start`)."""

    takes_starts = (
        False  # True: estimate() starts from ``previous`` / ``also`` (objects with ``phi``) when given
    )

    @abstractmethod
    def estimate(
        self, times, pos, los, sigma, seed_times, seed_points, previous=None, also=None, lowest: bool = True
    ) -> LaunchEstimate | None:
        """``seed_*``: rough 3-D points (e.g. triangulations) to start the fit; ``previous``, ``also``,
        ``lowest``: starts (see :class:`AscentBackFitEstimator`), ignored unless :attr:`takes_starts`."""

    def model_for(self, times) -> tuple[AscentModel, np.ndarray] | None:
        """The ascent model fitted to detections at ``times`` and the mask of those it takes; None (the
        default): no such model, no seed-scan start."""
        return None


class AscentBackFitEstimator(LaunchEstimator):
    """Back-fit of the first ``window_s`` seconds of detections with :class:`AscentModel`, under a Gaussian
    prior on ``t_L``: first detection − ``time_to_visible_s`` ± ``time_to_visible_sigma_s`` (None: no prior)."""

    takes_starts = True

    def __init__(
        self,
        window_s: float = ASCENT_WINDOW_S,
        quartic_min_span_s: float = QUARTIC_MIN_SPAN_S,
        time_to_visible_s: float = TIME_TO_VISIBLE_S,
        time_to_visible_sigma_s: float | None = TIME_TO_VISIBLE_SIGMA_S,
    ):
        self.window_s = window_s
        self.quartic_min_span_s = quartic_min_span_s
        self.time_to_visible_s = time_to_visible_s
        self.time_to_visible_sigma_s = time_to_visible_sigma_s

    def model_for(self, times) -> tuple[AscentModel, np.ndarray] | None:
        """The model and the mask of detections it is fitted to (None when the span is too short)."""
        times = np.asarray(times, dtype=float)
        keep = times <= times.min() + self.window_s
        model = self._model(float(times.min()), float(times[keep].max()))
        return None if model is None else (model, keep)

    def _model(self, t_first: float, t_last: float) -> AscentModel | None:
        """:meth:`model_for` of a window of detections from ``t_first`` to ``t_last`` (s)."""
        span = t_last - t_first
        if not span >= MIN_SPAN_S:  # (NaN too)
            return None
        return AscentModel(4 if span >= self.quartic_min_span_s else 3, t_last)

    def prior_for(self, times) -> tuple[float, float | None]:
        """``(mean, σ)`` of the launch-time prior (s) for detections at ``times`` (σ None: no prior)."""
        return self._prior(float(np.min(times)))

    def _prior(self, t_first: float) -> tuple[float, float | None]:
        """:meth:`prior_for` detections from ``t_first`` (s) on."""
        return t_first - self.time_to_visible_s, self.time_to_visible_sigma_s

    def estimate(
        self, times, pos, los, sigma, seed_times, seed_points, previous=None, also=None, lowest: bool = True
    ) -> LaunchEstimate | None:
        """``previous``: an earlier :class:`LaunchEstimate` of this estimator, used as the first start.
        ``seed_points`` may be a function returning them: it is called only if the seed scan runs (a
        warm-started fit that fails). ``also``: a second start (an object with ``phi``, e.g. the seed scan's)
        fitted too, whatever the first gives; the lower χ² (LOS + prior) of the two is kept — with a start that
        depends on the data only, the result no longer depends on which earlier fit ``previous`` was.
        ``lowest=False``: ``also`` is only the next start, tried when ``previous`` gives no good fit.

        The window, tangent bases and weights are one compiled call (:func:`~vigil.fusion.launch.ascentfit.window_data`)
        and each start's fit with its checks another (:func:`~vigil.fusion.launch.ascentfit.backfit`): the same
        numbers as :meth:`model_for`, :func:`fit_ascent` and :func:`summarize` in turn, less Python."""
        if len(times) == 0 or len(seed_times) < 3:
            return None
        arrays = (np.asarray(a, dtype=float) for a in (times, pos, los, sigma))
        det, t_first, t_last = window_data(*arrays, float(self.window_s))
        model = self._model(t_first, t_last)
        if model is None:
            return None
        seed_times = np.asarray(seed_times, dtype=float)
        in_window = seed_times <= model.t_last
        if np.count_nonzero(in_window) < 3:
            return None
        prior = self._prior(t_first)
        objective = _objective(model, float(prior[0]), prior[1])

        def starts():  # lazily: the seed scan costs more than a warm-started fit
            if previous is not None and previous.phi is not None:
                yield model.resized(previous.phi)
            if also is not None:
                yield model.resized(also.phi)
            points = seed_points() if callable(seed_points) else seed_points
            phi0 = initial_phi(model, seed_times[in_window], np.asarray(points)[in_window])
            for shift in LM_START_SHIFTS_S:  # the t_L valley has side minima: start from a few launch times
                yield phi0 + np.eye(phi0.size)[2] * shift

        dof = max(2 * det.t.size - model.size, 1)
        given = int(previous is not None and previous.phi is not None) + int(also is not None and lowest)
        best = _best_fit(starts(), objective, det, t_last, dof, given)
        if best is None:
            return None
        phi, cov, chi2, _, finite, h, s = best
        if not (finite and t_first - MAX_BACK_EXTRAPOLATION_S < phi[2] < t_first):
            return None
        if chi2 / dof > MAX_REDUCED_CHI2:
            return None  # not converged, or the track is not an ascent from rest: keep the previous estimate
        return _summary(
            phi,
            cov,
            h,
            s,
            t_first_s=t_first,
            t_last_s=t_last,
            n_detections=int(det.t.size),
            degree=model.degree,
            prior_time_s=prior[0],
            prior_time_sigma_s=prior[1],
        )


def _best_fit(starts, objective, det, t_last: float, dof: int, given: int) -> tuple | None:
    """The :func:`~vigil.fusion.launch.ascentfit.backfit` of lowest χ² over ``starts``, tried in turn until one
    fits well (reduced χ² ≤ :data:`MAX_REDUCED_CHI2`) once the first ``given`` starts were all tried; None if none
    is usable (finite covariance and χ²)."""
    best = None
    for k, start in enumerate(starts):
        out = backfit(np.asarray(start, dtype=float), objective, det, CONTROLS, t_last)
        if out[3] and (best is None or out[2] < best[2]):
            best = out
        if best is not None and best[2] / dof <= MAX_REDUCED_CHI2 and k + 1 >= given:
            break  # a good fit: the other starts are only for stuck fits
    return best
