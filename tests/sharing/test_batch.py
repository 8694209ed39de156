"""Throughput changes of the signed path: fast canonical JSON, the cut-out signature check, batch
envelopes (signed once, every record checked), batched replay checks, libsodium signatures."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import struct

import numpy as np
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.records import ObservationBatch
from vigil.sharing.bus_memory import MemoryBus
from vigil.sharing.canonical import canonical_bytes
from vigil.sharing.envelope import b64url, b64url_decode, split_signed
from vigil.sharing.keys import verify_signature
from vigil.sharing.node import Node
from vigil.sharing.receiver import Accepted, MemorySeenIds, Receiver, Rejected
from vigil.sharing.releaser import Releaser
from vigil.sharing.store import Store, StoredRecord
from vigil.sharing.store_sqlite import SqliteStore

from .policykit import EAST, NORTH, T0, agreement, observation, registry, track

AGREEMENT = agreement(types=["observation", "track"], precision_m=1000.0)
NOW = T0 + 1.0

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_tree = st.recursive(
    json_leaf,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
    max_leaves=20,
)


@given(json_tree)
@settings(max_examples=400)
def test_fast_canonical_json_equals_the_rfc8785_package(tree):
    assert canonical_bytes(tree) == rfc8785.dumps(tree)


def test_fast_canonical_numbers_match_ecmascript_at_the_notation_boundaries():
    # ECMA-262 Number::toString switches to exponent form at 1e21 and below 1e-6; doubles above 2**53
    # print their shortest digits padded with zeros (RFC 8785 §3.2.2.3, Appendix B examples)
    cases = {
        1e21: "1e+21",
        1e20: "100000000000000000000",
        1e-7: "1e-7",
        1e-6: "0.000001",
        -0.0: "0",
        2.0**53: "9007199254740992",
        9.2e18: "9200000000000000000",
        5e-324: "5e-324",
        1.7976931348623157e308: "1.7976931348623157e+308",
        333333333.33333329: "333333333.3333333",
    }
    for x, text in cases.items():
        assert canonical_bytes(x) == text.encode(), x
    for bits in range(0, 2**64, 2**64 // 5000 + 7919):  # a sweep through the whole double range
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if math.isfinite(x):
            assert canonical_bytes(x) == rfc8785.dumps(x), x


def receiver(seen: MemorySeenIds | None = None) -> Receiver:
    return Receiver("east", registry(), [AGREEMENT], seen or MemorySeenIds(), clock=lambda: NOW)


def batch_of(n: int, per_envelope: int) -> list:
    records = [observation(obs_id=i, target=(45.0 + 0.01 * i, 63.3)) for i in range(n)]
    envs, denials = Releaser(AGREEMENT, "north", NORTH).release_many("observation", records, T0, per_envelope)
    assert not denials
    return envs


def test_release_many_packs_records_and_every_record_equals_its_single_release():
    envs = batch_of(10, 4)
    assert [len(e.contents) for e in envs] == [4, 4, 2] and envs[0].payload is None
    singles = [
        Releaser(AGREEMENT, "north", NORTH)
        .release("observation", observation(obs_id=i, target=(45.0 + 0.01 * i, 63.3)), T0)[0]
        .payload
        for i in range(10)
    ]
    assert [r for e in envs for r in e.contents] == singles  # vectorised coarsening == one at a time
    out = receiver().accept_many([e.to_bytes() for e in envs])
    assert all(isinstance(o, Accepted) for o in out) and sum(len(o.records) for o in out) == 10


def test_wire_form_is_the_signed_bytes_with_the_signature_spliced_in():
    env = batch_of(3, 3)[0]
    raw = env.to_bytes()
    assert raw == rfc8785.dumps(env.model_dump())
    signed, sig = split_signed(raw)
    assert signed == rfc8785.dumps(env.unsigned()) and sig == env.sig
    assert verify_signature(NORTH.public_key, b64url_decode(sig), signed)
    assert not verify_signature(NORTH.public_key, b64url_decode(sig)[:63], signed)  # 63 bytes: no signature


def test_changing_any_record_of_a_batch_breaks_the_signature():
    env = batch_of(3, 3)[0].model_dump()
    env["records"][2]["snr"] += 1.0
    result = receiver().accept(rfc8785.dumps(env))
    assert isinstance(result, Rejected) and result.kind == "bad_signature"


def test_a_member_smuggled_next_to_the_cut_out_signature_is_not_accepted():
    raw = batch_of(2, 2)[0].to_bytes()
    sig = json.loads(raw)["sig"]
    forged = raw.replace(b'"records":[{', b'"records":[{"sig":"' + sig.encode() + b'",', 1)
    result = receiver().accept(forged)
    assert isinstance(result, Rejected) and result.kind == "bad_signature"


def test_non_canonical_wire_form_still_verifies():
    env = batch_of(2, 2)[0].model_dump()
    spaced = json.dumps(env, indent=1).encode()  # same values, other bytes: the slow path re-canonicalises
    assert isinstance(receiver().accept(spaced), Accepted)


def test_one_bad_record_signed_into_a_batch_rejects_the_batch_and_names_it():
    env = batch_of(3, 3)[0].model_dump()
    env["records"][1]["sensor_pos_ecef_m"][0] += 1.0  # off the 1 km grid: finer than agreed
    body = {k: v for k, v in env.items() if k != "sig"}
    raw = rfc8785.dumps(body | {"sig": b64url(NORTH.sign(rfc8785.dumps(body)))})
    result = receiver().accept(raw)
    assert (
        isinstance(result, Rejected) and result.kind == "precision" and result.reason.startswith("records[1]")
    )


def test_replays_are_found_in_one_batch_query_and_inside_the_batch():
    first, second = batch_of(2, 1)
    seen = MemorySeenIds()
    seen.add(first.msg_id)
    out = receiver(seen).accept_many([first.to_bytes(), second.to_bytes(), second.to_bytes()])
    assert [o.kind if isinstance(o, Rejected) else "ok" for o in out] == ["replay", "ok", "replay"]


def test_sql_store_seen_many_answers_like_seen(store: Store):
    ids = [f"{i:032x}" for i in range(1200)]  # more than one IN (...) chunk
    store.put_many([_stored(i) for i in ids[::3]])
    assert store.seen_many(ids + ids[:5]) == {i for i in ids if store.seen(i)} == set(ids[::3])


def _stored(msg_id: str) -> StoredRecord:
    return StoredRecord(msg_id, "north", "east", "track", T0, "{}")


def test_node_sends_batches_and_the_partner_fuses_every_record():
    epoch = dt.datetime.fromtimestamp(T0 - 100.0, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    n = 10
    recs = [observation(obs_id=i, target=(45.0 + 0.01 * i, 63.3)) for i in range(n)]
    batch = ObservationBatch(
        epoch,
        _a([r["obs_id"] for r in recs], int),
        _a(["north-1"] * n, object),
        _a(["north"] * n, object),
        _a([90.0 + 0.1 * i for i in range(n)]),
        _a([r["sensor_pos_ecef_m"] for r in recs]),
        _a([r["los_ecef"] for r in recs]),
        _a([2e-5] * n),
        _a([9.0] * n),
        _a([1e6] * n),
        _a(list(range(n)), int),
    )

    async def run() -> tuple[Node, Node]:
        bus = MemoryBus()
        north = Node(
            "north", NORTH, registry(), [AGREEMENT], bus, SqliteStore(":memory:"), epoch, batch_records=4
        )
        east = Node("east", EAST, registry(), [AGREEMENT], bus, SqliteStore(":memory:"), epoch)
        for node in (north, east):
            node.advance(T0)
        await east.start()
        assert north.observe(batch) == 3
        await north.publish_due()
        await east.receive(expected=3)
        east.step()
        return north, east

    north, east = asyncio.run(run())
    assert north.counts.released == n and north.counts.published == 3
    assert (
        east.counts.received == n and east.counts.received_messages == 3 and east.counts.fused_received == n
    )


def _a(values, dtype=float):
    return np.array(values, dtype=dtype)


def test_track_records_batch_too():
    envs, denials = Releaser(AGREEMENT, "north", NORTH).release_many(
        "track", [track(), track(lat=46.0)], T0, 8
    )
    assert not denials and len(envs) == 1
    assert isinstance(receiver().accept(envs[0].to_bytes()), Accepted)
