"""A node's received detections that must not be fused: copies (echoed or relayed, re-gridded), rows naming
no sensor, rows older than the lag horizon — counted, audited, never double-counted in a fit.

East's node is driven tick by tick over the two-launch cut of the two-partner scenario, with north's detections
released to it (100 m, no delay) through the real releaser, bus, receiver and store. The hostile run adds what a
relaying partner could send: north echoes east's own detections back (under north's name: the receiver refuses a
record whose ``partner_id`` is not its signer), a third partner relays north's detections (re-gridded by its
own releaser), north re-sends some of its rows in a second envelope, sends some without a ``sensor_id``, and at
sends the rows of ten seconds of L1's ascent 130 s late (horizon 120 s; the reference never gets them). The
reference is the same node fed north's releases only: the hostile run's fits must be the reference's, bit for
bit, and every extra row accounted for.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np
import pytest
from testkit.cutscenario import cut_scenario

from vigil.sharing.agreement import parse_agreement
from vigil.sharing.audit import AuditLog, MemoryAuditSink
from vigil.sharing.bus import share_subject
from vigil.sharing.bus_memory import MemoryBus
from vigil.sharing.conversions import observation_records
from vigil.sharing.node import Node
from vigil.sharing.releaser import Releaser
from vigil.sharing.store_sqlite import SqliteStore
from vigil.sim import load_scenario, simulate

from .policykit import EAST, NORTH, THIRD, registry

PRECISION_M = 100.0
OLD_S = 130.0  # > FusionConfig.lag_horizon_s (120 s)
WITHHELD_S = (
    400.0,
    410.0,
)  # north's rows of these seconds (L1's ascent) are sent OLD_S late, or (reference) never


def _agreement(sender: str) -> object:
    return parse_agreement(
        {
            "name": f"{sender}-east",
            "parties": [sender, "east"],
            "valid_from": "2026-01-01T00:00:00Z",
            "valid_until": "2030-01-01T00:00:00Z",
            "directions": {
                f"{sender}->east": {
                    "types": ["observation"],
                    "region": "global",
                    "precision_m": PRECISION_M,
                    "delay_s": 0.0,
                }
            },
        }
    )


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("copies") / "cut.yaml"
    path.write_text(cut_scenario("two-partner-cut"))
    return simulate(load_scenario(path), np.random.default_rng(7))


def _drive(sim, tmp_path, hostile: bool) -> tuple[Node, list[dict], dict[str, int]]:
    """East's node over the cut; returns it, its audit entries and the extra rows sent by kind."""
    obs = sim.observations.sorted_by_time()
    epoch_s = dt.datetime.fromisoformat(sim.epoch.replace("Z", "+00:00")).timestamp()
    partner = obs.partner_id.astype(str)
    north, east = obs.take(partner == "north"), obs.take(partner == "east")
    withheld = (north.time_s >= WITHHELD_S[0]) & (north.time_s < WITHHELD_S[1])
    north, old_rows = north.take(~withheld), north.take(withheld)
    agreements = [_agreement("north"), _agreement("third")]
    sink = MemoryAuditSink()
    store = SqliteStore(tmp_path / f"east-{hostile}.db")
    bus = MemoryBus()
    node = Node("east", EAST, registry(), agreements, bus, store, sim.epoch, AuditLog(sink, EAST))
    senders = {
        "north": Releaser(agreements[0], "north", NORTH),
        "third": Releaser(agreements[1], "third", THIRD),
    }
    sent = {"echo": 0, "relay": 0, "resent": 0, "unnamed": 0, "old": 0}
    ticks = int(np.ceil(obs.time_s.max())) + 1

    async def run() -> None:
        await node.start()
        published = 0
        for k in range(ticks):
            now = epoch_s + k + 1.0
            node.advance(now)
            mine = east.take((east.time_s >= k) & (east.time_s < k + 1))
            node.observe(mine)
            theirs = observation_records(north.take((north.time_s >= k) & (north.time_s < k + 1)), epoch_s)
            out = {"north": list(theirs), "third": []}
            if hostile:
                echo = [r | {"partner_id": "north"} for r in observation_records(mine, epoch_s)]
                relay = [r | {"partner_id": "third"} for r in theirs[::3]]
                unnamed = [{key: v for key, v in r.items() if key != "sensor_id"} for r in theirs[1::7]]
                resent = theirs[2::5]
                old = observation_records(
                    old_rows.take((old_rows.time_s >= k - OLD_S) & (old_rows.time_s < k + 1 - OLD_S)), epoch_s
                )
                out["north"] += echo + unnamed + old
                out["third"] += relay
                for name, rows in (("echo", echo), ("relay", relay), ("unnamed", unnamed), ("old", old)):
                    sent[name] += len(rows)
                sent["resent"] += len(resent)
            for sender, records in out.items():
                if records:
                    envelopes, denied = senders[sender].release_many("observation", records, now, 64)
                    assert denied == []
                    if hostile and sender == "north" and resent:
                        envelopes += senders[sender].release_many("observation", resent, now, 64)[0]
                    for env in envelopes:
                        await bus.publish(
                            share_subject(sender, "east", "observation"), env.to_bytes(), env.msg_id
                        )
                        published += 1
            if published > node.counts.ingest.fetched:
                await node.receive(published)
            node.step()
        node.finish()
        await node.close()

    asyncio.run(run())
    store.close()
    return node, sink.entries, sent


def _rejections(entries: list[dict], kind: str) -> int:
    return sum(
        e["detail"]["detections"] for e in entries if e["kind"] == "rejection" and e["detail"]["kind"] == kind
    )


def test_copies_unnamed_and_too_late_rows_are_counted_audited_and_never_fused(sim, tmp_path) -> None:
    clean, clean_audit, _ = _drive(sim, tmp_path, hostile=False)
    node, audit, sent = _drive(sim, tmp_path, hostile=True)
    assert all(n > 0 for n in sent.values()), sent
    assert clean.counts.copies == clean.counts.unknown_sensor == clean.counts.too_late == 0
    assert (
        node.counts.rejected == {}
    )  # every hostile row was well formed and signed: only the node can catch it
    # echoes of east's own rows, a third partner's relays and second envelopes are copies; unnamed rows unknown
    assert node.counts.copies == sent["echo"] + sent["relay"] + sent["resent"]
    assert node.counts.unknown_sensor == sent["unnamed"]
    assert (
        node.counts.too_late == sent["old"]
    )  # past the horizon: out of the copy screen, refused by the engine
    assert _rejections(audit, "copy") == node.counts.copies
    assert _rejections(audit, "unknown_sensor") == node.counts.unknown_sensor
    assert _rejections(audit, "too_late") == node.counts.too_late
    assert (
        node.counts.fused_received == clean.counts.fused_received + sent["old"]
    )  # (handed to the engine: refused)

    # never double-counted: the shared engine's estimates are the clean run's, bit for bit
    def estimates(n: Node) -> list:
        return sorted(
            (e.launch.lat_rad, e.launch.lon_rad, e.launch.time_s, e.launch.n_detections)
            for e in n.shared.events
            if e.launch is not None
        )

    assert estimates(node) == estimates(clean) and len(estimates(clean)) >= 2
    assert [w.event_id for w in node.fused_warnings] == [w.event_id for w in clean.fused_warnings]
