"""Launch and impact CRLBs of a true flight seen by fixed sensors: σ scaling, sensor count, adding a sensor."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.flight.launch import fly
from vigil.frames import geodetic_to_ecef
from vigil.fusion.launch.backfit import LaunchEstimate
from vigil.scoring.bounds import impact_bound_km, launch_bound

VISIBLE_FROM_S = 40.0  # the plume is above the clouds from about here (SRBM)


@pytest.fixture(scope="module")
def flight():
    return fly("notional-srbm-1stage", 34.0, 36.0, 0.0, 180.0, None, launch_id="SR1")


def _geo(lon_deg: float) -> np.ndarray:
    return geodetic_to_ecef(0.0, np.radians(lon_deg), 35_786e3)


def _detections(flight, lons_deg, sigma_rad=20e-6):
    t_end = float(flight.events["burnout"])
    t = np.arange(VISIBLE_FROM_S, t_end, 1.0)
    times = np.concatenate([t] * len(lons_deg))
    pos = np.concatenate([np.tile(_geo(lon), (len(t), 1)) for lon in lons_deg])
    ids = np.concatenate([[f"s{k}"] * len(t) for k in range(len(lons_deg))])
    order = np.argsort(times, kind="stable")
    return times[order], times[order], pos[order], np.full(len(times), sigma_rad), ids[order]


def _fit_record(t_first, t_last, prior_sigma_s=None, degree=4):
    """A back-fit estimate's record of what it used (only these fields matter to the bound)."""
    return LaunchEstimate(
        0.0,
        1.0,
        0.0,
        0.0,
        np.eye(2),
        None,
        None,
        t_first_s=t_first,
        t_last_s=t_last,
        degree=degree,
        prior_time_s=t_first - 40.0,
        prior_time_sigma_s=prior_sigma_s,
    )


def test_launch_bound_scales_exactly_with_sigma_without_prior(flight):
    # Fisher information ∝ 1/σ², so the RMS bound ∝ σ (Kay 1993, eq. 3.31) when no prior is involved
    est = _fit_record(VISIBLE_FROM_S, VISIBLE_FROM_S + 40.0)
    one = launch_bound(flight, *_detections(flight, [0.0, 72.0], 20e-6), estimate=est)
    two = launch_bound(flight, *_detections(flight, [0.0, 72.0], 40e-6), estimate=est)
    assert 0.1 < one["launch_crlb_km"] < 20.0
    assert two["launch_crlb_km"] / one["launch_crlb_km"] == pytest.approx(2.0, rel=1e-6)
    assert two["azimuth_crlb_deg"] / one["azimuth_crlb_deg"] == pytest.approx(2.0, rel=1e-6)


def test_launch_bound_carries_the_estimates_prior_and_window(flight):
    data = _detections(flight, [0.0, 72.0])
    free = launch_bound(flight, *data, estimate=_fit_record(VISIBLE_FROM_S, VISIBLE_FROM_S + 40.0))
    prior = launch_bound(flight, *data, estimate=_fit_record(VISIBLE_FROM_S, VISIBLE_FROM_S + 40.0, 15.0))
    short = launch_bound(flight, *data, estimate=_fit_record(VISIBLE_FROM_S, VISIBLE_FROM_S + 20.0, 15.0, 3))
    assert prior["time_crlb_s"] < min(free["time_crlb_s"], 15.0)  # prior information only adds
    assert prior["launch_crlb_km"] <= free["launch_crlb_km"] * (1 + 1e-9)
    t = data[0]
    assert short["launch_crlb_n"] == 2 * 21  # exactly the window's detections (two sensors, 1 s frames)
    assert prior["launch_crlb_n"] == np.sum(t <= VISIBLE_FROM_S + 40.0)
    assert short["launch_crlb_km"] > prior["launch_crlb_km"]
    # no estimate: the estimator's own rule (first 40 s, prior 40 ± 15 s before the first detection)
    assert launch_bound(flight, *data)["launch_crlb_km"] == pytest.approx(prior["launch_crlb_km"], rel=1e-6)


def test_a_third_sensor_cannot_raise_the_bound(flight):
    two = launch_bound(flight, *_detections(flight, [0.0, 72.0]))
    three = launch_bound(flight, *_detections(flight, [0.0, 72.0, 100.0]))
    assert three["launch_crlb_km"] <= two["launch_crlb_km"] * (1 + 1e-9)


def test_one_sensor_gives_no_bound(flight):
    assert launch_bound(flight, *_detections(flight, [0.0])) is None
    assert impact_bound_km(flight, *_detections(flight, [0.0])) is None


def test_impact_bound_is_positive_and_scales_with_sigma(flight):
    one = impact_bound_km(flight, *_detections(flight, [0.0, 72.0], 20e-6))
    two = impact_bound_km(flight, *_detections(flight, [0.0, 72.0], 40e-6))
    assert one is not None and one > 0.0
    # the unscented transform of a covariance scaled by 4 is close to linear at these sizes
    assert two / one == pytest.approx(2.0, rel=0.05)
