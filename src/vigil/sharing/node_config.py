"""``vigil node --config NODE.yaml``: the node configuration file and the live loop of one node.

Example (``examples/nodes/north.yaml``; relative paths are relative to the file)::

    node: north
    key: keys/north.key                  # PKCS#8 PEM (vigil keys generate --node north --out keys)
    partner_keys: keys                   # every *.pub there, node = file name up to the first dot
    agreements: [../agreements/north-east.yaml]
    bus: {url: "nats://127.0.0.1:4222", user: north, password: "…"}   # or url: memory://
    db: sqlite:///north.db               # relative to this file (sqlite:////abs.db), or postgresql://…
    audit_log: north-audit.jsonl
    observations: {path: out/observations.parquet, replay_epoch: start}   # rows of partner_id north
    warnings_out: north-warnings.jsonl

Live means wall-clock time: the recorded observations are replayed as if their epoch were
``replay_epoch`` (an ISO 8601 UTC instant, or ``start``: when the node starts, less ``skip_s`` seconds of the
recording, which are not replayed), each chunk offered to the
partners and fused when its time comes; partners' releases are received all the time. SIGTERM or SIGINT
stop it cleanly: the batch in hand is committed and acked, envelopes already due are published, the
consumer, bus and store are closed, the counts are printed as one JSON line, exit status 0. Envelopes still
held back by an agreement's ``delay_s`` at that moment are not published (they live in memory only).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config import read_yaml, validation_message
from ..errors import ConfigError
from ..fusion import FusionConfig
from ..outputs import cut_torn_tail
from ..records import ObservationBatch
from ..timescale import parse_utc
from .agreement import load_agreement
from .audit import AuditLog, JsonlAuditSink
from .bus import SUBJECT_ROOT, Bus
from .bus_memory import MemoryBus
from .ingest_worker import open_store
from .keys import NODE_ID_PATTERN, KeyRegistry, Signer, load_signer
from .node import Node

RECEIVE_POLL_S = 0.5
"""Seconds one fetch of the live receive loop waits; bounds how long a stop takes to be noticed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class BusConfig(_Strict):
    """``url``: ``memory://`` (in-process, nothing to receive from) or ``nats://host:port``."""

    url: str = Field("memory://", pattern=r"^(memory://|nats://|tls://).*")
    user: str | None = None
    password: str | None = None
    stream: str = "VIGIL_SHARE"
    subject_root: str = SUBJECT_ROOT
    create_stream: bool | None = None  # default: only when connecting without a partner user
    inbox_prefix: str | None = None  # default: _INBOX_<node> with a partner user (docs/deployment.md)
    ack_wait_s: float = Field(30.0, gt=0.0, le=3600.0)  # a fetched, unacked message comes back after this


class ObservationSource(_Strict):
    path: str
    replay_epoch: str | Literal["start"] = "start"
    skip_s: float = Field(0.0, ge=0.0)  # replay from this many seconds into the recording (start only)


def db_url_problem(db: str) -> str | None:
    """Why a node's ``db`` URL cannot be a store, None when its form is usable: ``sqlite://:memory:``,
    ``sqlite:///FILE`` or a PostgreSQL URI / libpq string whose host and port parse."""
    if db == "sqlite://:memory:" or (db.startswith("sqlite:///") and len(db) > len("sqlite:///")):
        return None
    if db.startswith("sqlite://"):
        return f"{db!r} names no file (sqlite:///relative.db, sqlite:////absolute.db or sqlite://:memory:)"
    if not (db.startswith(("postgresql://", "postgres://")) or "dbname=" in db):
        return f"{db!r}: expected sqlite:///FILE, sqlite://:memory: or postgresql://user@host:port/dbname"
    return postgres_url_problem(db)


def postgres_url_problem(db: str) -> str | None:
    """Why a PostgreSQL URI / libpq string cannot be opened (malformed, or a port that is not one), None when
    its host and port parse. Shared by the node's ``db`` key and ``vigil run --db``."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(db)
    except Exception as err:  # psycopg.ProgrammingError, with libpq's reason
        return f"malformed PostgreSQL URL ({str(err).splitlines()[0]})"
    for port in str(parts.get("port", "5432")).split(","):
        if not (port.isdigit() and 1 <= int(port) <= 65535):
            return f"PostgreSQL port {port!r} is not an integer in [1, 65535]"
    return None


class NodeConfig(_Strict):
    node: str = Field(pattern=NODE_ID_PATTERN)
    key: str
    partner_keys: str
    agreements: list[str] = Field(min_length=1)
    bus: BusConfig = BusConfig()
    db: str = "sqlite:///node.db"
    db_schema: str = "public"  # PostgreSQL schema of the node's tables
    audit_log: str
    observations: ObservationSource | None = None
    warnings_out: str | None = None

    @field_validator("db")
    @classmethod
    def _db(cls, v: str) -> str:
        problem = db_url_problem(v)
        if problem:
            raise ValueError(problem)
        return v


def _resolve(base: Path, name: str) -> str:
    path = Path(name).expanduser()
    return str(path if path.is_absolute() else base / path)


def load_node_config(path: str | Path) -> NodeConfig:
    """Read and validate a node file; relative paths (keys, agreements, sqlite db, logs) become absolute."""
    path = Path(path)
    data = read_yaml(path, "node config")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the node config must be a mapping of keys")
    try:
        cfg = NodeConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(validation_message(str(path), err)) from None
    base = path.parent
    db = cfg.db
    if db.startswith("sqlite:///"):  # SQLAlchemy spelling: sqlite:///relative.db, sqlite:////absolute.db
        db = "sqlite://" + _resolve(base, db.removeprefix("sqlite:///"))
    obs = cfg.observations
    resolved = cfg.model_copy(
        update={
            "key": _resolve(base, cfg.key),
            "partner_keys": _resolve(base, cfg.partner_keys),
            "agreements": [_resolve(base, a) for a in cfg.agreements],
            "db": db,
            "audit_log": _resolve(base, cfg.audit_log),
            "warnings_out": None if cfg.warnings_out is None else _resolve(base, cfg.warnings_out),
            "observations": None
            if obs is None
            else obs.model_copy(update={"path": _resolve(base, obs.path)}),
        }
    )
    _check_outputs(resolved, path)
    return resolved


def _check_outputs(cfg: NodeConfig, path: Path) -> None:
    """What the node appends to (audit log, warnings, SQLite file) is none of what it reads, nor each other."""
    from ..outputs import check_not_input

    inputs = [
        Path(path),
        Path(cfg.key),
        *map(Path, cfg.agreements),
        *sorted(Path(cfg.partner_keys).glob("*.pub")),
    ]
    if cfg.observations is not None:
        inputs.append(Path(cfg.observations.path))
    named = [
        ("audit_log", cfg.audit_log),
        ("warnings_out", cfg.warnings_out),
        ("db", cfg.db.removeprefix("sqlite://") if cfg.db.startswith("sqlite://") else None),
    ]
    outputs = [(key, Path(value)) for key, value in named if value and value != ":memory:"]
    for i, (key, out) in enumerate(outputs):
        check_not_input(out, f"{path}: {key}", inputs + [o for _, o in outputs[:i]])


async def open_bus(cfg: NodeConfig) -> Bus:
    b = cfg.bus
    if b.url == "memory://":
        return MemoryBus()
    from .bus_nats import NatsBus

    prefix = b.inbox_prefix or (f"_INBOX_{cfg.node}" if b.user else "_INBOX")
    create = b.create_stream if b.create_stream is not None else b.user is None
    return await NatsBus.connect(
        b.url,
        stream=b.stream,
        subject_root=b.subject_root,
        user=b.user,
        password=b.password,
        inbox_prefix=prefix,
        create_stream=create,
        ack_wait_s=b.ack_wait_s,
    )


def _replay(cfg: NodeConfig, start_s: float) -> tuple[str, ObservationBatch | None]:
    """(epoch ISO for the node, own observations or None) per the observation source."""
    if cfg.observations is None:
        return _iso(start_s), None
    from ..sim import read_observations

    batch = read_observations(cfg.observations.path)
    mine = batch.partner_id.astype(str) == cfg.node
    if len(batch) and not mine.any():
        raise ConfigError(f"{cfg.observations.path}: no observation has partner_id {cfg.node!r}")
    batch = batch.take(mine).sorted_by_time()  # a simulation file holds every partner's rows: keep ours
    when = cfg.observations.replay_epoch
    if when == "start":  # the recording's instant skip_s is now
        epoch_s = start_s - cfg.observations.skip_s
        batch = batch.take(batch.time_s >= cfg.observations.skip_s)
    else:
        epoch_s = parse_utc(when, f"{cfg.node}: observations.replay_epoch").timestamp()
    return _iso(epoch_s), dataclasses.replace(batch, epoch=_iso(epoch_s))  # same time_s, replayed epoch


def _iso(t_s: float) -> str:
    return dt.datetime.fromtimestamp(t_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Wait until ``stop`` is set or ``seconds`` pass; True when stopped."""
    try:
        await asyncio.wait_for(stop.wait(), max(seconds, 0.0))
    except TimeoutError:
        return False
    return True


async def _receive_loop(node: Node, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await node.receive_batch(RECEIVE_POLL_S)


async def _fuse_loop(
    node: Node,
    own: ObservationBatch | None,
    stop: asyncio.Event,
    chunk_s: float,
    emit: Callable[[list], None],
) -> None:
    keys = np.floor(own.time_s / chunk_s) if own is not None else np.zeros(0)
    k = max(int(np.floor(node.time_s / chunk_s)), int(keys.min()) if len(keys) else 0)
    if own is not None:  # chunks whose time has passed (a restart): fused at the first step, not released
        node.restore((), own.take(keys < k))
    while not await _wait(stop, node.epoch_s + (k + 1) * chunk_s - time.time()):
        if own is not None:
            node.observe(own.take(keys == k))
        await node.publish_due()
        emit(node.step())
        await node.publish_due()
        k += 1


def _check_partners(cfg: NodeConfig, keys: KeyRegistry, agreements: list[Any]) -> None:
    """Every agreement names this node, and every partner in them has a public key in ``partner_keys``."""
    if not Path(cfg.partner_keys).is_dir():
        raise ConfigError(f"partner_keys: {cfg.partner_keys} is not a folder of <node>.pub files")
    for path, agreement in zip(cfg.agreements, agreements, strict=True):
        if cfg.node not in agreement.parties:
            raise ConfigError(f"{path}: node {cfg.node!r} is not a party ({', '.join(agreement.parties)})")
        partner = agreement.other(cfg.node)
        if not keys.knows(partner):
            raise ConfigError(
                f"partner_keys: {cfg.partner_keys} has no {partner}.pub for partner {partner!r} of {path}"
            )


def _check_in_force(cfg: NodeConfig, agreements: list[Any], now_s: float) -> None:
    """A node refuses to start under an agreement that has already expired: it could release and accept
    nothing under it, and running as if shared would mislead its operators (docs/hardening.md)."""
    for path, agreement in zip(cfg.agreements, agreements, strict=True):
        if now_s >= agreement.valid_until.timestamp():
            raise ConfigError(
                f"{path}: valid_until: {agreement.valid_until.isoformat()} is in the past (now "
                f"{_iso(now_s)}); the agreement has expired: renew it or remove it from agreements"
            )


def _appendable(path: Path, key: str) -> None:
    try:
        with open(path, "ab"):
            pass
    except OSError as err:
        raise ConfigError(f"{key}: cannot append to {path} ({err.strerror or err})") from None


def _repair(path: Path, key: str) -> None:
    """A last line torn by a kill is moved to ``<path>.torn`` (:func:`vigil.outputs.cut_torn_tail`)."""
    cut = cut_torn_tail(path)
    if cut:
        print(
            f"warning: {key}: {path}: its last line was torn ({cut} bytes, written when the node was "
            f"killed); moved to {path.name}.torn",
            file=sys.stderr,
        )


def open_audit(cfg: NodeConfig, signer: Signer) -> AuditLog:
    """The node's audit log, refused in one line before the node starts when it cannot be appended to or
    its existing chain does not verify with the node's key (the node would fail at its first entry)."""
    from .audit import verify

    path = Path(cfg.audit_log)
    _appendable(path, "audit_log")
    _repair(path, "audit_log")
    result = verify(path, signer.public_key)
    if not result.ok:
        raise ConfigError(f"audit_log: {path}: entry {result.first_bad_seq}: {result.reason}")
    return AuditLog(JsonlAuditSink(path), signer)


async def run_node(
    cfg: NodeConfig,
    stop: asyncio.Event,
    ready: Callable[[Node], None] | None = None,
    fusion: FusionConfig | None = None,
    on_warnings: Callable[[list], None] | None = None,
) -> dict[str, Any]:
    """Run one node live until ``stop`` is set; return its counts (the JSON line ``vigil node`` prints).
    Keys, agreements, audit log and store are checked first: any unusable one stops it in one line.
    ``on_warnings`` gets each chunk's new warning versions too (``vigil node --serve``'s console)."""
    fusion = fusion or FusionConfig()
    signer = load_signer(Path(cfg.key), cfg.node)
    keys = KeyRegistry.load_dir(Path(cfg.partner_keys))
    agreements = [load_agreement(Path(a)) for a in cfg.agreements]
    _check_partners(cfg, keys, agreements)
    _check_in_force(cfg, agreements, time.time())
    if cfg.db.startswith("sqlite:///"):  # absolute once loaded; refused here, not at the first commit
        _appendable(Path(cfg.db.removeprefix("sqlite://")), "db")
    audit = open_audit(cfg, signer)
    if cfg.warnings_out is not None:
        _appendable(Path(cfg.warnings_out), "warnings_out")
        _repair(Path(cfg.warnings_out), "warnings_out")
    epoch, own = _replay(cfg, time.time())
    store = open_store(cfg.db, cfg.db_schema)
    bus: Bus | None = None
    try:
        bus = await open_bus(cfg)
        node = Node(
            cfg.node,
            signer,
            keys,
            agreements,
            bus,
            store,
            epoch,
            audit,
            subject_root=cfg.bus.subject_root,
            fusion=fusion,
            clock=time.time,
        )
        node.restore(store.iter_records(since=node.epoch_s))  # a restart: what was stored goes to fusion
        await node.start()
        if ready is not None:
            ready(node)
        emit = _writer(cfg.warnings_out, on_warnings)
        await asyncio.gather(_receive_loop(node, stop), _fuse_loop(node, own, stop, fusion.chunk_s, emit))
        emit(node.conclude())  # (the last versions: closing launch fits of the events still in flight)
        await node.publish_due()
        await node.close()
        counts = dataclasses.asdict(node.counts)
        counts.update(node=cfg.node, audit_head=audit.head)
        return counts
    finally:
        if bus is not None:
            await bus.close()
        store.close()


def _writer(path: str | None, also: Callable[[list], None] | None = None) -> Callable[[list], None]:
    def emit(warnings: list) -> None:
        if also is not None:
            also(warnings)
        if path and warnings:
            with open(path, "a", encoding="utf-8") as out:
                for w in warnings:
                    out.write(json.dumps(w.to_dict(), allow_nan=False) + "\n")

    return emit
