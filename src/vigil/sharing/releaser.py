"""The releaser: applies an agreement to a local record *before* anything leaves the node.

Steps, in order (each failing step is a :class:`Denial` naming the clause):
1. the agreement is in force at ``now_s`` (clause ``validity``) and releases ``record_type`` to the
   partner (clause ``types``);
2. strip every field the agreement cannot release (truth, internal ids; see :mod:`vigil.sharing.records`)
   and check what is left is a valid record (clause ``record``);
3. coarsen positions to ``precision_m`` (:mod:`vigil.sharing.precision`);
4. judge the *coarsened* record against the region (clause ``region``), so that sender and receiver
   decide on the very same numbers;
5. sign (Ed25519 over RFC 8785 canonical JSON) and queue until ``release_at = now_s + delay_s``;
   :meth:`Releaser.due` hands out the envelopes whose time has come, in release order.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from .agreement import Agreement, Direction
from .audit import AuditLog
from .envelope import Envelope, canonical_bytes, new_msg_id, sign_envelope
from .keys import Signer
from .precision import coarsen_record
from .records import RECORD_TYPES, released_fields, validate_record


@dataclass(frozen=True)
class Denial:
    """A record the agreement does not let out: ``clause`` (validity|types|record|region) and why."""

    clause: str
    reason: str


def _json_types(value: Any) -> Any:
    """Numpy scalars and arrays (as the simulator makes them) → plain Python JSON types."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _json_types(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_types(v) for v in value]
    return value


class Releaser:
    """Releases records from ``sender_id`` to the other party of ``agreement``.

    ``audit`` (optional) receives one ``release`` or ``denial`` entry per call; ``new_id`` makes message
    ids (uuid4 by default; inject a counter for reproducible tests).
    """

    def __init__(self, agreement: Agreement, sender_id: str, signer: Signer, audit: AuditLog | None = None,
                 new_id: Callable[[], str] = new_msg_id) -> None:
        if sender_id not in agreement.parties:
            raise ConfigError(f"releaser: {sender_id!r} is not a party to agreement {agreement.label}")
        if signer.node_id != sender_id:
            raise ConfigError(f"releaser: the signing key belongs to {signer.node_id!r}, not {sender_id!r}")
        self.agreement, self.sender_id, self.signer, self.audit = agreement, sender_id, signer, audit
        self.recipient = agreement.other(sender_id)
        self.direction: Direction | None = agreement.direction(sender_id, self.recipient)
        self._new_id = new_id
        self._queue: list[tuple[float, int, Envelope]] = []
        self._order = itertools.count()

    def release(self, record_type: str, record: dict[str, Any], now_s: float) -> list[Envelope] | Denial:
        """Filter, strip, coarsen, judge and sign one record at UTC POSIX time ``now_s`` (s).

        Returns the signed envelopes (one per recipient; one here), also queued for :meth:`due`, or a Denial.
        """
        outcome = self._apply(record_type, record, now_s)
        if isinstance(outcome, Denial):
            self._log("denial", {"recipient": self.recipient, "record_type": record_type,
                                 "clause": outcome.clause, "reason": outcome.reason})
            return outcome
        heapq.heappush(self._queue, (outcome.release_at, next(self._order), outcome))
        self._log("release", {"msg_id": outcome.msg_id, "recipient": self.recipient, "record_type": record_type,
                              "release_at": outcome.release_at,
                              "payload_sha256": hashlib.sha256(canonical_bytes(outcome.payload)).hexdigest()})
        return [outcome]

    def due(self, now_s: float) -> list[Envelope]:
        """Queued envelopes with ``release_at <= now_s``, removed from the queue, earliest first."""
        ready = []
        while self._queue and self._queue[0][0] <= now_s:
            ready.append(heapq.heappop(self._queue)[2])
        return ready

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _apply(self, record_type: str, record: dict[str, Any], now_s: float) -> Envelope | Denial:
        invalid = self.agreement.validity_violation(now_s)
        if invalid is not None:
            return Denial("validity", invalid[1])
        d = self.direction
        if record_type not in RECORD_TYPES:
            return Denial("types", f"{record_type!r} is not a record type ({', '.join(RECORD_TYPES)})")
        if d is None or record_type not in d.types:
            return Denial("types", f"{self.agreement.label} does not release {record_type} records "
                                   f"{self.sender_id}->{self.recipient}")
        if not isinstance(record, dict):
            return Denial("record", f"record is a {type(record).__name__}, not an object")
        allowed = released_fields(record_type)
        payload = {k: _json_types(v) for k, v in record.items() if k in allowed}
        reason = validate_record(record_type, payload)
        if reason is not None:
            return Denial("record", reason)
        try:
            payload = coarsen_record(record_type, payload, d.precision_m)
        except ValueError as err:
            return Denial("record", str(err))
        outside = d.region_violation(record_type, payload)
        if outside is not None:
            return Denial("region", outside)
        envelope = Envelope(msg_id=self._new_id(), sender=self.sender_id, recipient=self.recipient,
                            key_id=self.signer.key_id, record_type=record_type, created_at=float(now_s),
                            release_at=float(now_s) + d.delay_s, payload=payload)
        try:
            return sign_envelope(envelope, self.signer)
        except ValueError as err:  # rfc8785: a number JSON cannot carry exactly (e.g. an id beyond 2**53)
            return Denial("record", f"payload: {err}")

    def _log(self, kind: str, detail: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.append(kind, detail)
