"""The fused sigma-point propagation of the impact predictor, and the event's cached sources, against the code
they replace (bit for bit)."""

import numpy as np
from fusion_truth import boost_truth

from vigil.frames import ecef_to_geodetic
from vigil.fusion.coast.impact import (
    ImpactPrediction,
    UnscentedImpactPredictor,
    _propagate_sigma,
    _ut_root,
    ellipse_from_cov,
    propagate_to_ground,
    sigma_points,
)
from vigil.fusion.events.event import FusedEvent, _sources
from vigil.fusion.strings.sensorstring import SensorString
from vigil.warning.records import Sources


def _reference_predict(t_s, r, v, cov6, containment=0.95, kappa=1.0):
    """``UnscentedImpactPredictor.predict`` as it was: sigma points stacked, then split and propagated."""
    pts, w = sigma_points(np.concatenate([r, v]), np.asarray(cov6), kappa)
    tof, hit = propagate_to_ground(pts[:, :3], pts[:, 3:])
    if not np.all(np.isfinite(tof)):
        return None
    mean = w @ hit
    lat, lon, _ = ecef_to_geodetic(mean)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    east, north = np.array([-so, co, 0.0]), np.array([-sl * co, -sl * so, cl])
    d = hit - mean
    en = np.stack([d @ east, d @ north], -1)
    cov_en = (w[:, None] * en).T @ en
    t_mean = float(w @ tof)
    t_sigma = float(np.sqrt(max(w @ (tof - t_mean) ** 2, 0.0)))
    return ImpactPrediction(
        t_s + t_mean,
        t_sigma,
        float(lat),
        float(lon),
        ellipse_from_cov(cov_en, containment),
        containment,
        cov_en,
    )


def _cases():
    tr = boost_truth()
    rng = np.random.default_rng(4)
    for k in range(12):
        a = rng.normal(size=(6, 6)) * np.array([300.0] * 3 + [8.0] * 3)
        cov = a @ a.T
        if k == 3:  # indefinite: the eigenvalue-clipping root
            vals, vecs = np.linalg.eigh(cov)
            cov = (vecs * np.where(np.arange(6) == 0, -1e3, vals)) @ vecs.T
        speed = [1.0, 1.0, 0.7, 1.3, 3.0][k % 5]  # 3.0: never lands
        yield tr.burnout_time_s, tr.r[-1] + rng.normal(scale=1e3, size=3), tr.v[-1] * speed, cov


def test_fused_sigma_propagation_is_sigma_points_then_propagate_to_ground():
    for _, r, v, cov in _cases():
        x = np.concatenate([r, v])
        pts, _ = sigma_points(x, cov)
        tof, hit = propagate_to_ground(pts[:, :3], pts[:, 3:])
        tof2, hit2, landed = _propagate_sigma(x, _ut_root(cov, 1.0), 8.0, 3.0 * 3600.0)
        assert np.array_equal(tof, tof2, equal_nan=True) and np.array_equal(hit, hit2, equal_nan=True)
        assert landed == bool(np.all(np.isfinite(tof)))


def test_predict_is_the_unfused_prediction_bit_for_bit():
    predictor = UnscentedImpactPredictor()
    outcomes = set()
    for t, r, v, cov in _cases():
        new, ref = predictor.predict(t, r, v, cov), _reference_predict(t, r, v, cov)
        outcomes.add(ref is None)
        if ref is None:
            assert new is None
            continue
        for name in ("time_s", "time_sigma_s", "lat_rad", "lon_rad", "ellipse", "containment"):
            assert repr(getattr(new, name)) == repr(getattr(ref, name))
        assert np.array_equal(new.cov_en_m2, ref.cov_en_m2)
    assert outcomes == {True, False}


def test_event_sources_follow_its_strings():
    event = FusedEvent("E1", strings=[SensorString(1, "geo-b", "p1"), SensorString(2, "geo-a", "p1")])
    sources, n = _sources(event)
    assert sources == Sources(("geo-a", "geo-b"), ("p1",)) and n == 2
    assert _sources(event)[0] is sources  # same strings: the same object
    event.strings.append(SensorString(3, "geo-a", "p1"))  # a new string of a known sensor: equal, so the same
    assert _sources(event) == (sources, 2) and _sources(event)[0] is sources
    event.strings[0] = SensorString(4, "heo-1", "p2")  # another sensor in place of one (same length)
    assert _sources(event) == (Sources(("geo-a", "heo-1"), ("p1", "p2")), 2)
    event.strings.append(SensorString(5, "geo-b", "p1"))
    assert _sources(event)[1] == 3
