"""The receiver: a corpus of bad messages, each rejected for its own reason, none losing the next good one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.sharing.audit import AuditLog, MemoryAuditSink, verify_entries
from vigil.sharing.envelope import b64url, canonical_bytes
from vigil.sharing.keys import Signer
from vigil.sharing.receiver import MAX_MESSAGE_BYTES, Accepted, MemorySeenIds, Receiver, Rejected
from vigil.sharing.releaser import Releaser

from .policykit import EAST, NORTH, T0, THIRD, agreement, box, observation, registry, track

ASIA = box(20, 20, 100, 70)
AGREEMENT = agreement(types=["observation", "track", "warning"], region=ASIA, precision_m=1000.0)
NOW = T0 + 1.0
TRACK_TIME_TEXT = f'"time":{int(T0 - 30)}'  # the track's time as canonical JSON writes it


def make_receiver(audit: AuditLog | None = None, seen: Any = None) -> Receiver:
    return Receiver(
        "east",
        registry(),
        [AGREEMENT],
        seen if seen is not None else MemorySeenIds(),
        clock=lambda: NOW,
        audit=audit,
    )


def good(kind: str = "track", payload: dict | None = None, at: float = T0) -> dict[str, Any]:
    """A valid envelope (as a dict) released by north to east."""
    record = payload if payload is not None else (track() if kind == "track" else observation())
    out = Releaser(AGREEMENT, "north", NORTH).release(kind, record, at)
    assert isinstance(out, list), out
    return out[0].model_dump()


def resign(env: dict[str, Any], signer: Signer = NORTH, **changes: Any) -> bytes:
    """``env`` with ``changes`` applied, signed again by ``signer`` (key id left as in ``env``)."""
    body = {k: v for k, v in (env | changes).items() if k != "sig"}
    return canonical_bytes(body | {"sig": b64url(signer.sign(canonical_bytes(body)))})


def with_payload(**changes: Any) -> bytes:
    env = good()
    return resign(env, payload=env["payload"] | changes)


def without(key: str) -> bytes:
    env = good()
    env.pop(key)
    return resign(env)


def tampered(path: tuple[str, ...], value: Any) -> bytes:
    env = good()
    target = env
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return canonical_bytes(env)


def text_with(old: str, new: str) -> bytes:
    text = canonical_bytes(good()).decode()
    assert old in text
    return text.replace(old, new, 1).encode()


STRANGER = Signer.generate("west")
NORTH_SPARE = Signer.generate("north")


def _obs_without_quantum() -> bytes:
    env = good("observation")
    env["payload"].pop("los_quantum_rad")
    return resign(env)


def _obs_not_unit() -> bytes:
    env = good("observation")
    env["payload"]["los_ecef"] = [x * 1.001 for x in env["payload"]["los_ecef"]]
    return resign(env)


BAD: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("oversize", lambda: b"{" + b" " * MAX_MESSAGE_BYTES + b"}", "oversize", "bytes > 1048576"),
    ("not utf-8", lambda: b"\xff\xfe{}", "encoding", "not UTF-8"),
    ("empty", lambda: b"", "json", "malformed JSON"),
    ("truncated json", lambda: canonical_bytes(good())[:-7], "json", "malformed JSON"),
    ("deeply nested", lambda: b"[" * 100_000 + b"]" * 100_000, "json", "nested too deeply"),
    ("duplicate key", lambda: text_with('"v":1', '"v":1,"v":1'), "duplicate_key", "'v' appears twice"),
    (
        "NaN literal",
        lambda: text_with(TRACK_TIME_TEXT, '"time":NaN'),
        "non_finite",
        "NaN is not a JSON number",
    ),
    ("Infinity literal", lambda: text_with(TRACK_TIME_TEXT, '"time":-Infinity'), "non_finite", "-Infinity"),
    (
        "overflowing number",
        lambda: text_with(TRACK_TIME_TEXT, '"time":1e400'),
        "non_finite",
        "overflows a double",
    ),
    ("top-level array", lambda: b"[1, 2]", "not_object", "top level is a list"),
    (
        "missing signature",
        lambda: canonical_bytes({k: v for k, v in good().items() if k != "sig"}),
        "missing_signature",
        "no 'sig'",
    ),
    ("missing msg_id", lambda: without("msg_id"), "schema", "envelope.msg_id: Field required"),
    ("missing payload", lambda: without("payload"), "schema", "envelope.payload: Field required"),
    ("wrong version", lambda: resign(good(), v=2), "schema", "envelope.v: Input should be 1"),
    ("extra header", lambda: resign(good(), hop=3), "schema", "envelope.hop: Extra inputs are not permitted"),
    ("bad msg_id", lambda: resign(good(), msg_id="x" * 32), "schema", "envelope.msg_id: String should match"),
    ("unknown type", lambda: resign(good(), record_type="rumour"), "schema", "envelope.record_type"),
    ("string time", lambda: resign(good(), created_at="now"), "schema", "envelope.created_at"),
    (
        "non-object payload",
        lambda: resign(good(), payload=[1, 2]),
        "schema",
        "envelope.payload: Input should be",
    ),
    (
        "integer beyond 2**53",
        lambda: text_with('"track_id":"T1"', '"track_id":1152921504606846976'),
        "schema",
        "exceeds safe integer",
    ),
    (
        "unknown sender",
        lambda: resign(good(), STRANGER, sender="west", key_id=STRANGER.key_id),
        "unknown_sender",
        "'west'",
    ),
    (
        "unknown key id",
        lambda: resign(good(), NORTH_SPARE, key_id=NORTH_SPARE.key_id),
        "unknown_key",
        "is not registered for 'north'",
    ),
    (
        "garbage signature",
        lambda: canonical_bytes(good() | {"sig": "not*base64"}),
        "bad_signature",
        "64 bytes",
    ),
    (
        "short signature",
        lambda: canonical_bytes(good() | {"sig": b64url(b"\0" * 63)}),
        "bad_signature",
        "64 bytes",
    ),
    ("signed by another node's key", lambda: resign(good(), THIRD), "bad_signature", "does not verify"),
    (
        "tampered payload",
        lambda: tampered(("payload", "pos_ecef_m"), [0.0, 0.0, 7e6]),
        "bad_signature",
        "does not verify",
    ),
    ("tampered header", lambda: tampered(("created_at",), T0 - 5), "bad_signature", "does not verify"),
    ("wrong recipient", lambda: resign(good(), recipient="third"), "wrong_recipient", "addressed to 'third'"),
    (
        "no agreement",
        lambda: resign(good(), THIRD, sender="third", key_id=THIRD.key_id),
        "no_agreement",
        "no agreement between 'third'",
    ),
    (
        "expired agreement",
        lambda: resign(good(), created_at=1_900_000_000.0, release_at=1_900_000_000.0),
        "expired",
        "expired at 2030-01-01",
    ),
    (
        "not yet valid agreement",
        lambda: resign(good(), created_at=1_700_000_000.0, release_at=1_700_000_000.0),
        "not_yet_valid",
        "valid from 2026-01-01",
    ),
    (
        "type not agreed",
        lambda: resign(good(), record_type="notification"),
        "type_not_agreed",
        "releases notification records",
    ),
    (
        "field not released",
        lambda: with_payload(truth_launch_id="L1"),
        "field_not_released",
        "payload.truth_launch_id",
    ),
    ("invalid record", lambda: with_payload(pos_ecef_m=[1.0, 2.0]), "payload", "payload.pos_ecef_m"),
    (
        "boolean coordinate",
        lambda: with_payload(pos_ecef_m=[True, 0.0, 0.0]),
        "payload",
        "payload.pos_ecef_m.0",
    ),
    ("line of sight not unit", _obs_not_unit, "payload", "payload.los_ecef: is not a unit vector"),
    (
        "region violation",
        lambda: with_payload(pos_ecef_m=[-4_000_000.0, 1_000_000.0, -3_000_000.0]),
        "region",
        "outside the agreed region",
    ),
    (
        "precision violation",
        lambda: with_payload(pos_ecef_m=[2_051_000.5, 4_078_000.0, 4_582_000.0]),
        "precision",
        "pos_ecef_m is finer than the 1000 m grid",
    ),
    ("no los quantum", _obs_without_quantum, "precision", "los_quantum_rad is missing"),
    ("released early", lambda: resign(good(), release_at=T0 - 1.0), "early_release", "delay is 0 s"),
    (
        "future timestamp",
        lambda: resign(good(), created_at=NOW + 60, release_at=NOW + 60),
        "future",
        "ahead of this node's clock",
    ),
    (
        "stale timestamp",
        lambda: resign(good(), created_at=NOW - 1000, release_at=NOW - 1000),
        "stale",
        "s old (limit 300 s)",
    ),
]


def test_corpus_has_at_least_25_distinct_rejections():
    assert len({(kind, reason) for _, _, kind, reason in BAD}) >= 25
    assert len({kind for _, _, kind, _ in BAD}) >= 22


@pytest.mark.parametrize(("name", "make", "kind", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_message_is_rejected_for_its_reason_and_the_next_good_one_is_accepted(name, make, kind, reason):
    sink = MemoryAuditSink()
    receiver = Receiver(
        "east",
        registry(),
        [AGREEMENT],
        MemorySeenIds(),
        clock=lambda: NOW,
        audit=AuditLog(sink, EAST, clock=lambda: NOW),
    )
    result = receiver.accept(make())
    assert isinstance(result, Rejected), name
    assert (result.kind, reason in result.reason) == (kind, True), result
    assert "\n" not in result.reason
    after = receiver.accept(canonical_bytes(good()))
    assert isinstance(after, Accepted), after
    assert [e["kind"] for e in sink.entries] == ["rejection", "receipt"]
    assert sink.entries[0]["detail"]["kind"] == kind
    assert verify_entries(sink.entries, EAST.public_key).ok


def test_replayed_message_is_rejected_even_when_the_store_has_not_seen_it_yet():
    receiver = make_receiver()
    raw = canonical_bytes(good())
    assert isinstance(receiver.accept(raw), Accepted)
    again = receiver.accept(raw)
    assert isinstance(again, Rejected) and again.kind == "replay"
    assert isinstance(receiver.accept(canonical_bytes(good())), Accepted)


def test_a_copy_the_bus_delivers_again_inside_one_batch_is_redelivered_not_a_replay():
    """Under load a pull fetch can outlast the bus's ack wait: the first message of the batch then comes again
    at its end, marked as delivered twice. It is the bus's copy, not a partner's replay: dropped unaudited.
    The same bytes in one batch *without* the mark are a replay, audited as such."""
    sink = MemoryAuditSink()
    receiver = make_receiver(audit=AuditLog(sink, EAST))
    raw, other = canonical_bytes(good()), canonical_bytes(good())
    first, fresh, copy = receiver.accept_many([raw, other, raw], redelivered=[False, False, True])
    assert isinstance(first, Accepted) and isinstance(fresh, Accepted)
    assert isinstance(copy, Rejected) and copy.kind == "redelivered"
    kinds = [e["kind"] for e in sink.entries]
    assert kinds == ["receipt", "receipt"]
    raw2 = canonical_bytes(good())
    _, replayed = receiver.accept_many([raw2, raw2], redelivered=[False, False])
    assert isinstance(replayed, Rejected) and replayed.kind == "replay"
    assert [e["kind"] for e in sink.entries] == ["receipt", "receipt", "receipt", "rejection"]


def test_replay_uses_the_injected_seen_ids_store():
    seen = MemorySeenIds()
    env = good()
    seen.add(env["msg_id"])
    result = make_receiver(seen=seen).accept(canonical_bytes(env))
    assert isinstance(result, Rejected) and result.kind == "replay"


def test_on_accept_failure_propagates_and_leaves_the_message_unseen():
    calls: list[str] = []

    def flaky_store(accepted: Accepted) -> None:
        calls.append(accepted.envelope.msg_id)
        if len(calls) == 1:
            raise OSError("disk full")

    receiver = Receiver(
        "east", registry(), [AGREEMENT], MemorySeenIds(), clock=lambda: NOW, on_accept=flaky_store
    )
    raw = canonical_bytes(good())
    with pytest.raises(OSError):
        receiver.accept(raw)
    assert isinstance(receiver.accept(raw), Accepted)  # redelivered after the failure: not a replay
    assert len(calls) == 2


def test_wire_whitespace_and_key_order_do_not_matter_values_do():
    env = good()
    pretty = json.dumps(dict(reversed(list(env.items()))), indent=2).encode()
    assert isinstance(make_receiver().accept(pretty), Accepted)


def test_key_rotation_old_and_new_keys_both_verify():
    new_north = Signer.generate("north")
    keys = registry()
    keys.add("north", new_north.public_key)
    receiver = Receiver("east", keys, [AGREEMENT], MemorySeenIds(), clock=lambda: NOW)
    fresh = Releaser(AGREEMENT, "north", new_north).release("track", track(), T0)
    assert isinstance(receiver.accept(fresh[0].to_bytes()), Accepted)
    assert isinstance(receiver.accept(canonical_bytes(good())), Accepted)


@given(st.binary(max_size=2000))
@settings(max_examples=300)
def test_arbitrary_bytes_never_raise(raw):
    result = make_receiver().accept(raw)
    assert isinstance(result, Rejected) and result.kind != "internal"


VALID = canonical_bytes(good())


@given(st.integers(0, len(VALID) - 1), st.integers(0, 255))
@settings(max_examples=400)
def test_any_single_byte_change_of_a_valid_message_is_rejected_without_raising(position, value):
    mutated = bytearray(VALID)
    if mutated[position] == value:
        return
    mutated[position] = value
    result = make_receiver().accept(bytes(mutated))
    # a change in JSON whitespace-free canonical bytes changes a value, a key or the syntax
    assert isinstance(result, Rejected) and result.kind != "internal", result


def test_a_second_spelling_of_the_same_signature_is_rejected():
    # 64 bytes take 86 base64url characters; the last one has 4 unused bits, flipping one keeps the bytes
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    env = good()
    env["sig"] = env["sig"][:-1] + alphabet[alphabet.index(env["sig"][-1]) ^ 1]
    result = make_receiver().accept(canonical_bytes(env))
    assert isinstance(result, Rejected) and result.kind == "bad_signature"
