"""Reading configuration files at the edges: YAML documents and pydantic validation, one line per fault.

Every declarative file of Vigil (scenarios, vehicles, agreements, notifications, node configs) is YAML
validated by a pydantic model with unknown keys forbidden. These two helpers turn what can go wrong into
the one-line :class:`~vigil.errors.ConfigError` the CLI prints: ``FILE[:LINE]: key.path[i].sub: reason``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError

from .errors import ConfigError

_PYDANTIC_WRAPPERS = ("function-", "constrained-", "nullable", "tagged-union", "union[")


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """The parsed YAML document at ``path``; ConfigError naming the file (and line) when unreadable or invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the {what} ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the {what} is not UTF-8 text") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(err, 'problem', None) or err})") from None


def key_path(loc: tuple[Any, ...]) -> str:
    """``("launches", 2, "azimuth_deg")`` → ``launches[2].azimuth_deg`` (pydantic's internal steps dropped)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(_PYDANTIC_WRAPPERS) and part not in ("float", "int", "str", "bool"):
            out += ("." if out else "") + str(part)
    return out


def validation_message(source: str, err: ValidationError) -> str:
    """One line for the first error of a pydantic ``ValidationError``: ``source: key.path: reason``."""
    e = err.errors()[0]
    path = key_path(tuple(e["loc"]))
    kind, msg = e["type"], str(e["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        reason = "unknown key"
    elif kind == "missing":
        reason = "required key is missing"
    elif kind == "value_error":
        key, sep, rest = msg.partition(": ")
        if sep and " " not in key:  # a validator that names its own key (``parties[0]: …``)
            if key.startswith(path):
                path = key
            elif not path.endswith(key):
                path = f"{path}.{key}" if path else key
            msg = rest
        reason = msg
    elif isinstance(e.get("input"), dict | list):
        reason = msg
    else:
        reason = f"{msg} (got {e.get('input')!r})"
    return f"{source}: {path}: {reason}" if path else f"{source}: {reason}"


def within(lo: float, hi: float, hi_open: bool = False, lo_open: bool = False) -> AfterValidator:
    """A validator: ``lo ≤ x ≤ hi`` (brackets as requested; NaN never passes), message ``x is outside [lo, hi)``."""
    left, right = "(" if lo_open else "[", ")" if hi_open else "]"

    def check(x: float) -> float:
        below = x <= lo if lo_open else x < lo
        above = x >= hi if hi_open else x > hi
        if below or above or x != x:
            raise ValueError(f"{x:g} is outside {left}{lo:g}, {hi:g}{right}")
        return x

    return AfterValidator(check)


# The physical ranges every file and flag shares (degrees at the edges; SI inside).
Latitude = Annotated[float, within(-90.0, 90.0)]
Longitude = Annotated[float, within(-180.0, 180.0)]
Azimuth = Annotated[float, within(0.0, 360.0, hi_open=True)]
Loft = Annotated[float, within(0.0, 90.0)]
Positive = Annotated[float, within(0.0, float("inf"), lo_open=True, hi_open=True)]
NonNegative = Annotated[float, within(0.0, float("inf"), hi_open=True)]
MAX_SEED = 2**53 - 1
"""Largest random seed: seeds are written to JSON (summary.json, campaign records), which holds integers
exactly only up to 2**53 (RFC 7493 §2.2); a larger one would read back as another seed."""

Options = TypeVar("Options", bound=BaseModel)


def check_options(model: type[Options], **values: Any) -> Options:
    """Validate command-line values against ``model`` (fields aliased by their flag, ``--lat``); one
    ConfigError line ``--lat: 200 is outside [-90, 90] (got 200.0)`` on the first fault."""
    try:
        return model.model_validate({k: v for k, v in values.items()})
    except ValidationError as err:
        raise ConfigError(validation_message("options", err).removeprefix("options: ")) from None
