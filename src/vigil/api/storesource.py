"""A node's store served live (``vigil serve sqlite:///PATH`` or ``postgresql://…?schema=NAME``), and
:func:`open_source`, which picks the source for a ``vigil serve`` target.

A partner sees the records it sent or received. The store is *followed*: records a running node writes after
the server started join the views (and the stream) at the next :meth:`~vigil.api.source.Source.poll`, in the
order they arrive.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError, VigilError

from .source import NodeView, RunSource, Source, read_audit

FOLLOW_S = 0.5
"""A followed store is read for new records this often (wall seconds), by one thread for every client."""
LOOKBACK_S = 600.0
"""A poll re-reads records dated this long before the latest one held (late deliveries; duplicates dropped)."""


class StoreSource(Source):
    """A node's store (``sqlite:///PATH`` or ``postgresql://…[?schema=NAME]``): the records it received and
    its audit, followed while served (:meth:`poll`). A node keeps its audit log in ``<node>-audit.jsonl``
    beside a ``vigil run`` store (the store's own audit table is then empty): that file is read when the
    table is empty."""

    def __init__(self, url: str, follow_s: float = FOLLOW_S) -> None:
        self._store, audit_file = _open_store(url)
        self.records: list[Any] = []
        self._ids: set[str] = set()
        self._latest = -math.inf
        self._views: dict[str | None, NodeView] = {}
        self._lock = threading.RLock()
        self.follow_s = follow_s
        self._follower: threading.Thread | None = None
        self._closed = threading.Event()
        self._take(list(self._store.iter_records()))
        self._count = len(self._ids)
        self.audit = list(self._store.iter_audit())
        if not self.audit and audit_file is not None:
            self.audit = read_audit(audit_file)
        self.epoch = ""

    def _take(self, rows: list[Any]) -> list[Any]:
        """Keep the rows not seen yet (a poll re-reads the last instant: same-instant writes are not missed)."""
        new = [r for r in rows if r.message_id not in self._ids]
        for r in new:
            self._ids.add(r.message_id)
            self._latest = max(self._latest, r.created_at)
        self.records += new
        self.partners = sorted({r.recipient for r in self.records} | {r.sender for r in self.records})
        return new

    def follow(self) -> None:
        """Start (once) a daemon thread that polls the store every ``follow_s`` seconds."""
        with self._lock:
            if self._follower is not None:
                return
            self._follower = threading.Thread(target=self._follow, name="vigil-store-follower", daemon=True)
        self._follower.start()

    def _follow(self) -> None:
        while not self._closed.wait(self.follow_s):
            try:
                self.poll()
            except VigilError:  # (a store briefly unreachable: the next poll tries again)
                continue

    def poll(self) -> None:
        """Read records written since the last poll into every built view. The store's record count says
        whether anything arrived; the records are read from :data:`LOOKBACK_S` before the latest one held (a
        record is dated by its envelope, so one delivered late sorts before records already read), and all
        of them again if that did not find every new one."""
        with self._lock:
            count = self._store.count()
            if count == self._count:
                return
            since = None if math.isinf(self._latest) else self._latest - LOOKBACK_S
            new = self._take(list(self._store.iter_records(since=since)))
            if len(self._ids) < count:
                new += self._take(list(self._store.iter_records()))
            self._count = count
            new.sort(key=lambda r: (r.created_at, r.message_id))
            for partner, view in self._views.items():
                warnings, notes, sensors = _contents(new, partner)
                for w in warnings:
                    view.publish(w)
                view.notifications += notes
                known = {s["sensor_id"] for s in view.sensors}
                view.sensors += [
                    {"sensor_id": k, "partner_id": p} for k, p in sorted(sensors.items()) if k not in known
                ]

    def view(self, partner: str | None) -> NodeView:
        self._check(partner)
        with self._lock:
            if partner not in self._views:
                warnings, notes, sensors = _contents(self.records, partner)
                audit = [e for e in self.audit if partner is None or e.get("node") in (partner, None)]
                self._views[partner] = NodeView(
                    partner,
                    warnings,
                    notes,
                    [{"sensor_id": s, "partner_id": p} for s, p in sorted(sensors.items())],
                    {},
                    audit,
                )
            return self._views[partner]

    def close(self) -> None:
        self._closed.set()
        if self._follower is not None:
            self._follower.join(5.0)
        self._store.close()


def _contents(
    records: list[Any], partner: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """(warning versions ordered by arrival instant, notifications, sensor → sender) of the records
    ``partner`` sent or received (all for ``None``)."""
    warnings: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    sensors: dict[str, str] = {}
    for r in records:
        if partner is not None and partner not in (r.sender, r.recipient):
            continue
        env = json.loads(r.payload_json)
        contents = [env["payload"]] if env.get("payload") is not None else list(env.get("records") or [])
        for rec in contents:
            if r.record_type == "warning":
                warnings.append(_stored_warning(r.sender, rec, r.created_at))
            elif r.record_type == "notification":
                notes.append(rec)
            elif r.record_type == "observation":
                sensors.setdefault(str(rec.get("sensor_id")), r.sender)
    warnings.sort(key=lambda w: (w["issued_s"], w["event_id"], w["version"]))
    return warnings, notes, sensors


def _stored_warning(sender: str, rec: dict[str, Any], created_at: float) -> dict[str, Any]:
    """A received warning record, keyed ``<sender>:<event_id>`` as the receiving node keys it."""
    import datetime as dt

    issued = dt.datetime.fromtimestamp(created_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        **rec,
        "event_id": f"{sender}:{rec.get('event_id')}",
        "version": int(rec.get("version") or 1),
        "issued_at": issued,
        "issued_s": float(created_at),
        "sources": {"sensors": [], "partners": sorted({sender, *(rec.get("sources") or [])})},
    }


def _open_store(url: str) -> tuple[Any, Path | None]:
    """(the store at ``url``, the audit file beside a SQLite store); ConfigError naming the URL if none."""
    if url.startswith("sqlite:///"):
        from vigil.sharing.store_sqlite import SqliteStore

        path = Path(url.removeprefix("sqlite://"))
        if not path.is_file():
            raise ConfigError(f"{url}: no such store file")
        _check_sqlite_store(url, path)
        return SqliteStore(path), path.with_name(f"{path.stem}-audit.jsonl")
    if url.startswith(("postgresql://", "postgres://")):
        from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

        from vigil.sharing.store_postgres import PostgresStore

        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        schema = query.pop("schema", "public")  # ours, not libpq's: removed before connecting
        dsn = urlunsplit(parts._replace(query=urlencode(query)))
        _check_postgres_store(url, dsn, schema)
        return PostgresStore(dsn, schema=schema), None
    raise ConfigError(
        f"{url!r}: expected a run directory, sqlite:///PATH or postgresql://…[?schema=NAME] of a node's store"
    )


def _check_sqlite_store(url: str, path: Path) -> None:
    """ConfigError unless ``path`` is a node's store, checked read-only: opening a store migrates it, which
    must not turn any other SQLite file into an empty store."""
    import sqlite3

    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as err:
        raise ConfigError(f"{url}: not a SQLite database ({err})") from None
    if not {"records", "audit"} <= tables:
        raise ConfigError(f"{url}: not a node's store (no records and audit tables)")


def _check_postgres_store(url: str, dsn: str, schema: str) -> None:
    """ConfigError unless ``schema`` holds a node's store (opening one would create an empty store)."""
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            found = conn.execute(
                "SELECT to_regclass(%s), to_regclass(%s)", (f"{schema}.records", f"{schema}.audit")
            ).fetchone()
    except psycopg.Error as err:
        raise ConfigError(
            f"{url}: cannot connect ({str(err).splitlines()[0] if str(err) else err})"
        ) from None
    if found is None or None in found:
        raise ConfigError(f"{url}: schema {schema!r} holds no node's store (no records and audit tables)")


def open_source(target: str) -> Source:
    """A run directory path or a store URL (``sqlite:///PATH``, ``postgresql://…``)."""
    if "://" in target:
        return StoreSource(target)
    return RunSource(target)
