"""Node keys: Ed25519 signing keys (RFC 8032) per node, a registry of partners' public keys, key files.

A node signs with one private key; partners know it by its *key id*, derived from the public key
itself (``<node>:<first 16 hex digits of SHA-256 of the 32-byte raw public key>``), so a key file
needs no metadata beyond the node name in its file name. Files are PEM: the private key as
unencrypted PKCS#8 (``<node>.key``, mode 0600), the public key as SubjectPublicKeyInfo (``<node>.pub``).
A node may hold several keys (rotation): ``north.pub``, ``north.2027.pub``… all load for ``north``.

Signing and verifying run in libsodium (PyNaCl): on the development machine its Ed25519 verify takes
~65 µs against ~150 µs for ``cryptography``/OpenSSL, sign ~33 µs against ~50 µs (``bench/bench_sharing.py
--crypto``). Key files are still read and written with ``cryptography`` (PEM, PKCS#8, SPKI); the raw
32-byte seed and public key are the same keys in both (RFC 8032 §5.1.5). libsodium is the stricter
verifier (it also refuses small-order public keys), which only ever turns a forgery into a rejection.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ..errors import ConfigError

NODE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"  # one NATS subject token: no dots, spaces or wildcards
KEY_ID_HEX_DIGITS = 16  # 64 bits of fingerprint: collisions among a handful of partner keys are negligible


def check_node_id(node_id: str, where: str = "node") -> str:
    """Return ``node_id`` if it is a valid node name (lower-case, digits, ``-``, ``_``), else ConfigError."""
    if not isinstance(node_id, str) or not re.match(NODE_ID_PATTERN, node_id):
        raise ConfigError(f"{where}: {node_id!r} is not a node id (lower-case letters, digits, '-', '_')")
    return node_id


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The 32-byte raw encoding of an Ed25519 public key (RFC 8032 §5.1.5)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_for(node_id: str, public_key: Ed25519PublicKey) -> str:
    """Key id ``<node>:<hex fingerprint>`` of ``public_key``."""
    digest = hashlib.sha256(raw_public_bytes(public_key)).hexdigest()
    return f"{node_id}:{digest[:KEY_ID_HEX_DIGITS]}"


def verify_key(public_key: Ed25519PublicKey) -> VerifyKey:
    """The libsodium verifier of ``public_key`` (same 32 raw bytes)."""
    return VerifyKey(raw_public_bytes(public_key))


def verify_signature(public_key: Ed25519PublicKey | VerifyKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` (64 bytes) is a valid Ed25519 signature of ``data`` by ``public_key``."""
    if len(signature) != 64:  # RFC 8032 §5.1.6: R (32) || S (32)
        return False
    try:
        (public_key if isinstance(public_key, VerifyKey) else verify_key(public_key)).verify(data, signature)
    except (BadSignatureError, InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Signer:
    """A node's private signing key with its node id and key id."""

    node_id: str
    private_key: Ed25519PrivateKey = field(repr=False)
    _nacl: SigningKey = field(init=False, repr=False, compare=False)
    _key_id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        object.__setattr__(self, "_nacl", SigningKey(seed))
        object.__setattr__(self, "_key_id", key_id_for(self.node_id, self.public_key))

    @classmethod
    def generate(cls, node_id: str) -> Signer:
        """A fresh key from the operating system's CSPRNG (keys are secrets, not simulation draws)."""
        return cls(check_node_id(node_id), Ed25519PrivateKey.generate())

    @classmethod
    def derived(cls, node_id: str, secret: bytes) -> Signer:
        """A key derived from ``secret`` (SHA-256 of the node id and the secret as the RFC 8032 seed).

        Only for simulated networks, where every node lives in one process and a rerun of the same
        simulation must release the same coarsening offsets (which derive from the signer); a real node's
        key comes from :meth:`generate` (``vigil keys generate``)."""
        node_id = check_node_id(node_id)
        seed = hashlib.sha256(b"vigil.simulated-node-key|" + node_id.encode() + b"|" + secret).digest()
        return cls(node_id, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return self._key_id

    def sign(self, data: bytes) -> bytes:
        """64-byte Ed25519 signature of ``data`` (libsodium; identical to OpenSSL's: Ed25519 is deterministic)."""
        return self._nacl.sign(data).signature


def write_key_files(signer: Signer, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<node>.key`` (PKCS#8 PEM, 0600) and ``<node>.pub`` (SPKI PEM); refuse to overwrite a key."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    key_path, pub_path = out_dir / f"{signer.node_id}.key", out_dir / f"{signer.node_id}.pub"
    for path in (key_path, pub_path):
        if path.exists():
            raise ConfigError(f"{path}: already exists; refusing to overwrite a key (remove it first)")
    private_pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    pub_path.write_bytes(
        signer.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key_path, pub_path


def node_of(path: Path) -> str:
    """Node id of a key file: its name up to the first dot (``north.2027.pub`` → ``north``)."""
    return check_node_id(Path(path).name.split(".")[0], str(path))


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM (SPKI) file; ConfigError naming the file otherwise."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError, TypeError) as err:
        raise ConfigError(f"{path}: cannot read a PEM public key ({type(err).__name__}: {err})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: the key is {type(key).__name__}, not an Ed25519 public key")
    return key


def load_signer(path: Path, node_id: str | None = None) -> Signer:
    """A :class:`Signer` from a PKCS#8 PEM private key file; the node id defaults to the file's name."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as err:
        raise ConfigError(f"{path}: cannot read a PEM private key ({type(err).__name__}: {err})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: the key is {type(key).__name__}, not an Ed25519 private key")
    return Signer(check_node_id(node_id, str(path)) if node_id else node_of(path), key)


class KeyRegistry:
    """Partners' public keys: node id → {key id → public key}. Lookups never raise."""

    def __init__(self) -> None:
        self._keys: dict[str, dict[str, Ed25519PublicKey]] = {}
        self._verifiers: dict[tuple[str, str], VerifyKey] = {}

    def add(self, node_id: str, public_key: Ed25519PublicKey) -> str:
        """Register ``public_key`` for ``node_id``; return its key id."""
        key_id = key_id_for(check_node_id(node_id), public_key)
        self._keys.setdefault(node_id, {})[key_id] = public_key
        self._verifiers[node_id, key_id] = verify_key(public_key)
        return key_id

    @classmethod
    def from_signers(cls, *signers: Signer) -> KeyRegistry:
        registry = cls()
        for signer in signers:
            registry.add(signer.node_id, signer.public_key)
        return registry

    @classmethod
    def load_dir(cls, directory: Path) -> KeyRegistry:
        """Every ``*.pub`` file of ``directory``, each for the node its file name starts with."""
        registry = cls()
        for path in sorted(Path(directory).glob("*.pub")):
            registry.add(node_of(path), load_public_key(path))
        return registry

    def knows(self, node_id: str) -> bool:
        return node_id in self._keys

    def public_key(self, node_id: str, key_id: str) -> Ed25519PublicKey | None:
        """The key ``key_id`` of ``node_id``, or None when either is unknown."""
        return self._keys.get(node_id, {}).get(key_id)

    def verifier(self, node_id: str, key_id: str) -> VerifyKey | None:
        """The libsodium verifier of key ``key_id`` of ``node_id`` (cached), or None when unknown."""
        return self._verifiers.get((node_id, key_id))
