"""Warning records, pre-launch notifications and their matching (docs/design.md "Records"; docs/notifications.md)."""

from .documents import warnings_from_document, warnings_to_document
from .matching import NOT_OBSERVED, OBSERVED, EventMatch, MatchPolicy, MatchResult, NotificationStatus, match
from .notifications import (
    Area,
    Circle,
    Notification,
    dump_notifications,
    load_notifications,
    parse_notifications,
)
from .records import DEFAULT_CONTAINMENT, UNANNOUNCED, WARNING_CLASSES, Warning
from .sources import Sources

__all__ = [
    "DEFAULT_CONTAINMENT",
    "NOT_OBSERVED",
    "OBSERVED",
    "UNANNOUNCED",
    "WARNING_CLASSES",
    "Area",
    "Circle",
    "EventMatch",
    "MatchPolicy",
    "MatchResult",
    "Notification",
    "NotificationStatus",
    "Sources",
    "Warning",
    "dump_notifications",
    "load_notifications",
    "match",
    "parse_notifications",
    "warnings_from_document",
    "warnings_to_document",
]
