"""Ray geometry: multi-ray triangulation, polynomial tracks fitted to lines of sight, tiny LAPACK solves for kernels."""

from vigil.fusion.geometry.polytrack import PolyTrack
from vigil.fusion.geometry.triangulate import closest_approach, triangulate

__all__ = ["PolyTrack", "closest_approach", "triangulate"]
