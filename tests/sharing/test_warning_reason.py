"""A warning's class reason crosses the partner boundary: Warning → sharing record → signed release → receiver →
store → the partner's Warning, unchanged; a reason that is not one printable line is denied by the releaser and
rejected by the receiver, naming the field."""

from __future__ import annotations

import datetime as dt
import json

from vigil.sharing.conversions import posix_s, warning_from_record, warning_record
from vigil.sharing.envelope import canonical_bytes
from vigil.sharing.receiver import Accepted, Rejected
from vigil.sharing.releaser import Releaser
from vigil.sharing.store_sqlite import SqliteStore
from vigil.warning import Sources, Warning

from .policykit import NORTH, T0
from .test_receiver import AGREEMENT, good, make_receiver, resign


def _utc(posix: float) -> str:
    return dt.datetime.fromtimestamp(posix, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


EPOCH = _utc(T0 - 600.0)
ISSUED = _utc(T0 - 10.0)  # (a warning issued just before its release: not stale at the receiver)
RECEIVED = _utc(T0 + 1.0)
REASON = "within 1100 m/s of a circular orbit by 4.9 sigma after a burn over 360 s (14.9 sigma)"


def _warning(reason: str = REASON) -> Warning:
    return Warning(
        event_id="E0007",
        version=3,
        issued_at=ISSUED,
        class_="space_launch",
        launch_time_s=60.0,
        launch_time_sigma_s=1.0,
        launch_lat_deg=45.3,
        launch_lon_deg=63.3,
        launch_ellipse=(30.0, 3.0, 1.0),
        azimuth_deg=88.0,
        azimuth_sigma_deg=0.3,
        sources=Sources(("north-1", "north-2"), ("north",)),
        confidence=0.9,
        class_reason=reason,
    )


def test_the_reason_survives_signing_the_receiver_and_the_store() -> None:
    record = warning_record(_warning(), posix_s(EPOCH))
    assert record["class_reason"] == REASON
    released = Releaser(AGREEMENT, "north", NORTH).release("warning", record, T0)
    assert isinstance(released, list), released
    raw = canonical_bytes(released[0].model_dump())
    outcome = make_receiver().accept(raw)
    assert isinstance(outcome, Accepted), outcome
    store = SqliteStore()
    env = outcome.envelope
    assert store.put(env.msg_id, env.sender, env.recipient, env.record_type, env.created_at, raw.decode())
    payload = json.loads(store.get(env.msg_id).payload_json)["payload"]
    received = warning_from_record("north", payload, EPOCH, RECEIVED)
    assert received.class_reason == REASON and received.class_ == "space_launch"
    assert received.launch_lat_deg != 45.3  # (the precision clause did coarsen the position: 1 km cells)


def test_a_warning_without_a_reason_releases_none_and_receives_empty() -> None:
    record = warning_record(_warning(""), posix_s(EPOCH))
    assert "class_reason" not in record
    assert warning_from_record("north", record, EPOCH, RECEIVED).class_reason == ""


def test_a_reason_over_two_lines_is_denied_and_rejected_naming_the_field() -> None:
    record = warning_record(_warning(), posix_s(EPOCH)) | {"class_reason": "ballistic\nlaunch at 45.312345N"}
    denial = Releaser(AGREEMENT, "north", NORTH).release("warning", record, T0)
    assert denial.clause == "record" and "class_reason" in denial.reason
    env = good("warning", warning_record(_warning(), posix_s(EPOCH)))
    outcome = make_receiver().accept(resign(env, payload=env["payload"] | {"class_reason": "x" * 241}))
    assert isinstance(outcome, Rejected) and "class_reason" in outcome.reason
