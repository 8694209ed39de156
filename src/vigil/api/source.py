"""What ``vigil serve`` serves: one node's view of a run directory or of a node's store.

A *view* is what one partner's node holds: its own records and what agreements released to it. The API
never filters records by agreement itself; it serves only what the releaser already let through, so no
request can reach around an agreement:

- **Run directory** (``vigil run`` / ``vigil demo``): with agreements, each node's files are kept in
  ``nodes/`` — ``<node>-warnings.json`` (every version its fusion of own + received data issued, and the
  partners' warnings released to it), ``<node>.db`` (its store: every record received, as signed) and
  ``<node>-audit.jsonl``. A partner's view is those files plus its own sensors and notifications from the
  scenario. Without ``nodes/`` (a single-partner run) a partner sees the warnings built from its data only.
- **Store URL** (``sqlite:///path/node.db`` or ``postgresql://…?schema=NAME``): the records a node
  received; a partner sees the records it sent or received (:class:`vigil.api.storesource.StoreSource`).

The *whole* view (``partner=None``) is the run's joint result (``warnings.json``, every node's audit):
served only when ``vigil serve`` runs without tokens, bound to the loopback interface.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError, DataError, VigilError
from vigil.timescale import parse_utc

WARNINGS_FILE = "warnings.json"
VERSIONS_FILE = "versions.json"
NODES_DIR = "nodes"


@dataclass
class NodeView:
    """One node's records, JSON-ready. ``warnings`` are versions ordered by ``issued_at`` (each has
    ``issued_s``, POSIX seconds, added); ``sensors`` and ``notifications`` are dicts; ``audit`` is in order.
    ``issued_s`` lists the versions' issue instants and ``sse`` their Server-Sent Events text (filled by
    the API on first use, or by a live source as it publishes)."""

    partner: str | None
    warnings: list[dict[str, Any]]
    notifications: list[dict[str, Any]] = field(default_factory=list)
    sensors: list[dict[str, Any]] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    issued_s: list[float] = field(init=False, repr=False)
    sse: list[str] = field(init=False, repr=False, default_factory=list)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.issued_s = [float(w["issued_s"]) for w in self.warnings]

    def messages(self) -> list[str]:
        """The SSE text of every version, encoded once (shared by every client of the view)."""
        from .feed import sse_messages

        with self._lock:
            if len(self.sse) < len(self.warnings):
                self.sse[:] = sse_messages(self.warnings)
        return self.sse

    def publish(self, version: dict[str, Any]) -> None:
        """Append a new version (``issued_s`` included) for the lists and the stream, in the order SSE text →
        version → issue instant, so a reader that counts issue instants never indexes past the other two.
        ``issued_s`` is kept sorted: a version dated before the last one is listed at the last one's instant
        (it arrived after it)."""
        from .feed import sse_message

        self.messages()
        with self._lock:
            issued = float(version["issued_s"])
            if self.issued_s:
                issued = max(issued, self.issued_s[-1])
            self.sse.append(sse_message(len(self.sse), {k: v for k, v in version.items() if k != "issued_s"}))
            self.warnings.append(version)
            self.issued_s.append(issued)


class Source(ABC):
    """A run or a store, opened once; :meth:`view` gives one partner's :class:`NodeView`."""

    epoch: str
    partners: list[str]
    scenario_path: Path | None = None

    @abstractmethod
    def view(self, partner: str | None) -> NodeView:
        """The view of ``partner`` (a node id), or the whole run for ``None``. ConfigError if unknown."""

    def poll(self) -> None:
        """Take in what the source gained since the last call (a followed store's new records); no-op here."""
        return

    def follow(self) -> None:
        """Keep taking in what the source gains while it is served (a followed store); no-op here."""
        return

    def _check(self, partner: str | None) -> None:
        if partner is not None and partner not in self.partners:
            raise ConfigError(
                f"partner {partner!r}: not a node of this run (nodes: {', '.join(self.partners)})"
            )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    except ValueError as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None


def _versions(doc: Any, where: Path) -> list[dict[str, Any]]:
    """Warning versions of a warnings document, ``issued_s`` added, ordered by (issued, event, version)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("warnings"), list):
        raise DataError(f"{where}: expected an object with a 'warnings' list")
    out = []
    for i, w in enumerate(doc["warnings"]):
        try:
            out.append({**w, "issued_s": parse_utc(w["issued_at"], "issued_at").timestamp()})
        except (KeyError, TypeError, VigilError) as err:
            raise DataError(f"{where}: warnings[{i}].issued_at: {err}") from None
    out.sort(key=lambda w: (w["issued_s"], str(w["event_id"]), int(w["version"])))
    return out


def _with_finals(versions_path: Path, finals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every issued version (``versions.json``) with each event's final one taken from the finals
    (which carry the notification match); just the finals when the run has no versions file."""
    if not versions_path.is_file():
        return finals
    final = {(w["event_id"], int(w["version"])): w for w in finals}
    return [
        final.get((w["event_id"], int(w["version"])), w)
        for w in _versions(_read_json(versions_path), versions_path)
    ]


def _own_only(warnings: Iterable[dict[str, Any]], partner: str) -> list[dict[str, Any]]:
    return [w for w in warnings if set(w.get("sources", {}).get("partners", [])) <= {partner}]


class RunSource(Source):
    """A run directory (module docstring)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.root = Path(run_dir)
        if not (self.root / WARNINGS_FILE).is_file():
            raise ConfigError(
                f"{self.root}: not a run directory (no {WARNINGS_FILE}; write one with vigil run)"
            )
        doc = _read_json(self.root / WARNINGS_FILE)
        self.epoch = str(doc.get("epoch", ""))
        self.joint = _with_finals(self.root / VERSIONS_FILE, _versions(doc, self.root / WARNINGS_FILE))
        manifest = _read_json(self.root / "run.json") if (self.root / "run.json").is_file() else {}
        self.scenario_path = Path(manifest["scenario"]) if manifest.get("scenario") else None
        self.sensors = _sensors(self.root)
        self.notifications = _notifications(self.scenario_path)
        nodes = self.root / NODES_DIR
        kept = sorted(p.name.removesuffix("-warnings.json") for p in nodes.glob("*-warnings.json"))
        self.partners = kept or sorted({s["partner_id"] for s in self.sensors})
        self._views: dict[str | None, NodeView] = {}

    def view(self, partner: str | None) -> NodeView:
        self._check(partner)
        if partner not in self._views:
            self._views[partner] = self._build(partner)
        return self._views[partner]

    def _build(self, partner: str | None) -> NodeView:
        nodes = self.root / NODES_DIR
        if partner is None:
            audit = [e for p in self.partners for e in read_audit(nodes / f"{p}-audit.jsonl")]
            return NodeView(
                None, self.joint, self.notifications, self.sensors, {"partners": self.partners}, audit
            )
        path = nodes / f"{partner}-warnings.json"
        warnings = _versions(_read_json(path), path) if path.is_file() else _own_only(self.joint, partner)
        senders = _observation_senders(nodes / f"{partner}.db", partner)
        sensors = [s for s in self.sensors if s["partner_id"] == partner or s["partner_id"] in senders]
        notes = [n for n in self.notifications if n.get("partner_id") == partner]
        coverage = {"partners": sorted({partner, *senders})}
        return NodeView(
            partner, warnings, notes, sensors, coverage, read_audit(nodes / f"{partner}-audit.jsonl")
        )


def _sensors(root: Path) -> list[dict[str, Any]]:
    """Each sensor of the run's observations: id, partner, detections, first and last time (s from epoch)."""
    path = root / "observations.parquet"
    if not path.is_file():
        return []
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["sensor_id", "partner_id", "time_s"])
    grouped = table.group_by(["sensor_id", "partner_id"]).aggregate(
        [("time_s", "count"), ("time_s", "min"), ("time_s", "max")]
    )
    order = pc.sort_indices(grouped, [("sensor_id", "ascending")])
    return [
        {
            "sensor_id": str(r["sensor_id"]),
            "partner_id": str(r["partner_id"]),
            "detections": int(r["time_s_count"]),
            "first_s": float(r["time_s_min"]),
            "last_s": float(r["time_s_max"]),
        }
        for r in grouped.take(order).to_pylist()
    ]


def _notifications(scenario_path: Path | None) -> list[dict[str, Any]]:
    if scenario_path is None or not scenario_path.is_file():
        return []
    from vigil.sim import load_scenario
    from vigil.warning.notifications import load_notifications

    scenario = load_scenario(scenario_path)
    paths = [scenario_path.parent / p for p in getattr(scenario, "notifications", []) or []]
    return [n.to_dict() for p in paths for n in load_notifications(p)]


def read_audit(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    from vigil.sharing.audit import read_jsonl

    return [entry for _, entry in read_jsonl(path) if isinstance(entry, dict)]


def _observation_senders(store_path: Path, partner: str) -> set[str]:
    """Partners whose observations ``partner``'s store received (their sensors are then in its view)."""
    if not store_path.is_file():
        return set()
    from vigil.sharing.store_sqlite import SqliteStore

    with SqliteStore(store_path) as store:
        return {r.sender for r in store.iter_records("observation") if r.recipient == partner}
