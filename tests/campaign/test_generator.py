"""The launch generator: a seed's draws are a pure function of the seed (the same in every variant and
worker), the drawn quantities follow the distributions asked for (Kolmogorov-Smirnov and chi-square tests
against the named laws, aimed flights landing at the drawn range), bad blocks are one line naming the key,
and a generated campaign on Dask matches a serial run bit for bit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from vigil.campaign import expand, load_campaign, run_campaign, write_outputs
from vigil.campaign.generator import draw_launches, draw_times, generator_rng
from vigil.campaign.pads import PADS
from vigil.errors import ConfigError
from vigil.frames import ecef_to_geodetic, great_circle_distance_m
from vigil.sim.engine import fly_launch

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"
SRBM = "notional-srbm-1stage"
P_MIN = 1e-3  # draws come from fixed seeds, so each p-value is a fixed number, not a flaky one


def _campaign(tmp_path: Path, generator: dict, **doc) -> Path:
    path = tmp_path / "c.yaml"
    body = {"scenario": str(DATA / "tiny.yaml"), "seeds": 3, "generator": generator} | doc
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def _generator(tmp_path: Path, **gen):
    base = {"count": 3, "sites": [{"pad": "baikonur"}], "vehicles": [{"vehicle": SRBM}]}
    return load_campaign(_campaign(tmp_path, base | gen)).generator


def test_a_seeds_draws_are_the_same_in_every_variant_and_differ_between_seeds(tmp_path):
    path = _campaign(
        tmp_path,
        yaml.safe_load((EXAMPLES / "generated.yaml").read_text())["generator"] | {"window_s": [10, 290]},
        variants=[{"name": "a"}, {"name": "b", "sensor": {"frame_s": 2.0}}],
    )
    tasks = expand(load_campaign(path))
    again = expand(load_campaign(path))  # a fresh load (a fresh worker) draws the same
    draws = [draw_launches(t.generator, t.seed) for t in tasks]
    assert draws == [draw_launches(t.generator, t.seed) for t in again]
    assert draws[:3] == draws[3:]  # variant b, seeds 0-2: common random numbers
    assert len({tuple(la.time_s for la in d[0]) for d in draws[:3]}) == 3
    # its own stream: not the simulation's default_rng(seed)
    assert generator_rng(0).random() != np.random.default_rng(0).random()


def test_uniform_window_times_pass_a_ks_test_and_count_is_exact(tmp_path):
    gen = _generator(tmp_path, count=5, window_s=[20.0, 260.0])
    times = [draw_times(gen, generator_rng(s)) for s in range(400)]
    assert {len(t) for t in times} == {5}
    assert all(np.all(np.diff(t) >= 0) for t in times)
    pooled = np.concatenate(times)
    assert pooled.min() >= 20.0 and pooled.max() < 260.0
    assert stats.kstest(pooled, stats.uniform(20.0, 240.0).cdf).pvalue > P_MIN
    # the test has power: the same draws fail it against a window shifted by 10 s (4 % of its length)
    assert stats.kstest(pooled, stats.uniform(30.0, 240.0).cdf).pvalue < P_MIN


def test_poisson_rate_counts_gaps_and_conditional_times(tmp_path):
    gen = _generator(tmp_path, count=None, rate_per_hour=90.0, window_s=[0.0, 240.0])  # λT = 6
    times = [draw_times(gen, generator_rng(s)) for s in range(2000)]
    counts = np.array([len(t) for t in times])
    assert abs(counts.mean() - 6.0) < 4 * math.sqrt(6.0 / counts.size)
    dispersion = ((counts - 6.0) ** 2).sum() / 6.0  # chi-square with n degrees of freedom for Poisson counts
    assert stats.chi2(counts.size).sf(dispersion) > P_MIN and stats.chi2(counts.size).cdf(dispersion) > P_MIN
    # the first arrival is exponential (mean 40 s), seen only when it falls inside the window
    first = np.array([t[0] for t in times if len(t)])
    assert (counts == 0).mean() == pytest.approx(
        math.exp(-6.0), abs=4 * math.sqrt(math.exp(-6.0) / counts.size)
    )
    expon = stats.expon(scale=40.0)
    assert stats.kstest(first, lambda x: expon.cdf(x) / expon.cdf(240.0)).pvalue > P_MIN
    # given their number, the arrival times of a Poisson process are uniform on the window
    assert stats.kstest(np.concatenate(times), stats.uniform(0.0, 240.0).cdf).pvalue > P_MIN


def test_sites_and_vehicles_follow_their_weights_and_restrictions(tmp_path):
    gen = _generator(
        tmp_path,
        count=8,
        sites=[{"pad": "plesetsk"}, {"name": "w", "lat_deg": 34, "lon_deg": 36, "weight": 3}],
        vehicles=[{"vehicle": SRBM, "weight": 2}, {"vehicle": "notional-icbm-3stage", "sites": ["plesetsk"]}],
    )
    rows = [r for s in range(300) for r in draw_launches(gen, s)[1]]
    vehicles = np.array([r["source"] == SRBM for r in rows])
    assert stats.binomtest(int(vehicles.sum()), len(rows), 2 / 3).pvalue > P_MIN
    srbm_sites = np.array([r["site"] == "w" for r in rows if r["source"] == SRBM])
    assert stats.binomtest(int(srbm_sites.sum()), srbm_sites.size, 3 / 4).pvalue > P_MIN
    assert {r["site"] for r in rows if r["source"] != SRBM} == {"plesetsk"}
    assert {(r["site_lat_deg"], r["site_lon_deg"]) for r in rows if r["site"] == "plesetsk"} == {
        PADS["plesetsk"]
    }


def test_azimuths_follow_the_site_or_the_generator_distribution(tmp_path):
    gen = _generator(
        tmp_path,
        count=6,
        azimuth_deg={"normal": {"mean": 350.0, "sd": 20.0}},
        sites=[{"pad": "kourou", "azimuth_deg": {"uniform": [80, 100]}}, {"pad": "baikonur"}],
    )
    rows = [r for s in range(300) for r in draw_launches(gen, s)[1]]
    kourou = np.array([r["azimuth_deg"] for r in rows if r["site"] == "kourou"])
    assert stats.kstest(kourou, stats.uniform(80.0, 20.0).cdf).pvalue > P_MIN
    baikonur = np.array([r["azimuth_deg"] for r in rows if r["site"] == "baikonur"])
    assert baikonur.min() >= 0.0 and baikonur.max() < 360.0  # wrapped
    unwrapped = (baikonur + 180.0) % 360.0 - 180.0  # around 0: N(-10, 20)
    assert stats.kstest(unwrapped, stats.norm(-10.0, 20.0).cdf).pvalue > P_MIN


def test_aimed_flights_land_at_the_drawn_range_and_replays_use_the_shipped_profiles(tmp_path):
    gen = _generator(
        tmp_path,
        count=4,
        vehicles=[{"vehicle": SRBM, "range_km": {"uniform": [300, 700]}}, {"telemetry": "falcon9/*"}],
    )
    launches, rows = draw_launches(gen, 5)
    aimed = [(la, r) for la, r in zip(launches, rows, strict=True) if r["range_km"] is not None]
    assert aimed and len(aimed) < 4
    for la, r in aimed:
        traj = fly_launch(la)
        lat, lon, _ = ecef_to_geodetic(traj.r_ecef_m[-1])
        flown_km = (
            great_circle_distance_m(math.radians(la.site_lat_deg), math.radians(la.site_lon_deg), lat, lon)
            / 1e3
        )
        assert flown_km == pytest.approx(
            r["range_km"], rel=2e-3
        )  # targeting lands within 1e-4 R + the last sample
    replays = [la for la, r in zip(launches, rows, strict=True) if r["range_km"] is None]
    assert all(la.telemetry is not None and la.telemetry.is_file() for la in replays)
    all_rows = [r for s in range(200) for r in draw_launches(gen, s)[1]]
    shipped = {f"falcon9/{p.stem}" for p in replays[0].telemetry.parent.glob("*.csv")}
    assert len(shipped) == 5 and {r["source"] for r in all_rows if r["range_km"] is None} == shipped


@pytest.mark.parametrize(
    ("gen", "expected"),
    [
        ({"count": 2, "rate_per_hour": 3}, "generator.count/rate_per_hour: give exactly one of them"),
        ({"sites": [{"pad": "atlantis"}]}, "generator.sites[0].pad: unknown pad 'atlantis'"),
        ({"sites": [{"lat_deg": 95, "lon_deg": 0}]}, "generator.sites[0].lat_deg: 95 is outside [-90, 90]"),
        ({"sites": [{"lat_deg": 5}]}, "generator.sites[0].lat_deg/lon_deg: give both"),
        ({"azimuth_deg": {"uniform": [10]}}, "generator.azimuth_deg.uniform: give [low, high]"),
        ({"azimuth_deg": {"gauss": 3}}, "generator.azimuth_deg: give a number"),
        (
            {"azimuth_deg": {"normal": {"mean": 0, "sd": -2}}},
            "generator.azimuth_deg.normal.sd: -2 is not above 0",
        ),
        (
            {"window_s": [100, 400]},
            "generator.window_s: [100, 400] is not an interval inside the scenario's [0, 300] s",
        ),
        ({"rate_per_hour": 1e6, "count": None}, "generator.rate_per_hour: 83333 launches expected"),
        ({"vehicles": [{"vehicle": "sputnik"}]}, "generator.vehicles[0].vehicle: unknown vehicle 'sputnik'"),
        (
            {"vehicles": [{"telemetry": "falcon9/nope"}]},
            "generator.vehicles[0].telemetry: no shipped profile",
        ),
        (
            {"vehicles": [{"vehicle": SRBM, "sites": ["kourou"]}]},
            "generator.vehicles[0].sites: no site 'kourou'",
        ),
        (
            {"vehicles": [{"vehicle": SRBM, "loft_deg": {"normal": {"mean": 30, "sd": 5}}}]},
            "generator.vehicles[0].loft_deg.normal: not allowed here",
        ),
        (
            {"vehicles": [{"vehicle": SRBM, "loft_deg": {"uniform": [10, 95]}}]},
            "generator.vehicles[0].loft_deg: [10, 95] is outside [0, 90]",
        ),
        (
            {"vehicles": [{"telemetry": "falcon9/*", "range_km": 500}]},
            "generator.vehicles[0].telemetry: a replay takes no",
        ),
        (
            {"vehicles": [{"vehicle": SRBM, "range_km": {"uniform": [300, 5000]}}]},
            "generator.vehicles[0].range_km: [300, 5000] km is outside what notional-srbm-1stage reaches",
        ),
        (
            {"vehicles": [{"vehicle": "notional-launcher-2stage", "range_km": 900}]},
            "generator.vehicles[0].range_km: only for ballistic vehicles",
        ),
        ({"vehicles": [{"vehicle": SRBM, "weight": True}]}, "generator.vehicles[0].weight"),
        ({"sitez": []}, "generator.sitez: unknown key"),
    ],
)
def test_bad_generator_is_one_line_naming_the_key(tmp_path, gen, expected):
    base = {"count": 2, "sites": [{"pad": "baikonur"}], "vehicles": [{"vehicle": SRBM}]}
    with pytest.raises(ConfigError) as err:
        load_campaign(_campaign(tmp_path, {k: v for k, v in (base | gen).items() if v is not None}))
    assert f"c.yaml: {expected}" in str(err.value) and "\n" not in str(err.value)


def test_generated_campaign_on_two_workers_matches_a_serial_run(tmp_path, results, serial_of):
    path = _campaign(
        tmp_path,
        {
            "rate_per_hour": 30,
            "window_s": [10, 200],
            "sites": [{"pad": "baikonur"}, {"name": "w", "lat_deg": 34.0, "lon_deg": 36.0}],
            "vehicles": [
                {"vehicle": SRBM, "range_km": {"uniform": [300, 600]}},
                {"vehicle": SRBM, "loft_deg": 25},
            ],
        },
        seeds=4,
    )
    campaign = load_campaign(path)
    serial = serial_of(campaign)
    out = tmp_path / "out"
    run = run_campaign(campaign, out, workers=2)
    write_outputs(campaign, out, report=False)
    got = results(campaign, out)
    assert (run.ran, run.failed) == (4, 0) and got["records"] == serial
    rows = got["tables"]["launches.parquet"]
    drawn = [dict(d, seed=r["seed"]) for r in serial.values() for d in r["launches"]]
    assert len(rows) == len(drawn) == sum(len(r["score"]["launches"]) for r in serial.values())
    assert [(r["seed"], r["id"], r["source"], r["time_s"], r["range_km"]) for r in rows] == [
        (d["seed"], d["id"], d["source"], d["time_s"], d["range_km"]) for d in drawn
    ]
    # the simulation flew the drawn launches: one scored launch per draw, in the same order
    for task in expand(campaign):
        launches, _ = draw_launches(task.generator, task.seed)
        assert [la.id for la in launches] == [x["id"] for x in serial[task.key]["score"]["launches"]]
