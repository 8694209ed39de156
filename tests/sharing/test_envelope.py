"""Envelopes and keys against published vectors (RFC 8785 §3.2.2, RFC 8032 §7.1), key files and the CLI."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vigil import cli
from vigil.errors import ConfigError
from vigil.sharing.envelope import Envelope, b64url, b64url_decode, canonical_bytes, sign_envelope
from vigil.sharing.keys import (
    KeyRegistry,
    Signer,
    key_id_for,
    load_public_key,
    load_signer,
    raw_public_bytes,
    verify_signature,
    write_key_files,
)

from .policykit import NORTH, T0


def test_canonical_json_matches_rfc8785_example():
    # RFC 8785 §3.2.2 input and §3.2.3 output
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_bytes(json.loads(source)) == expected.encode()


def test_ed25519_signature_matches_rfc8032_test_1():
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    signer = Signer("north", Ed25519PrivateKey.from_private_bytes(secret))
    assert raw_public_bytes(signer.public_key).hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert signer.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


def test_signed_envelope_verifies_and_any_change_breaks_it():
    env = sign_envelope(
        Envelope(
            msg_id="ab" * 16,
            sender="north",
            recipient="east",
            key_id="x",
            record_type="track",
            created_at=T0,
            release_at=T0,
            payload={"track_id": "T", "time": 1.0, "pos_ecef_m": [1.0, 2.0, 3.0]},
        ),
        NORTH,
    )
    assert env.key_id == NORTH.key_id and env.subject == "vigil.share.north.east.track"
    sig = b64url_decode(env.sig)
    assert len(sig) == 64 and verify_signature(NORTH.public_key, sig, canonical_bytes(env.unsigned()))
    changed = env.model_copy(update={"release_at": T0 + 1})
    assert not verify_signature(NORTH.public_key, sig, canonical_bytes(changed.unsigned()))
    assert json.loads(env.to_bytes()) == env.model_dump()


def test_b64url_round_trip_and_rejection():
    assert b64url_decode(b64url(b"\xff\x00\x10")) == b"\xff\x00\x10"
    assert b64url_decode("***") is None


def test_key_files_round_trip_refuse_overwrite_and_are_private(tmp_path):
    key_path, pub_path = write_key_files(NORTH, tmp_path)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    again = load_signer(key_path)
    assert again.key_id == NORTH.key_id == key_id_for("north", load_public_key(pub_path))
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        write_key_files(NORTH, tmp_path)
    (tmp_path / "north.2027.pub").write_bytes(pub_path.read_bytes())
    registry = KeyRegistry.load_dir(tmp_path)
    assert registry.knows("north") and registry.public_key("north", NORTH.key_id) is not None
    assert (
        registry.public_key("north", "north:0000") is None
        and registry.public_key("east", NORTH.key_id) is None
    )


def test_bad_key_files_are_one_line_errors(tmp_path):
    (tmp_path / "junk.pub").write_text("not a key")
    with pytest.raises(ConfigError, match="junk.pub: cannot read a PEM public key"):
        load_public_key(tmp_path / "junk.pub")
    with pytest.raises(ConfigError, match="'Bad Name' is not a node id"):
        Signer.generate("Bad Name")


def test_cli_keys_generate_writes_a_usable_pair(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_COMMAND_MODULES", ("vigil.sharing.commands",))
    monkeypatch.setattr(cli, "app", typer.Typer(name="vigil", no_args_is_help=True))
    assert cli.main(["keys", "generate", "--node", "east", "--out", str(tmp_path)]) == 0
    signer = load_signer(tmp_path / "east.key")
    assert capsys.readouterr().out.startswith(f"{signer.key_id}: private ")
    assert verify_signature(load_public_key(tmp_path / "east.pub"), signer.sign(b"m"), b"m")
    assert cli.main(["keys", "generate", "--node", "east", "--out", str(tmp_path)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


def test_only_the_canonical_base64url_spelling_decodes():
    text = b64url(bytes(range(64)))  # 86 characters: the last carries 2 data bits and 4 unused ones
    assert b64url_decode(text) == bytes(range(64))
    assert text[-1] == "w"  # 110000: data bits 11, unused 0000
    sloppy = text[:-1] + "x"  # 110001: same data bits
    assert base64.urlsafe_b64decode(sloppy + "==") == bytes(range(64))  # a lenient decoder accepts it
    assert b64url_decode(sloppy) is None
