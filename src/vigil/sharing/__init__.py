"""Sharing between partner nodes: agreements, releaser, signed envelopes, receiver, audit log, bus, store,
the node and the multi-partner network run (docs/sharing.md, docs/deployment.md).

The node and network names (which pull in fusion, scoring and the simulator) are imported on first use.
"""

from __future__ import annotations

from typing import Any

from .agreement import Agreement, Direction, load_agreement, parse_agreement
from .audit import AuditLog, JsonlAuditSink, MemoryAuditSink, VerifyResult, verify, verify_entries
from .bus import SUBJECT_ROOT, Bus, Message, Subscription, share_subject
from .bus_memory import MemoryBus
from .envelope import Envelope, canonical_bytes, sign_envelope
from .ingest import IngestStats, ingest, ingest_batch
from .keys import KeyRegistry, Signer, load_public_key, load_signer, write_key_files
from .receiver import Accepted, MemorySeenIds, Receiver, Rejected
from .records import RECORD_TYPES, released_fields, validate_record
from .releaser import Denial, Releaser
from .store import Store, StoredRecord

_LAZY = {
    "NatsBus": "bus_nats",
    "SqliteStore": "store_sqlite",
    "PostgresStore": "store_postgres",
    "Node": "node",
    "NodeCounts": "node_counts",
    "NodeConfig": "node_config",
    "load_node_config": "node_config",
    "run_node": "node_config",
    "NetworkResult": "results",
    "PartnerResult": "results",
    "run_network": "network",
    "run_network_async": "network",
    "sharing_summary": "network",
}

__all__ = [
    "RECORD_TYPES",
    "SUBJECT_ROOT",
    "Accepted",
    "Agreement",
    "AuditLog",
    "Bus",
    "Denial",
    "Direction",
    "Envelope",
    "IngestStats",
    "JsonlAuditSink",
    "KeyRegistry",
    "MemoryAuditSink",
    "MemoryBus",
    "MemorySeenIds",
    "Message",
    "Receiver",
    "Rejected",
    "Releaser",
    "Signer",
    "Store",
    "StoredRecord",
    "Subscription",
    "VerifyResult",
    "canonical_bytes",
    "ingest",
    "ingest_batch",
    "load_agreement",
    "load_public_key",
    "load_signer",
    "parse_agreement",
    "released_fields",
    "share_subject",
    "sign_envelope",
    "validate_record",
    "verify",
    "verify_entries",
    "write_key_files",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
