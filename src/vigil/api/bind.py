"""Where a console binds and what it says when it starts: shared by `vigil serve`, the live scenario console and
`vigil node --serve` (without bearer tokens a console serves everything, so it binds to loopback only)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from vigil.errors import ConfigError

LOOPBACK = "127.0.0.1"


def check_bind(host: str, tokens: Path | None) -> str:
    """The host to bind: without tokens only a loopback address is allowed (the whole run is served
    unauthenticated); ConfigError naming ``--host`` otherwise."""
    if tokens is not None:
        return host
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"--host {host}: without --tokens the console serves every record unauthenticated, "
            f"so it binds to a loopback address only (use --host {LOOPBACK} or give --tokens)"
        )
    return host


def format_banner(host: str, port: int, partners: list[str], tokens: bool) -> str:
    """What the server says when it starts: where to open it and who can see what."""
    url = f"http://{host}:{port}/"
    if tokens:
        return f"console at {url} (bearer tokens for {', '.join(partners)}; each sees its own node only)"
    return (
        f"console at {url} — no --tokens: bound to {host} only, the whole run is served without "
        f"authentication (nodes: {', '.join(partners) or 'none'})"
    )
