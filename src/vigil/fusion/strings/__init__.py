"""Per-sensor strings: one sensor's detections of one object linked frame by frame (the first stage of fusion)."""

from vigil.fusion.strings.base import LosPredictor, Stringer
from vigil.fusion.strings.chunkframes import sensor_codes
from vigil.fusion.strings.sensorstring import SensorString
from vigil.fusion.strings.stringer import GatedAssignmentStringer
from vigil.fusion.strings.stringpool import StringPool

__all__ = [
    "GatedAssignmentStringer",
    "LosPredictor",
    "SensorString",
    "StringPool",
    "Stringer",
    "sensor_codes",
]
