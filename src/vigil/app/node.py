"""``vigil node``: one partner's node as a long-running service (the sharing layer's Node, its store, bus and
audit log, configured by a node YAML), with its console (``--serve``: the API layer's live globe) on top."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def node_command(
    config: Path = typer.Option(..., "--config", help="Node configuration YAML (see examples/nodes/)."),
    serve: int | None = typer.Option(
        None,
        "--serve",
        min=1,
        max=65535,
        help="Serve the node's console (API, SSE, globe) on 127.0.0.1:PORT.",
    ),
) -> None:
    """Run one partner's node until SIGTERM/SIGINT: own observations and partners' releases in, fusion,
    releases out, store, audit. Prints 'ready' once started and its counts as one JSON line at the end."""
    import asyncio
    import json
    import signal

    from ..fusion import FusionConfig
    from ..sharing.node_config import load_node_config, run_node

    cfg = load_node_config(config)
    console = None
    if serve is not None:
        from ..api.nodeserve import NodeConsole

        console = NodeConsole(serve)

    def ready(node: Any) -> None:
        if console is not None:
            typer.echo(console.start(node.node_id, node.epoch))
        typer.echo(f"ready: node {node.node_id}")

    async def main() -> dict:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        fusion = FusionConfig(tracks=True) if console else None  # served: the globe draws the tracks
        return await run_node(
            cfg, stop, ready=ready, fusion=fusion, on_warnings=console.publish if console else None
        )

    try:
        counts = asyncio.run(main())
    finally:
        if console is not None:
            console.stop()
    typer.echo(json.dumps(counts, sort_keys=True))


def register(app: typer.Typer) -> None:
    app.command("node")(node_command)
