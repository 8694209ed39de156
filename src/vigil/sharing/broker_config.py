"""nats-server authorization for the sharing network: one user per partner, least privilege.

All partners are users of ONE account (``SHARE``) that owns the JetStream stream, so a release from A to B
is a single stored message. What keeps partners apart is each user's publish/subscribe permissions:

- publish data only on ``<root>.<self>.>`` (a partner cannot publish as another);
- core-subscribe only to ``<root>.*.<self>.>`` and to its own inbox prefix ``_INBOX_<self>.>`` (replies to
  its requests and pull deliveries arrive there; the shared ``_INBOX.>`` would let it read others' replies);
- on the JetStream API, only what a pull consumer named ``node-<self>`` over ``<root>.*.<self>.>`` needs:
  ``INFO``, ``STREAM.INFO.<stream>``, ``CONSUMER.INFO/MSG.NEXT.<stream>.node-<self>``, and
  ``CONSUMER.CREATE.<stream>.node-<self>.<root>.*.<self>.>`` — the filter subject is part of the create
  subject (nats-server ≥ 2.9), so a partner cannot create a consumer over someone else's traffic — and
  ``$JS.ACK.<stream>.node-<self>.>`` for acks. No stream create/delete/purge, no other consumer.

The ``admin`` user (the operator) has every permission and creates the stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from vigil.errors import ConfigError
from vigil.sharing.bus import SUBJECT_ROOT, share_subject
from vigil.sharing.bus_nats import DEFAULT_STREAM

ACCOUNT = "SHARE"


def durable_name(partner: str) -> str:
    """The one durable consumer name a partner may use."""
    return f"node-{partner}"


def inbox_prefix(partner: str) -> str:
    """The inbox prefix a partner's client must connect with (``NatsBus.connect(inbox_prefix=...)``)."""
    return f"_INBOX_{partner}"


def partner_permissions(
    partner: str, stream: str = DEFAULT_STREAM, root: str = SUBJECT_ROOT
) -> dict[str, object]:
    """nats-server ``permissions`` block for ``partner`` (see the module docstring)."""
    share_subject(partner, partner, "x", root)  # validates the partner token
    durable = durable_name(partner)
    own_filter = f"{root}.*.{partner}.>"
    api = "$JS.API"
    return {
        "publish": {
            "allow": [
                f"{root}.{partner}.>",
                f"{api}.INFO",
                f"{api}.STREAM.INFO.{stream}",
                f"{api}.CONSUMER.INFO.{stream}.{durable}",
                f"{api}.CONSUMER.CREATE.{stream}.{durable}.{own_filter}",
                f"{api}.CONSUMER.MSG.NEXT.{stream}.{durable}",
                f"$JS.ACK.{stream}.{durable}.>",
            ]
        },
        "subscribe": {"allow": [own_filter, f"{inbox_prefix(partner)}.>"]},
    }


def nats_server_config(
    passwords: Mapping[str, str], admin_password: str, stream: str = DEFAULT_STREAM, root: str = SUBJECT_ROOT
) -> str:
    """The ``accounts`` section of a nats-server config: ``admin`` plus one user per partner.

    ``passwords`` maps partner id → password (plain text here; use bcrypt hashes from ``nats server
    passwd`` in production). JSON is valid nats-server config syntax, which keeps quoting exact.
    """
    if "admin" in passwords:
        raise ConfigError("nats config: 'admin' is reserved, not a partner id")
    users: list[dict[str, object]] = [{"user": "admin", "password": admin_password}]
    for partner, password in sorted(passwords.items()):
        users.append(
            {"user": partner, "password": password, "permissions": partner_permissions(partner, stream, root)}
        )
    accounts = {ACCOUNT: {"jetstream": "enabled", "users": users}}
    return f"accounts: {json.dumps(accounts, indent=2)}\n"
