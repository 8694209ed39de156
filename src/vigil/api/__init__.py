"""The operators' console: ``vigil serve`` (FastAPI REST + SSE over one node's view, and the dashboard)."""

from .app import create_app
from .feed import ReplayClock
from .source import NodeView, RunSource, Source
from .storesource import StoreSource, open_source
from .tokens import TokenTable, load_tokens, parse_tokens

__all__ = [
    "NodeView",
    "ReplayClock",
    "RunSource",
    "Source",
    "StoreSource",
    "TokenTable",
    "create_app",
    "load_tokens",
    "open_source",
    "parse_tokens",
]
