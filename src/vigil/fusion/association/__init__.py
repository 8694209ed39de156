"""Cross-sensor association: which strings of different sensors see the same object (LOS miss distance)."""

from vigil.fusion.association.associate import Associator, MissDistanceAssociator, detections_and_seeds

__all__ = ["Associator", "MissDistanceAssociator", "detections_and_seeds"]
