"""Warning records, pre-launch notifications and their matching (DESIGN.md "Records")."""

from .records import (
    DEFAULT_CONTAINMENT,
    UNANNOUNCED,
    WARNING_CLASSES,
    Sources,
    Warning,
    warnings_from_document,
    warnings_to_document,
)

__all__ = [
    "DEFAULT_CONTAINMENT",
    "UNANNOUNCED",
    "WARNING_CLASSES",
    "Sources",
    "Warning",
    "warnings_from_document",
    "warnings_to_document",
]
