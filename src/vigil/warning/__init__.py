"""Warning records, pre-launch notifications and their matching (docs/design.md "Records"; docs/notifications.md)."""

from .matching import NOT_OBSERVED, OBSERVED, EventMatch, MatchPolicy, MatchResult, NotificationStatus, match
from .notifications import (
    Area,
    Circle,
    Notification,
    dump_notifications,
    load_notifications,
    parse_notifications,
)
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
