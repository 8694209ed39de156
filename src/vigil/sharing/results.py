"""What a run of the partners' nodes returns (:func:`vigil.sharing.network.run_network`), per partner and in
all: the records :mod:`vigil.sharing.value` turns into the value-of-sharing block, below both."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..sim import SimulationResult
from ..warning.records import Warning
from .node_counts import NodeCounts


@dataclass
class PartnerResult:
    """One partner's outcome: every warning version issued ``alone`` (own detections only), by its fusion
    of own + received detections (``fused``), received from partners (``received``; their tracks as launch
    estimates: ``received_tracks``) and its shared view (``view``: ``fused`` fused track-to-track with
    ``received`` and ``received_tracks``, :class:`~vigil.sharing.view.SharedView`);
    ``counts``; the node's public key (fresh per run) and its audit log's file (kept runs only) and head
    hash."""

    node_id: str
    alone: list[Warning]
    fused: list[Warning]
    received: list[Warning]
    counts: NodeCounts
    public_key: Ed25519PublicKey
    audit_path: Path | None = None
    audit_head: str = ""
    view: list[Warning] | None = None
    received_tracks: list[Warning] = field(
        default_factory=list
    )  # partners' tracks, as their launch estimates

    @property
    def shared(self) -> list[Warning]:
        """What the partner has with sharing: its shared view (or, without one, its own fusion of everything
        plus partners' warnings)."""
        return self.fused + self.received if self.view is None else self.view


@dataclass
class NetworkResult:
    """Per partner results, the simulation they came from, where the data went (``bus``, ``db``)."""

    epoch: str
    partners: dict[str, PartnerResult]
    simulation: SimulationResult
    bus: str
    db: str
    stores: dict[str, str] = field(default_factory=dict)
