"""``vigil serve RUN_DIR_OR_STORE_URL [--host H] [--port P] [--tokens TOKENS.yaml] [--replay SPEED]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.errors import ConfigError

from .bind import LOOPBACK, check_bind, format_banner

LIVE_SPEED = 10.0
"""Default speed (× real time) of a scenario served live."""


def serve(
    target: Annotated[
        str,
        typer.Argument(
            help="A run directory (vigil run / vigil demo), sqlite:///PATH or postgresql://…?schema=NAME of a node's store, "
            "or a scenario YAML to run live."
        ),
    ],
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind (loopback only without --tokens).")
    ] = LOOPBACK,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8080,
    tokens: Annotated[
        Path | None, typer.Option("--tokens", help="YAML file of bearer tokens per partner.")
    ] = None,
    replay: Annotated[
        float | None,
        typer.Option(
            "--replay",
            min=0.01,
            max=1e6,
            help="Replay the run's warnings (or run a scenario live) at this many times real time.",
        ),
    ] = None,
) -> None:
    """Serve the operators' console (REST API, SSE stream, offline 3-D globe) over a run or a node's store."""
    import uvicorn

    from .app import create_app
    from .feed import ReplayClock
    from .storesource import open_source
    from .tokens import load_tokens

    bind = check_bind(host, tokens)
    table = load_tokens(tokens) if tokens is not None else None
    if target.endswith((".yaml", ".yml")):
        if table is not None:
            raise ConfigError(
                "--tokens: live mode serves the whole scenario; per-partner views need a run "
                "directory (vigil run SCENARIO --out DIR, then vigil serve DIR --tokens ...)"
            )
        from .live import serve_scenario

        serve_scenario(target, port, replay if replay is not None else LIVE_SPEED, bind, option="--replay")
        return
    source = open_source(target)
    first = min((w["issued_s"] for w in source.view(None).warnings), default=0.0)
    clock = ReplayClock(replay, first) if replay is not None else ReplayClock()
    app, partners = create_app(source, table, clock), source.partners
    typer.echo(format_banner(bind, port, partners, table is not None))
    uvicorn.run(app, host=bind, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
