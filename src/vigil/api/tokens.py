"""Bearer tokens of ``vigil serve``: which partner each token speaks for.

The file is YAML, validated like every other Vigil file (unknown keys are errors)::

    tokens:
      - {partner: north, token: "n-3f6c…"}   # at least 16 characters
      - {partner: east,  token: "e-91ab…"}

A token belongs to exactly one partner; the API shows a token only that partner's node: its own records
and what agreements released to it (:mod:`vigil.api.source`). Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vigil.config import read_yaml, validation_message
from vigil.errors import ConfigError

MIN_TOKEN_CHARS = 16
"""Shortest accepted token: short secrets are guessable over a network."""


class TokenEntry(BaseModel):
    """One token and the partner (node id) it speaks for."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    partner: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    token: str = Field(min_length=MIN_TOKEN_CHARS, max_length=256, pattern=r"^[\x21-\x7e]+$")


class TokenFile(BaseModel):
    """The whole file: a non-empty list of distinct tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tokens: list[TokenEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> TokenFile:
        seen: set[str] = set()
        for i, entry in enumerate(self.tokens):
            if entry.token in seen:
                raise ValueError(f"tokens[{i}].token: the same token is given twice")
            seen.add(entry.token)
        return self


class TokenTable:
    """Token → partner, with a constant-time lookup (no early exit on the first differing byte)."""

    def __init__(self, entries: list[TokenEntry]) -> None:
        self._entries = [(e.token.encode(), e.partner) for e in entries]

    @property
    def partners(self) -> list[str]:
        """The partners that have at least one token, sorted."""
        return sorted({p for _, p in self._entries})

    def partner_of(self, token: str) -> str | None:
        """The partner whose token this is, or ``None``."""
        probe = token.encode("utf-8", "replace")
        found = None
        for secret, partner in self._entries:
            if hmac.compare_digest(secret, probe):
                found = partner
        return found


def parse_tokens(data: object, source: str = "tokens") -> TokenTable:
    """A :class:`TokenTable` from a parsed YAML document; ConfigError naming the key otherwise."""
    try:
        return TokenTable(TokenFile.model_validate(data).tokens)
    except ValidationError as err:
        raise ConfigError(validation_message(source, err)) from None


def load_tokens(path: str | Path) -> TokenTable:
    """Read and validate a tokens file (module docstring)."""
    return parse_tokens(read_yaml(path, "tokens file"), str(path))
