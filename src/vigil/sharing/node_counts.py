"""What a partner's node did: records offered, released, denied, published, received, rejected and fused
(:class:`NodeCounts`, on :attr:`vigil.sharing.node.Node.counts` and in the network run's results)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .ingest import IngestStats


@dataclass
class NodeCounts:
    """What a node did: ``offered`` records, ``released`` / ``denied`` by the agreements, ``published``
    envelopes; ``received`` records (accepted and stored) in ``received_messages`` envelopes, ``rejected``
    envelopes (by kind), ``fused_received`` detections. Without batching, records = envelopes."""

    offered: int = 0
    released: int = 0
    denied: int = 0
    published: int = 0
    received: int = 0
    received_messages: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    fused_received: int = 0
    late: int = 0  # detections fused by re-processing (earlier than a processed chunk, inside the horizon)
    too_late: int = 0  # detections older than the shared engine's lag horizon: audited, not fused
    duplicate: int = 0  # detections equal to one already fused (same sensor, time, LOS): audited, fused once
    copies: int = (
        0  # received copies of detections held (own or another partner's, re-gridded): audited, not fused
    )
    unknown_sensor: int = 0  # received detections naming no sensor (cannot be strung): audited, not fused
    ingest: IngestStats = field(default_factory=IngestStats)
    restored: int = 0  # records stored before a restart, handed to fusion again by :meth:`Node.restore`
