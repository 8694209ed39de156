"""A receiving node's ingest process: ``python -m vigil.sharing.ingest_worker --nats URL --db URL ...``.

Pulls from a durable JetStream consumer into a store until SIGTERM/SIGINT, then prints its counts as one
JSON line. ``--db`` is ``sqlite:///path`` (or ``sqlite://:memory:``) or a PostgreSQL URI / libpq string.
It may be killed at any moment: what it acked is stored, what it did not ack is delivered again.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import signal
import sys

from vigil.errors import VigilError
from vigil.sharing.bus_nats import DEFAULT_STREAM, NatsBus
from vigil.sharing.ingest import FETCH_BATCH, ingest
from vigil.sharing.store import Store


def open_store(url: str, schema: str = "public") -> Store:
    """``sqlite:///file.db`` / ``sqlite://:memory:`` → SqliteStore; anything else → PostgresStore."""
    if url.startswith("sqlite://"):
        from vigil.sharing.store_sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite://"))  # sqlite:///abs/path or sqlite://:memory:
    from vigil.sharing.store_postgres import PostgresStore

    return PostgresStore(url, schema=schema)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m vigil.sharing.ingest_worker", description=__doc__.splitlines()[0]
    )
    p.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS server URL")
    p.add_argument("--db", required=True, help="sqlite:///path or a PostgreSQL URI")
    p.add_argument("--schema", default="public", help="PostgreSQL schema holding the tables")
    p.add_argument("--stream", default=DEFAULT_STREAM, help="JetStream stream name")
    p.add_argument("--durable", required=True, help="durable consumer name")
    p.add_argument("--filter", default="vigil.share.>", help="subject filter of the consumer")
    p.add_argument("--ack-wait-s", type=float, default=30.0, help="seconds before an unacked message returns")
    p.add_argument("--batch", type=int, default=FETCH_BATCH, help="messages per fetch / transaction")
    return p


async def _main(args: argparse.Namespace) -> None:
    store = open_store(args.db, args.schema)
    bus = await NatsBus.connect(
        args.nats, stream=args.stream, ack_wait_s=args.ack_wait_s, create_stream=False
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        sub = await bus.subscribe(args.durable, args.filter)
        print("ready", flush=True)
        stats = await ingest(sub, store, stop_event=stop, batch=args.batch)
        print(json.dumps(dataclasses.asdict(stats)), flush=True)
    finally:
        await bus.close()
        store.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        asyncio.run(_main(args))
    except VigilError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
