"""A node's fetched batch → the rows to store: the receiver's verdicts, and the check that each accepted
envelope came on its own subject (``<root>.<sender>.<recipient>.<type>``); rejections are counted and
audited. Used by :meth:`vigil.sharing.node.Node.receive_batch` through
:func:`vigil.sharing.ingest.ingest_batch`."""

from __future__ import annotations

from collections.abc import Callable

from .audit import AuditLog
from .bus import Message, share_subject
from .node_counts import NodeCounts
from .receiver import Accepted, Receiver, Rejected
from .store import StoredRecord


def stored_rows(
    messages: list[Message],
    receiver: Receiver,
    subject_root: str,
    counts: NodeCounts,
    audit: AuditLog | None,
    accepted: list[Accepted],
) -> list[StoredRecord | None]:
    """Receiver on the whole fetched batch (one replay query): one row per message, None for one not to
    store (rejected, or not on its own subject); each envelope used is appended to ``accepted``."""
    misrouted: set[int] = set()
    on_its_subject = _subject_check(messages, subject_root, counts, audit, misrouted)
    out: list[StoredRecord | None] = []
    outcomes = receiver.accept_many(
        [m.data for m in messages], on_its_subject, [m.delivery > 1 for m in messages]
    )
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, Rejected):
            counts.rejected[outcome.kind] = counts.rejected.get(outcome.kind, 0) + 1
        if isinstance(outcome, Rejected) or i in misrouted:
            out.append(None)
            continue
        env = outcome.envelope
        accepted.append(outcome)
        out.append(
            StoredRecord(
                env.msg_id,
                env.sender,
                env.recipient,
                env.record_type,
                env.created_at,
                outcome.raw.decode("utf-8"),
            )
        )
    return out


def _subject_check(
    messages: list[Message],
    subject_root: str,
    counts: NodeCounts,
    audit: AuditLog | None,
    misrouted: set[int],
) -> Callable[[int, Accepted], bool]:
    """The receiver's ``vet``: False (counted, audited, index added to ``misrouted``) for an envelope that
    came on another subject than its own."""

    def on_its_subject(i: int, accepted: Accepted) -> bool:
        env, subject = accepted.envelope, messages[i].subject
        if subject == share_subject(env.sender, env.recipient, env.record_type, subject_root):
            return True
        misrouted.add(i)  # not used; the receiver forgets its id so a correctly addressed copy passes
        counts.rejected["subject"] = counts.rejected.get("subject", 0) + 1
        if audit is not None:
            audit.append(
                "rejection",
                {
                    "kind": "subject",
                    "msg_id": env.msg_id,
                    "sender": env.sender,
                    "reason": f"came on {subject[:120]!r}, not its own subject",
                },
            )
        return False

    return on_its_subject
