"""Per-partner NATS users: a partner reads only what is addressed to it and publishes only as itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from vigil.errors import ServiceError
from vigil.sharing.broker_config import durable_name, inbox_prefix, nats_server_config
from vigil.sharing.bus import share_subject
from vigil.sharing.bus_nats import NatsBus
from vigil.sharing.local_services import LocalNats

PASSWORDS = {"A": "pw-a", "B": "pw-b", "C": "pw-c"}
DENIAL_RETRY_S = 1.0  # a denied request is seen within one request timeout; don't retry longer


async def _partner(url: str, partner: str) -> NatsBus:
    return await NatsBus.connect(
        url,
        user=partner,
        password=PASSWORDS[partner],
        inbox_prefix=inbox_prefix(partner),
        create_stream=False,
        retry_s=DENIAL_RETRY_S,
    )


async def _scenario(url: str) -> None:
    admin = await NatsBus.connect(url, user="admin", password="pw-admin")  # creates the stream
    a, b = await _partner(url, "A"), await _partner(url, "B")

    # B tries, before it has any consumer, to read A->C traffic: core subscription, JetStream consumer.
    with pytest.raises(
        ServiceError, match='(?i)permissions violation for subscription to "vigil.share.a.c.>"'
    ):
        await b.subscribe_core("vigil.share.A.C.>")
    with pytest.raises(
        ServiceError,
        match=r"(?i)permissions violation for publish to .*consumer\.create\.vigil_share\.node-b"
        r"\.vigil\.share\.a\.c",
    ):
        await b.subscribe(durable_name("B"), "vigil.share.A.C.>")  # a JetStream consumer over A→C
    with pytest.raises(
        ServiceError, match=r"(?i)permissions violation for publish to .*consumer\.info\.vigil_share\.node-c"
    ):
        await b.subscribe(durable_name("C"), "vigil.share.*.C.>")  # C's own consumer
    await a.publish(share_subject("A", "B", "track"), b"from A to B", "a-1")
    await a.publish(share_subject("A", "C", "track"), b"from A to C", "a-2")
    sub = await b.subscribe(durable_name("B"), "vigil.share.*.B.>")  # the one consumer B may have
    got = await sub.fetch(10, 5.0)
    assert [(m.subject, m.data) for m in got] == [("vigil.share.A.B.track", b"from A to B")]
    await got[0].ack()

    with pytest.raises(
        ServiceError, match='(?i)permissions violation for publish to "vigil.share.a.b.track"'
    ):
        await b.publish(share_subject("A", "B", "track"), b"forged by B", "b-forged")

    info = await admin._js.stream_info(admin.stream)
    assert info.state.messages == 2  # the forged message never reached the stream
    for bus in (a, b, admin):
        await bus.close()


def test_partner_cannot_read_others_traffic_nor_publish_as_another(tmp_path: Path) -> None:
    server = LocalNats(tmp_path / "nats", config=nats_server_config(PASSWORDS, "pw-admin")).start()
    try:
        asyncio.run(_scenario(server.url))
    finally:
        server.stop()


def test_wrong_password_is_refused(tmp_path: Path) -> None:
    server = LocalNats(tmp_path / "nats", config=nats_server_config(PASSWORDS, "pw-admin")).start()
    try:
        with pytest.raises(ServiceError, match="cannot connect"):
            asyncio.run(NatsBus.connect(server.url, user="B", password="wrong", create_stream=False))
    finally:
        server.stop()
