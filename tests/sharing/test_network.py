"""Multi-partner runs: every partner's node in one process on a real bus, and the value of sharing.

The scenario is a cut of examples/scenarios/two-partner.yaml: the ICBM L1, which of east's four HEO
satellites only east-2 sees (so east alone has one line of sight, a mono event at best), and the SRBM SR1,
which two east satellites see. Which sensors see what is the simulator's truth (its summary), independent
of the nodes, the bus and the fusion under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from testkit.cutscenario import cut_scenario

from vigil.errors import ConfigError
from vigil.scoring import score
from vigil.scoring.bounds import simulation_bounds
from vigil.sharing.agreement import parse_agreement
from vigil.sharing.audit import verify
from vigil.sharing.network import run_network, sharing_summary
from vigil.sharing.results import NetworkResult
from vigil.sharing.store_sqlite import SqliteStore
from vigil.sim import SimulationResult, load_scenario, simulate

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = cut_scenario("two-partner-cut")
OBSERVATIONS_BOTH_WAYS = parse_agreement(
    {
        "name": "observations-both-ways",
        "parties": ["north", "east"],
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2030-01-01T00:00:00Z",
        "directions": {
            d: {"types": ["observation", "warning"], "region": "global", "precision_m": 100.0}
            for d in ("north->east", "east->north")
        },
    }
)
SHIPPED = ROOT / "examples" / "agreements" / "north-east.yaml"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    path = tmp_path_factory.mktemp("scenario") / "cut.yaml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    return scenario, simulate(scenario, np.random.default_rng(7))


def east_sensors_seeing(sim: SimulationResult, launch: str) -> set[str]:
    row = next(la for la in sim.summary["launches"] if la["id"] == launch)
    return {s for s in row["detections_per_sensor"] if s.startswith("east")}


def check_accounting(result: NetworkResult) -> None:
    """Nothing lost, nothing invented: what one node released, the other received and stored."""
    north, east = result.partners["north"].counts, result.partners["east"].counts
    assert north.published == east.received == east.ingest.stored and north.published > 0
    assert east.published == north.received == north.ingest.stored
    assert north.rejected == {} and east.rejected == {}


@pytest.mark.parametrize("services", ["memory+sqlite", "nats+postgres"])
def test_sharing_observations_lets_the_heo_partner_triangulate_and_never_loses_a_launch(
    world: tuple, services: str, request: pytest.FixtureRequest
) -> None:
    scenario, sim = world
    assert east_sensors_seeing(sim, "L1") == {"east-2"}  # truth: east alone has one line of sight on L1
    assert len(east_sensors_seeing(sim, "SR1")) >= 2
    if services == "memory+sqlite":
        bus, db = "memory://", "sqlite://"
    else:
        bus = request.getfixturevalue("nats_url")
        db = "postgresql://" + _uri(request.getfixturevalue("pg_dsn"))
    result = run_network(scenario, simulation=sim, agreements=[OBSERVATIONS_BOTH_WAYS], bus=bus, db=db)
    check_accounting(result)
    summary = sharing_summary(result)
    for pid in ("north", "east"):
        alone, shared = summary["partners"][pid]["alone"], summary["partners"][pid]["shared"]
        assert set(alone["seen_ids"]) <= set(shared["seen_ids"])
        assert shared["events_seen"] >= alone["events_seen"]
    east = summary["partners"]["east"]
    assert "L1" in east["gained_triangulation"]  # north's lines of sight give east a second viewpoint
    assert east["shared"]["triangulated"] == 2
    assert east["shared"]["launch_error_km"] < east["alone"]["launch_error_km"]
    assert result.partners["east"].counts.fused_received > 0


def _uri(dsn: str) -> str:
    """``host=H port=P user=U dbname=D`` → ``U@H:P/D``."""
    kv = dict(part.split("=", 1) for part in dsn.split())
    return f"{kv['user']}@{kv['host']}:{kv['port']}/{kv['dbname']}"


def test_shipped_agreement_delays_east_observations_and_gives_east_norths_warnings(
    world: tuple, tmp_path: Path
) -> None:
    scenario, sim = world
    result = run_network(
        scenario,
        simulation=sim,
        agreements=[SHIPPED],
        db=f"sqlite:///{tmp_path}",
        workdir=tmp_path,
        keep=True,
    )
    check_accounting(result)
    with SqliteStore(tmp_path / "north.db") as north_store:
        obs = [r for r in north_store.iter_records("observation")]
    assert obs, "east released detections in the central-Asia box (L1 is inside it)"
    for rec in obs:
        env = json.loads(rec.payload_json)
        assert env["release_at"] - env["created_at"] == pytest.approx(30.0)  # delay_s of east->north
    east = result.partners["east"]
    assert east.received and all(w.event_id.startswith("north:") for w in east.received)
    summary = sharing_summary(result)["partners"]["east"]
    assert summary["shared"]["first_warning_latency_s"] <= summary["alone"]["first_warning_latency_s"]
    for part in result.partners.values():  # each node's audit log is an intact chain signed by its key
        check = verify(part.audit_path, part.public_key)
        assert check.ok and check.head == part.audit_head
        kinds = {json.loads(line)["kind"] for line in part.audit_path.read_text().splitlines()}
        assert {"release", "receipt"} <= kinds


def test_run_network_rejects_an_unknown_bus_or_db(world: tuple) -> None:
    scenario, sim = world
    with pytest.raises(ConfigError, match="bus 'kafka://x'"):
        run_network(scenario, simulation=sim, agreements=[SHIPPED], bus="kafka://x")
    with pytest.raises(ConfigError, match="db 'mysql://x'"):
        run_network(scenario, simulation=sim, agreements=[SHIPPED], db="mysql://x")


def test_sharing_summary_shape_for_score_json(world: tuple) -> None:
    scenario, sim = world
    result = run_network(scenario, simulation=sim, agreements=[])
    summary = sharing_summary(result)
    assert summary["launches"] == 2 and set(summary["partners"]) == {"north", "east"}
    for part in summary["partners"].values():
        assert part["alone"] == part["shared"]  # no agreement: nothing flows, sharing changes nothing
        assert part["messages"]["published"] == 0 and part["gained"] == []
        assert set(part["alone"]) == {
            "events_seen",
            "triangulated",
            "first_warning_latency_s",
            "first_triangulated_latency_s",
            "launch_error_km",
            "launch_error_crlb",
            "azimuth_error_deg",
            "impact_error_km",
            "seen_ids",
        }
    # the error columns are the scoring's (vigil.scoring.score of the same warnings, with the joint bounds)
    bounds = simulation_bounds(sim)
    for pid, part in summary["partners"].items():
        rows = score(result.partners[pid].alone, sim.truth, {}, sim.epoch, bounds)["launches"]
        for key in ("launch_error_km", "azimuth_error_deg", "impact_error_km"):
            values = [r[key] for r in rows if r[key] is not None]
            assert part["alone"][key] == pytest.approx(float(np.median(values)) if values else None), (
                pid,
                key,
            )
        ratios = [
            r["launch_error_km"] / r["launch_crlb_km"] for r in rows if r["launch_error_km"] is not None
        ]
        assert part["alone"]["launch_error_crlb"] == pytest.approx(float(np.median(ratios)))
