"""Fusion: per-sensor strings, cross-sensor association, triangulation, boost filter, launch / burnout /
impact estimation, classification and Cramér–Rao bounds (docs/fusion.md).

``FusionEngine(config, parts…).run(observations)`` yields ``(time_s, [Warning…])``; :func:`fuse` returns the
latest warning of each event.
"""

from vigil.fusion.engine import FusionConfig, FusionEngine, fuse

__all__ = ["FusionConfig", "FusionEngine", "fuse"]
