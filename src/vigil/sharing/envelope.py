"""Signed envelopes: released records of one type, their header, and an Ed25519 signature over canonical JSON.

Wire form: the RFC 8785 (JSON Canonicalization Scheme) serialisation of the envelope object, UTF-8.
The signature (RFC 8032 Ed25519, base64url without padding in ``sig``) covers the canonical form of the
whole envelope *without* ``sig``, so any change to header or payload breaks it. Because ``sig`` sorts
between ``sender`` and ``v`` (the last key), the wire form is the signed bytes with ``,"sig":"…"`` spliced
in before the final ``,"v":1}``: the sender canonicalises once (:func:`sign_envelope` keeps the wire
bytes) and the receiver verifies the signature over the received bytes with that member cut out
(:func:`split_signed`) and then parses *those* bytes, so what it uses is exactly what was signed. A wire
form that is not canonical (whitespace, key order) still verifies through the slower path that
re-canonicalises what was parsed.

An envelope carries either one record (``payload``) or a batch of records of its ``record_type``
(``records``, 1 to :data:`MAX_RECORDS` of them), signed once: the agreement is applied to every record
before batching, and the receiver checks every record (see docs/sharing.md, "Batch envelopes").

Header fields: ``v`` (format version), ``msg_id`` (uuid4, 32 hex digits), ``sender``, ``recipient``
(node ids), ``key_id`` (the sender's key, see :mod:`vigil.sharing.keys`), ``record_type``,
``created_at`` (UTC seconds since the UNIX epoch when the record was released under the agreement),
``release_at`` (created_at + the agreement's delay_s: not to be published before), ``payload``.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_serializer, model_validator

from .bus import share_subject
from .canonical import canonical_bytes
from .keys import NODE_ID_PATTERN, Signer
from .records import RecordType

ENVELOPE_VERSION: Literal[1] = 1
MSG_ID_PATTERN = r"^[0-9a-f]{32}$"
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
SIGNATURE_BYTES = 64  # Ed25519, RFC 8032 §5.1.6
MAX_RECORDS = 512  # records per batch envelope: 512 observations ≈ 230 kB, well under NATS's 1 MB max_payload
_TAIL = b',"v":1}'  # the canonical envelope's last member: "v" sorts after every other key
_SIGNED_TAIL = re.compile(rb',"sig":"([A-Za-z0-9_-]{1,200})","v":1}\Z')
__all__ = [
    "Envelope",
    "b64url",
    "b64url_decode",
    "canonical_bytes",
    "new_msg_id",
    "sign_envelope",
    "split_signed",
]


class Envelope(BaseModel):
    """A signed record in transit. ``sig`` is empty until :func:`sign_envelope`."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    v: Literal[1] = ENVELOPE_VERSION
    msg_id: str = Field(pattern=MSG_ID_PATTERN)
    sender: str = Field(pattern=NODE_ID_PATTERN)
    recipient: str = Field(pattern=NODE_ID_PATTERN)
    key_id: str = Field(min_length=1, max_length=200)
    record_type: RecordType
    created_at: float
    release_at: float
    payload: dict[str, Any] | None = None
    records: list[dict[str, Any]] | None = Field(None, min_length=1, max_length=MAX_RECORDS)
    sig: str = ""
    _wire: bytes | None = PrivateAttr(None)  # canonical bytes kept by sign_envelope; cleared by model_copy

    @model_validator(mode="after")
    def _one_body(self) -> Envelope:
        if (self.payload is None) == (self.records is None):
            raise ValueError(
                "carries either 'payload' (one record) or 'records' (a batch), exactly one of them"
            )
        return self

    @model_serializer(mode="wrap")
    def _without_absent_body(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        data.pop("records" if self.records is None else "payload", None)
        return data

    @property
    def subject(self) -> str:
        """Bus subject ``vigil.share.<from>.<to>.<type>``."""
        return share_subject(self.sender, self.recipient, self.record_type)

    @property
    def contents(self) -> list[dict[str, Any]]:
        """The records carried: ``[payload]`` or ``records``."""
        return [self.payload] if self.payload is not None else list(self.records or ())

    def unsigned(self) -> dict[str, Any]:
        """The envelope as a JSON object without ``sig``: what is signed."""
        return self.model_dump(exclude={"sig"})

    def to_bytes(self) -> bytes:
        """Wire form: canonical JSON (RFC 8785) of the whole envelope, UTF-8."""
        if self._wire is None:
            self._wire = canonical_bytes(self.model_dump())
        return self._wire

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Envelope:
        copy = super().model_copy(update=update, deep=deep)
        copy._wire = None  # a changed copy must not reuse the original's bytes
        return copy


def new_msg_id() -> str:
    """A random (uuid4) message id, 32 lower-case hex digits."""
    return uuid.uuid4().hex


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes | None:
    """Bytes of an unpadded base64url string, or None when it is not one.

    Only the canonical spelling is accepted: the last character's unused low bits must be zero, so one
    signature has one text (otherwise ``...A`` and ``...B`` could carry the same 64 bytes).
    """
    if not _B64URL.match(text):
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if b64url(data) == text else None


def sign_envelope(envelope: Envelope, signer: Signer) -> Envelope:
    """A copy of ``envelope`` signed by ``signer`` (its ``key_id`` is set to the signer's).

    Canonicalises once: the signed bytes, with the signature spliced in, are the wire form (kept for
    :meth:`Envelope.to_bytes`). Raises ValueError when the payload has no canonical form.
    """
    unsigned = envelope.model_copy(update={"key_id": signer.key_id, "sig": ""})
    body = canonical_bytes(unsigned.unsigned())
    sig = b64url(signer.sign(body))
    signed = unsigned.model_copy(update={"sig": sig})
    signed._wire = body[: -len(_TAIL)] + b',"sig":"' + sig.encode("ascii") + b'"' + _TAIL
    return signed


def split_signed(raw: bytes) -> tuple[bytes, str] | None:
    """``(signed bytes, sig)`` of a wire form that ends the canonical way (``,"sig":"…","v":1}``): the
    bytes with the ``sig`` member cut out, which is what the sender signed if the wire form is canonical.
    None when it does not end that way. Whatever it returns must still pass the signature check, and the
    caller must use the values parsed from the *signed bytes*, not from ``raw``."""
    match = _SIGNED_TAIL.search(raw)
    if match is None:
        return None
    return raw[: match.start()] + _TAIL, match.group(1).decode("ascii")
