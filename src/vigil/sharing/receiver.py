"""The receiver: verifies a partner's message before anything of it is used. Never raises for bad input.

Checks, in this order; the first that fails gives a :class:`Rejected` with its ``kind``:

==================  ================================================================================
size                ``oversize``: more than :data:`MAX_MESSAGE_BYTES`, before any parsing
bytes / JSON        ``encoding`` (not UTF-8), ``json`` (malformed), ``duplicate_key``, ``non_finite``
                    (NaN, ±Infinity, or a number that overflows a double), ``not_object``
envelope            ``missing_signature``, ``schema`` (fields, types, version; names the field)
sender and key      ``unknown_sender``, ``unknown_key`` (key id not registered for that sender)
signature           ``bad_signature``: not Ed25519 over the canonical form by that key (tampering,
                    another node's key, garbage)
recipient           ``wrong_recipient``
agreement           ``no_agreement``, ``not_yet_valid``, ``expired`` (judged at ``created_at``),
                    ``type_not_agreed``
payload and policy  ``field_not_released``, ``payload`` (invalid record), ``region``, ``precision``,
                    ``early_release`` (``release_at`` before ``created_at + delay_s``)
freshness           ``future`` (``release_at`` beyond now + skew), ``stale`` (older than ``max_age_s``)
replay              ``replay``: message id accepted before (this process, or ``seen_ids``);
                    ``redelivered`` (not audited): the bus delivers again a message already stored
==================  ================================================================================

Storage and the bus stay outside: ``on_accept`` is called with each accepted record before its id is
remembered (if it raises, e.g. the store is down, nothing is marked seen and the error propagates: that is
not bad input); ``seen_ids`` is anything with ``seen(message_id) -> bool`` (a
:class:`vigil.sharing.store.Store`, or :class:`MemorySeenIds`), and optionally
``seen_many(ids) -> set`` (one query per batch); ``audit`` gets a receipt or rejection entry.

:meth:`Receiver.accept_many` checks a fetched batch: every check above per message, then the replay
check for the whole batch at once (a second copy of an id inside the batch is a replay too, unless the bus
marks it as delivered again: see :meth:`Receiver.accept_many`). A batch
envelope (``records``) is accepted only if *every* record passes the payload and policy checks; the
reason of a rejection names the record (``records[3].los_ecef: …``).

The signature is checked over the received bytes with the ``sig`` member cut out when the wire form ends
the canonical way (:func:`vigil.sharing.envelope.split_signed`), and the envelope is then parsed from
those signed bytes, so nothing is used that was not signed; otherwise (or if that fails) over the
RFC 8785 form of what was parsed.

The bytes-to-object checks live in :mod:`vigil.sharing.message`, the payload, policy and freshness checks in
:mod:`vigil.sharing.policy_checks`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from .agreement import Agreement, Direction
from .audit import AuditLog
from .envelope import SIGNATURE_BYTES, Envelope, b64url_decode, canonical_bytes, split_signed
from .keys import KeyRegistry, verify_signature
from .message import MAX_MESSAGE_BYTES, Reject, parse_message
from .policy_checks import check_data_times, check_payload, check_time
from .records import describe_validation_error

DEFAULT_MAX_AGE_S = 300.0  # a release older than this is stale: warning data is worth seconds to minutes
DEFAULT_MAX_SKEW_S = 5.0  # tolerated clock difference between nodes (NTP keeps them within milliseconds)
MAX_REASON_CHARS = 300
_PRUNE_EVERY = 4096  # remembered ids between prunes of those that are stale anyway


class SeenIds(Protocol):
    def seen(self, message_id: str) -> bool: ...


class MemorySeenIds:
    """In-memory ``seen`` set; ``add`` marks an id (a store marks it by storing the record)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def seen(self, message_id: str) -> bool:
        return message_id in self.ids

    def seen_many(self, message_ids: Iterable[str]) -> set[str]:
        return self.ids.intersection(message_ids)

    def add(self, message_id: str) -> None:
        self.ids.add(message_id)


@dataclass(frozen=True)
class Accepted:
    """An accepted envelope; ``record`` is its (first) record, :attr:`records` all of them."""

    envelope: Envelope
    record: dict[str, Any]
    raw: bytes = field(repr=False)

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.envelope.contents


@dataclass(frozen=True)
class Rejected:
    kind: str
    reason: str
    msg_id: str | None = None
    sender: str | None = None


class Receiver:
    """Verifies messages addressed to ``node_id``; ``clock()`` gives UTC POSIX seconds."""

    def __init__(
        self,
        node_id: str,
        keys: KeyRegistry,
        agreements: Iterable[Agreement],
        seen_ids: SeenIds | None,
        clock: Callable[[], float],
        audit: AuditLog | None = None,
        on_accept: Callable[[Accepted], None] | None = None,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        max_skew_s: float = DEFAULT_MAX_SKEW_S,
    ) -> None:
        self.node_id, self.keys, self.agreements = node_id, keys, list(agreements)
        self.seen_ids, self.clock, self.audit, self.on_accept = seen_ids, clock, audit, on_accept
        self.max_age_s, self.max_skew_s = max_age_s, max_skew_s
        self._recent: dict[str, float] = {}  # msg id -> release_at, for ids accepted by this process

    def accept(self, raw: bytes) -> Accepted | Rejected:
        """Verify one message (bytes as they came off the bus)."""
        return self.accept_many([raw])[0]

    def accept_many(
        self,
        raws: Sequence[bytes],
        vet: Callable[[int, Accepted], bool] | None = None,
        redelivered: Sequence[bool] | None = None,
    ) -> list[Accepted | Rejected]:
        """Verify a batch of messages; outcomes in order. Replay is checked once for the batch.

        ``vet(index, accepted)``, if given, runs right after each acceptance (as a caller's own check
        after :meth:`accept` would): False means the caller does not use it, and its id is forgotten at
        once, so a later copy in the same batch is not taken for a replay.

        ``redelivered[i]`` says the bus delivers message ``i`` again (it was fetched before, e.g. by this
        node before it was killed, and not acknowledged). Such a delivery is judged again but not audited a
        second time when the audit log already holds the same outcome for the same bytes, and one whose
        record is already stored, or accepted earlier in the same batch, is ``Rejected("redelivered")`` (not
        used, not audited): the earlier delivery was stored and its receipt audited before the crash took its
        acknowledgement, or the bus's ack wait ran out while the batch was being fetched."""
        again = list(redelivered) if redelivered is not None else [False] * len(raws)
        outcomes: list[Accepted | Rejected] = []
        for raw, repeat in zip(raws, again, strict=True):
            obj: dict[str, Any] | None = None
            try:
                obj, signed = self._parse(raw)
                outcomes.append(self._verify(obj, raw, signed))
            except Reject as rej:
                outcomes.append(self._rejected(rej.kind, rej.reason, obj, raw, repeat))
            except (ValueError, TypeError, KeyError, ArithmeticError, RecursionError) as err:  # safety net
                outcomes.append(self._rejected("internal", f"{type(err).__name__}: {err}", obj, raw, repeat))
        return self._replay_checked(outcomes, vet, again)

    def _replay_checked(
        self,
        outcomes: list[Accepted | Rejected],
        vet: Callable[[int, Accepted], bool] | None,
        again: list[bool],
    ) -> list[Accepted | Rejected]:
        ids = [o.envelope.msg_id for o in outcomes if isinstance(o, Accepted)]
        stored = self._seen_many(ids) if ids else set()
        batch: set[str] = set()
        for i, outcome in enumerate(outcomes):
            if not isinstance(outcome, Accepted):
                continue
            env = outcome.envelope
            if again[i] and (env.msg_id in batch or env.msg_id in stored or env.msg_id in self._recent):
                # the bus's own second delivery (its ack wait ran out, even while this batch was being
                # fetched: then both copies come in one batch), not a partner's replay
                outcomes[i] = Rejected(
                    "redelivered", f"message id {env.msg_id} is stored already", env.msg_id, env.sender
                )
                continue
            if env.msg_id in self._recent or env.msg_id in stored or env.msg_id in batch:
                outcomes[i] = self._rejected(
                    "replay",
                    f"message id {env.msg_id} was received before",
                    {"msg_id": env.msg_id, "sender": env.sender},
                    outcome.raw,
                    again[i],
                )
                continue
            batch.add(env.msg_id)
            if self.on_accept is not None:
                self.on_accept(outcome)
            self._remember(env)
            sha = _sha(outcome.raw)
            if self.audit is not None and not (again[i] and self.audit.judged_as(sha) == "receipt"):
                self.audit.append(
                    "receipt",
                    {
                        "msg_id": env.msg_id,
                        "sender": env.sender,
                        "record_type": env.record_type,
                        "raw_sha256": sha,
                    },
                )
            if vet is not None and not vet(i, outcome):
                self.forget([env.msg_id])
                batch.discard(env.msg_id)
        return outcomes

    def _seen_many(self, ids: list[str]) -> set[str]:
        if self.seen_ids is None:
            return set()
        many = getattr(self.seen_ids, "seen_many", None)
        if many is not None:
            return set(many(ids))
        return {i for i in ids if self.seen_ids.seen(i)}

    def forget(self, msg_ids: Iterable[str]) -> None:
        """Unmark ids accepted by this process whose records were then NOT stored (the store commit failed),
        so that their redelivery is accepted again instead of being rejected as a replay."""
        for msg_id in msg_ids:
            self._recent.pop(msg_id, None)

    @staticmethod
    def _parse(raw: bytes) -> tuple[dict[str, Any], bytes | None]:
        """The envelope object and, when the wire form ends the canonical way, the signed bytes it was
        parsed from (``sig`` put back from the cut-out member); else ``(parse_message(raw), None)``."""
        split = split_signed(raw) if len(raw) <= MAX_MESSAGE_BYTES else None
        if split is not None:
            try:
                obj = parse_message(split[0])
            except Reject:
                obj = None  # report the error as found in the bytes that came
            if obj is not None and "sig" not in obj:
                obj["sig"] = split[1]
                return obj, split[0]
        return parse_message(raw), None

    def _verify(self, obj: dict[str, Any], raw: bytes, signed: bytes | None) -> Accepted:
        env = self._envelope(obj)
        self._check_signature(obj, env, signed)
        if env.recipient != self.node_id:
            raise Reject("wrong_recipient", f"addressed to {env.recipient!r}, this node is {self.node_id!r}")
        agreement, direction = self._direction(env)
        check_payload(env, direction)
        check_time(env, direction.delay_s, self.clock(), self.max_age_s, self.max_skew_s)
        check_data_times(env, agreement, direction.delay_s, self.clock(), self.max_age_s, self.max_skew_s)
        return Accepted(env, env.payload if env.payload is not None else env.contents[0], bytes(raw))

    @staticmethod
    def _envelope(obj: dict[str, Any]) -> Envelope:
        if "sig" not in obj:
            raise Reject("missing_signature", "envelope has no 'sig'")
        if "payload" not in obj and "records" not in obj:
            raise Reject("schema", "envelope.payload: Field required")
        try:
            return Envelope.model_validate(obj)
        except ValidationError as err:
            raise Reject("schema", describe_validation_error(err, "envelope")) from None

    def _check_signature(self, obj: dict[str, Any], env: Envelope, signed: bytes | None) -> None:
        if not self.keys.knows(env.sender):
            raise Reject("unknown_sender", f"no keys registered for sender {env.sender!r}")
        key = self.keys.verifier(env.sender, env.key_id)
        if key is None:
            raise Reject("unknown_key", f"key id {env.key_id[:80]!r} is not registered for {env.sender!r}")
        sig = b64url_decode(env.sig)
        if sig is None or len(sig) != SIGNATURE_BYTES:
            raise Reject("bad_signature", f"sig is not {SIGNATURE_BYTES} bytes of base64url")
        if signed is not None and verify_signature(key, sig, signed):
            return  # the bytes as received are what was signed (and what obj was parsed from)
        try:
            canonical = canonical_bytes({k: v for k, v in obj.items() if k != "sig"})
        except ValueError as err:  # integers beyond 2**53 have no canonical form
            raise Reject("schema", f"envelope: {err}") from None
        if canonical == signed or not verify_signature(key, sig, canonical):
            raise Reject(
                "bad_signature", f"signature does not verify with {env.key_id} over the canonical form"
            )

    def _direction(self, env: Envelope) -> tuple[Agreement, Direction]:
        pair = {env.sender, self.node_id}
        candidates = [a for a in self.agreements if set(a.parties) == pair]
        if not candidates:
            raise Reject("no_agreement", f"no agreement between {env.sender!r} and {self.node_id!r}")
        in_force = [a for a in candidates if a.validity_violation(env.created_at) is None]
        if not in_force:
            kind, reason = candidates[0].validity_violation(env.created_at)  # type: ignore[misc]
            raise Reject(kind, f"{reason}; message created at {env.created_at}")
        for agreement in in_force:
            direction = agreement.direction(env.sender, self.node_id)
            if direction is not None and env.record_type in direction.types:
                return agreement, direction
        raise Reject(
            "type_not_agreed",
            f"no agreement in force releases {env.record_type} records {env.sender}->{self.node_id}",
        )

    def _remember(self, env: Envelope) -> None:
        self._recent[env.msg_id] = env.release_at
        if len(self._recent) % _PRUNE_EVERY == 0:  # ids old enough to be rejected as stale need no memory
            horizon = self.clock() - self.max_age_s - self.max_skew_s
            self._recent = {k: t for k, t in self._recent.items() if t >= horizon}

    def _rejected(
        self, kind: str, reason: str, obj: dict[str, Any] | None, raw: bytes, redelivered: bool = False
    ) -> Rejected:
        """A Rejected and its audit entry (none for a redelivery the log already holds as rejected the same
        way); ``obj`` only lends its msg_id and sender."""
        reason = " ".join(reason.split())[:MAX_REASON_CHARS]
        msg_id = obj.get("msg_id") if obj is not None else None
        sender = obj.get("sender") if obj is not None else None
        rejected = Rejected(
            kind,
            reason,
            msg_id if isinstance(msg_id, str) else None,
            sender if isinstance(sender, str) else None,
        )
        sha = _sha(raw)
        if self.audit is not None and not (redelivered and self.audit.judged_as(sha) == kind):
            detail = {
                "kind": kind,
                "reason": reason,
                "raw_sha256": sha,
                "size": len(raw),
                "msg_id": (rejected.msg_id or "")[:64],
                "sender": (rejected.sender or "")[:64],
            }
            self.audit.append("rejection", detail)
        return rejected


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
