"""The one exception family of Vigil.

Every error a user can cause (a bad file, a bad flag, a bad message) is a :class:`VigilError` whose
message is one line naming *where* (file, line, record or field) and *why*. The CLI prints
``error: <message>`` and exits with :attr:`VigilError.exit_code`; the API answers 4xx with the same text.
Vectorized kernels never raise for one bad element: they mark it (NaN, error code) and the edge
that called them reports it through one of these classes.
"""

from __future__ import annotations


class VigilError(Exception):
    """Root of every error Vigil reports to a user. ``str(err)`` is a single line."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))  # always one line


class ElementError(VigilError):
    """Orbital elements (TLE / OMM) that cannot be used: file, line or record, and reason."""


class ConfigError(VigilError):
    """A configuration or scenario file or CLI option that is invalid: key or flag, and reason."""


class DataError(VigilError):
    """A data file (observations, telemetry, vehicles) that is malformed: file, row or field, and reason."""


class MessageError(VigilError):
    """A sharing message that is rejected: which check failed and why."""


class ServiceError(VigilError):
    """An external service (bus, database) that is unreachable or misbehaving."""

    exit_code = 3


def where(path: object, line: int | None = None, record: object | None = None) -> str:
    """Format the location prefix used in every error message: ``file:line`` or ``file record N``."""
    text = str(path)
    if line is not None:
        text += f":{line}"
    if record is not None:
        text += f" record {record}"
    return text
