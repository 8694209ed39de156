"""The releaser: applies an agreement to a local record *before* anything leaves the node.

Steps, in order (each failing step is a :class:`Denial` naming the clause):
1. the agreement is in force at ``now_s`` (clause ``validity``) and releases ``record_type`` to the
   partner (clause ``types``);
2. strip every field the agreement cannot release (truth, internal ids; see :mod:`vigil.sharing.records`)
   and check what is left is a valid record (clause ``record``);
3. coarsen every field that reveals position or range to ``precision_m`` (:mod:`vigil.sharing.precision`):
   positions, velocity and covariance, warning ellipses widened to hold the coarsening, an observation's
   SNR in whole decibels and its intensity estimate withheld; a track's or event's points are shifted by
   a secret offset drawn once per track or event (:meth:`Releaser.offset`) before snapping;
4. judge the *coarsened* record against the region (clause ``region``), so that sender and receiver
   decide on the very same numbers;
5. sign (Ed25519 over RFC 8785 canonical JSON) and queue until ``release_at = t + delay_s``, where ``t``
   is the latest of ``now_s`` and the records' own times (the delay runs from the data, not the send);
   :meth:`Releaser.due` hands out the envelopes whose time has come, in release order.

:meth:`Releaser.release_many` does the same for a batch of records of one type (steps 1–4 per record,
coarsening vectorised over the batch) and may pack up to ``per_envelope`` released records into one
envelope signed once; :meth:`Releaser.release` is the one-record case.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from ..errors import ConfigError
from .agreement import Agreement, Direction
from .audit import AuditLog
from .envelope import MAX_RECORDS, Envelope, canonical_bytes, new_msg_id, sign_envelope
from .keys import Signer
from .precision import coarsen_records
from .records import RECORD_TYPES, RecordType, data_time_s, released_fields, validate_record

# Records whose repeated releases get one offset: (offset name, id field). A node's track of an event carries the
# event's launch point under ``track_id`` = ``event_id``: both get the event's offset, so a partner that receives
# both holds one rounding of the point, not two independent ones to average.
_OFFSET_IDS = {"track": ("warning", "track_id"), "warning": ("warning", "event_id")}


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


def _body_digest(env: Envelope) -> dict[str, Any]:
    """What the audit keeps of a released body: SHA-256 of the canonical payload (or records list)."""
    if env.payload is not None:
        return {"payload_sha256": hashlib.sha256(canonical_bytes(env.payload)).hexdigest()}
    return {
        "records": len(env.records or ()),
        "records_sha256": hashlib.sha256(canonical_bytes(env.records)).hexdigest(),
    }


class Releaser:
    """Releases records from ``sender_id`` to the other party of ``agreement``.

    ``audit`` (optional) receives one ``denial`` entry per denied record and one ``release`` entry per
    envelope; ``new_id`` makes message ids (uuid4 by default; inject a counter for reproducible tests).
    """

    def __init__(
        self,
        agreement: Agreement,
        sender_id: str,
        signer: Signer,
        audit: AuditLog | None = None,
        new_id: Callable[[], str] = new_msg_id,
    ) -> None:
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
        self._offsets: dict[tuple[str, str], tuple[float, float, float]] = {}

    def offset(self, record_type: str, item_id: object) -> tuple[float, float, float]:
        """The secret offset (three fractions of a cell in [-0.5, 0.5)) of one track or event, the same for
        each of its releases: from this node's deterministic Ed25519 signature of the item's name, so that
        only the signer can compute it and a restarted node keeps it."""
        key = (record_type, str(item_id))
        if key not in self._offsets:
            digest = hashlib.sha256(
                self.signer.sign(f"vigil.coarsen-offset|{self.recipient}|{key}".encode())
            ).digest()
            fractions = (int.from_bytes(digest[8 * k : 8 * k + 8], "big") / 2.0**64 - 0.5 for k in range(3))
            self._offsets[key] = tuple(fractions)  # type: ignore[assignment]
        return self._offsets[key]

    def release(self, record_type: str, record: dict[str, Any], now_s: float) -> list[Envelope] | Denial:
        """Filter, strip, coarsen, judge and sign one record at UTC POSIX time ``now_s`` (s).

        Returns the signed envelopes (one per recipient; one here), also queued for :meth:`due`, or a Denial.
        """
        envelopes, denials = self.release_many(record_type, [record], now_s)
        return denials[0][1] if denials else envelopes

    def release_many(
        self, record_type: str, records: Sequence[dict[str, Any]], now_s: float, per_envelope: int = 1
    ) -> tuple[list[Envelope], list[tuple[int, Denial]]]:
        """:meth:`release` for a batch of records of one type at ``now_s`` (UTC POSIX s).

        Every record is judged on its own (denials are ``(index, Denial)`` pairs, each audited); the
        released ones are signed ``per_envelope`` at a time (1 ≤ per_envelope ≤ MAX_RECORDS), in order:
        a group of one goes out as a single-record envelope, larger ones as one batch envelope.
        """
        if not 1 <= per_envelope <= MAX_RECORDS:
            raise ConfigError(f"releaser: per_envelope {per_envelope} is not in 1..{MAX_RECORDS}")
        denials: list[tuple[int, Denial]] = []
        common = self._policy_denial(record_type, now_s)
        released: list[tuple[int, dict[str, Any]]] = []
        if common is not None:
            denials = [(i, common) for i in range(len(records))]
        else:
            released = self._judge(record_type, records, denials)
        envelopes: list[Envelope] = []
        for start in range(0, len(released), per_envelope):
            envelopes += self._sign_group(record_type, released[start : start + per_envelope], now_s, denials)
        denials.sort(key=lambda pair: pair[0])
        for _, denial in denials:
            self._log(
                "denial",
                {
                    "recipient": self.recipient,
                    "record_type": record_type,
                    "clause": denial.clause,
                    "reason": denial.reason,
                },
            )
        for env in envelopes:
            heapq.heappush(self._queue, (env.release_at, next(self._order), env))
            if self.audit is not None:
                self._log(
                    "release",
                    {
                        "msg_id": env.msg_id,
                        "recipient": self.recipient,
                        "record_type": record_type,
                        "release_at": env.release_at,
                        **_body_digest(env),
                    },
                )
        return envelopes, denials

    def due(self, now_s: float) -> list[Envelope]:
        """Queued envelopes with ``release_at <= now_s``, removed from the queue, earliest first."""
        ready = []
        while self._queue and self._queue[0][0] <= now_s:
            ready.append(heapq.heappop(self._queue)[2])
        return ready

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _policy_denial(self, record_type: str, now_s: float) -> Denial | None:
        invalid = self.agreement.validity_violation(now_s)
        if invalid is not None:
            return Denial("validity", invalid[1])
        d = self.direction
        if record_type not in RECORD_TYPES:
            return Denial("types", f"{record_type!r} is not a record type ({', '.join(RECORD_TYPES)})")
        if d is None or record_type not in d.types:
            return Denial(
                "types",
                f"{self.agreement.label} does not release {record_type} records "
                f"{self.sender_id}->{self.recipient}",
            )
        return None

    def _judge(
        self, record_type: str, records: Sequence[Any], denials: list[tuple[int, Denial]]
    ) -> list[tuple[int, dict[str, Any]]]:
        """Strip, validate, coarsen (one vectorised pass) and judge the region of each record."""
        d = self.direction
        assert d is not None  # _policy_denial passed
        allowed = released_fields(record_type)
        valid: list[tuple[int, dict[str, Any]]] = []
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                denials.append((i, Denial("record", f"record is a {type(record).__name__}, not an object")))
                continue
            payload = {k: _json_types(v) for k, v in record.items() if k in allowed}
            reason = validate_record(record_type, payload)
            if reason is not None:
                denials.append((i, Denial("record", reason)))
            else:
                valid.append((i, payload))
        named = _OFFSET_IDS.get(record_type)
        offsets = None if named is None else [self.offset(named[0], pl[named[1]]) for _, pl in valid]
        coarse = coarsen_records(record_type, [pl for _, pl in valid], d.precision_m, offsets)
        released = []
        for (i, _), coarsened in zip(valid, coarse, strict=True):
            if isinstance(coarsened, str):  # e.g. a sensor not above the ellipsoid
                denials.append((i, Denial("record", coarsened)))
                continue
            outside = d.region_violation(record_type, coarsened)
            if outside is None:
                released.append((i, coarsened))
            else:
                denials.append((i, Denial("region", outside)))
        return released

    def _sign_group(
        self,
        record_type: str,
        group: list[tuple[int, dict[str, Any]]],
        now_s: float,
        denials: list[tuple[int, Denial]],
    ) -> list[Envelope]:
        """One signed envelope for ``group`` (single-record form for one record); a record without a
        canonical form (e.g. an integer beyond 2**53) is denied on its own and the rest still go out."""
        d = self.direction
        assert d is not None
        body = {"payload": group[0][1]} if len(group) == 1 else {"records": [pl for _, pl in group]}
        data_times = [t for _, pl in group if (t := data_time_s(record_type, pl)) is not None]
        start_s = max([float(now_s), *data_times])
        envelope = Envelope(
            msg_id=self._new_id(),
            sender=self.sender_id,
            recipient=self.recipient,
            key_id=self.signer.key_id,
            record_type=cast(RecordType, record_type),
            created_at=float(now_s),
            release_at=start_s + d.delay_s,
            **body,
        )
        try:
            return [sign_envelope(envelope, self.signer)]
        except ValueError as err:  # a number JSON cannot carry exactly (e.g. an id beyond 2**53)
            if len(group) == 1:
                denials.append((group[0][0], Denial("record", f"payload: {err}")))
                return []
        return [env for one in group for env in self._sign_group(record_type, [one], now_s, denials)]

    def _log(self, kind: str, detail: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.append(kind, detail)
