"""Signed envelopes: one released record, its header, and an Ed25519 signature over canonical JSON.

Wire form: the RFC 8785 (JSON Canonicalization Scheme) serialisation of the envelope object, UTF-8.
The signature (RFC 8032 Ed25519, base64url without padding in ``sig``) covers the canonical form of the
whole envelope *without* ``sig``, so any change to header or payload breaks it, and the receiver checks
it against the bytes it re-canonicalises from what it parsed (whitespace or key order on the wire do
not matter; values do).

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
from typing import Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

from .bus import share_subject
from .keys import NODE_ID_PATTERN, Signer
from .records import RecordType

ENVELOPE_VERSION: Literal[1] = 1
MSG_ID_PATTERN = r"^[0-9a-f]{32}$"
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
SIGNATURE_BYTES = 64  # Ed25519, RFC 8032 §5.1.6


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
    payload: dict[str, Any]
    sig: str = ""

    @property
    def subject(self) -> str:
        """Bus subject ``vigil.share.<from>.<to>.<type>``."""
        return share_subject(self.sender, self.recipient, self.record_type)

    def unsigned(self) -> dict[str, Any]:
        """The envelope as a JSON object without ``sig``: what is signed."""
        return self.model_dump(exclude={"sig"})

    def to_bytes(self) -> bytes:
        """Wire form: canonical JSON (RFC 8785) of the whole envelope, UTF-8."""
        return canonical_bytes(self.model_dump())


def new_msg_id() -> str:
    """A random (uuid4) message id, 32 lower-case hex digits."""
    return uuid.uuid4().hex


def canonical_bytes(obj: Any) -> bytes:
    """RFC 8785 canonical JSON of ``obj``; raises ``rfc8785.CanonicalizationError`` (a ValueError) for NaN,
    infinities and integers beyond ±2**53 (not representable in JSON numbers)."""
    return rfc8785.dumps(obj)


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
    """A copy of ``envelope`` signed by ``signer`` (its ``key_id`` is set to the signer's)."""
    unsigned = envelope.model_copy(update={"key_id": signer.key_id, "sig": ""})
    return unsigned.model_copy(update={"sig": b64url(signer.sign(canonical_bytes(unsigned.unsigned())))})
