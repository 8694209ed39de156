"""Out-of-sequence observations: buffered re-processing over a lag horizon, and late rows placed in known strings."""

from vigil.fusion.oosm.buffer import History, IngestCounts
from vigil.fusion.oosm.retrodict import PendingRefits

__all__ = ["History", "IngestCounts", "PendingRefits"]
