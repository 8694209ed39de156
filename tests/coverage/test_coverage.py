"""Coverage against analytic caps, an independent Skyfield brute force, and the reference access rule."""

from __future__ import annotations

import numpy as np
import pytest
from skyfield.api import EarthSatellite, load, wgs84
from testkit.orbits import constellation, geo, molniya

from vigil.coverage.analysis import Partner, compute_coverage
from vigil.coverage.grid import Grid
from vigil.coverage.kernel import access_counts
from vigil.frames import WGS84_A_M
from vigil.sensors.model import SensorModel
from vigil.timescale import parse_utc

START = parse_utc("2026-03-01T00:00:00Z")
GEO_RADIUS_M = 42_164_170.0  # (GM / ω²)^(1/3) for a sidereal day


def spherical_cap_fraction(
    min_elevation_deg: float, r_sat_m: float = GEO_RADIUS_M, r_earth_m: float = WGS84_A_M
):
    """Fraction of a sphere's area seen from radius ``r_sat_m`` above ``min_elevation_deg`` (Earth central angle)."""
    e = np.radians(min_elevation_deg)
    lam = np.arccos(r_earth_m * np.cos(e) / r_sat_m) - e
    return (1 - np.cos(lam)) / 2


@pytest.mark.parametrize(("min_el", "published"), [(0.0, 0.4245), (10.0, 0.3409)])
def test_one_geo_sees_its_spherical_cap(one_geo, min_el, published):
    assert spherical_cap_fraction(min_el) == pytest.approx(published, abs=5e-4)
    result = compute_coverage(
        [Partner("geo", one_geo, SensorModel(min_elevation_deg=min_el))],
        Grid.global_(1.0),
        START,
        3600.0,
        600.0,
    )
    assert abs(result.joint.mean_frac_1 - published) < 0.005
    assert result.joint.mean_frac_2 == 0.0
    assert result.partners["geo"].mean_frac_1 == result.joint.mean_frac_1


def test_grid_weights_are_exact_areas():
    grid = Grid.global_(3.0)
    lat, _ = grid.cell_lat_lon_rad()
    w = grid.weights()
    north_of_30 = w[lat > np.radians(30.0)].sum()
    assert north_of_30 == pytest.approx((1 - np.sin(np.radians(30.0))) / 2, rel=1e-12)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


def skyfield_fraction(sats, grid, times, min_el_deg):
    """Per-cell fractions seen by ≥1 and ≥2 satellites from Skyfield's topocentric altitudes."""
    ts = load.timescale(builtin=True)
    t = times.skyfield()
    lat, lon = grid.cell_lat_lon_rad()
    counts = np.zeros((len(lat), len(times)), int)
    for s in sats:
        earth_sat = EarthSatellite.from_satrec(s, ts)
        for i in range(len(lat)):
            topos = wgs84.latlon(np.degrees(lat[i]), np.degrees(lon[i]))
            alt, _, _ = (earth_sat - topos).at(t).altaz()
            counts[i] += alt.degrees >= min_el_deg
    return (counts >= 1).mean(axis=1), (counts >= 2).mean(axis=1)


def test_per_cell_fractions_match_skyfield_brute_force(mixed_geo_heo):
    grid = Grid.global_(15.0)
    step_s = 600.0
    result = compute_coverage(
        [Partner("m", mixed_geo_heo, SensorModel(min_elevation_deg=5.0))], grid, START, 86400.0, step_s
    )
    f1, f2 = skyfield_fraction(mixed_geo_heo.satrecs, grid, result.times, 5.0)
    one_step = 1.0 / len(result.times)
    assert np.max(np.abs(result.joint.frac_1.ravel() - f1)) <= one_step + 1e-12
    assert np.max(np.abs(result.joint.frac_2.ravel() - f2)) <= one_step + 1e-12
    assert 0.2 < result.joint.mean_frac_2 < result.joint.mean_frac_1 <= 1.0  # the geometry is not trivial


def test_kernel_matches_reference_access_rule():
    rng = np.random.default_rng(3)
    r_sat = rng.normal(size=(7, 5, 3))
    r_sat *= (rng.uniform(7e6, 5e7, size=(7, 5)) / np.linalg.norm(r_sat, axis=-1))[..., None]
    grid = Grid.global_(10.0, altitude_m=20_000.0)
    pts, up = grid.points_ecef_m()
    group = np.array([0, 0, 1, 1, 1])
    models = [
        SensorModel(min_elevation_deg=-3.0),
        SensorModel(min_elevation_deg=12.0, field_of_regard_deg=8.0),
    ]
    sin_e = np.array([m.sin_min_elevation for m in models])
    cos_for = np.array([m.cos_field_of_regard for m in models])
    n1, n2, gap, lead, tail = access_counts(r_sat, group, 2, pts, up, sin_e, cos_for)
    seen = np.stack(
        [models[g].sees(r_sat[:, n, None, :], pts[None], up[None]) for n, g in enumerate(group)], -1
    )
    for g, cols in enumerate([group == 0, group == 1, np.ones(5, bool)]):
        count = seen[..., cols].sum(-1)  # (T, P)
        assert np.array_equal(n1[g], (count >= 1).sum(0))
        assert np.array_equal(n2[g], (count >= 2).sum(0))
        unseen = count == 0
        assert np.array_equal(lead[g], np.where(unseen.all(0), 7, np.argmax(~unseen, axis=0)))
        assert np.array_equal(gap[g], [_longest_run(unseen[:, i]) for i in range(unseen.shape[1])])
        assert np.array_equal(tail[g], np.where(unseen.all(0), 7, np.argmax(~unseen[::-1], axis=0)))


def _longest_run(mask):
    best = run = 0
    for m in mask:
        run = run + 1 if m else 0
        best = max(best, run)
    return best


def test_chunked_gaps_equal_one_pass(monkeypatch, mixed_geo_heo):
    import vigil.coverage.analysis as analysis

    partners = [Partner("m", mixed_geo_heo, SensorModel(min_elevation_deg=20.0))]
    grid = Grid.global_(10.0)
    whole = compute_coverage(partners, grid, START, 86400.0, 300.0)
    monkeypatch.setattr(analysis, "TIME_CHUNK", 7)
    chunked = compute_coverage(partners, grid, START, 86400.0, 300.0)
    assert np.array_equal(whole.joint.longest_gap_s, chunked.joint.longest_gap_s)
    assert np.array_equal(whole.joint.frac_2, chunked.joint.frac_2)
    assert whole.joint.longest_gap_s.max() > 3600.0  # some cells do have gaps at 20° minimum elevation


def test_joint_is_at_least_each_partner_and_sharing_adds_stereo():
    north = constellation("north", [geo(1, -75.0), geo(2, 60.0)])
    east = constellation("east", [molniya(3, 0.0, 0.0), molniya(4, 180.0, 180.0)])
    sensor = SensorModel(min_elevation_deg=5.0)
    res = compute_coverage(
        [Partner("north", north, sensor), Partner("east", east, sensor)],
        Grid.global_(5.0),
        START,
        86400.0,
        900.0,
    )
    for maps in res.partners.values():
        assert np.all(res.joint.frac_1 >= maps.frac_1) and np.all(res.joint.frac_2 >= maps.frac_2)
    assert res.joint.mean_frac_2 > max(m.mean_frac_2 for m in res.partners.values()) + 0.05
