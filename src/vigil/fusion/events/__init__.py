"""The engine's events: their working state, strings assembled into events, gating against their filters."""

from vigil.fusion.events.assembly import EventAssembly
from vigil.fusion.events.event import FusedEvent, to_warning

__all__ = ["EventAssembly", "FusedEvent", "to_warning"]
