"""The clock that decides which warning versions have been issued yet, and the SSE stream of new ones.

A finished run is served *as issued*: every version is visible at once. With ``--replay SPEED`` the run
is replayed in simulated time: a version becomes visible when ``(issued_s - start_s) / SPEED`` wall
seconds have passed since the server started, where ``start_s`` is the first version's issue instant, so
the warnings list and the stream grow as they did in the run.

The stream is Server-Sent Events (WHATWG HTML, "Server-sent events"): one ``event: warning`` per new
version, ``id:`` its index in the node's ordered version list, so a client that reconnects with
``Last-Event-ID`` misses nothing and sees nothing twice.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

POLL_S = 0.25
"""How often a stream checks for newly visible versions (wall seconds)."""
KEEPALIVE_S = 15.0
"""A comment line at least this often keeps proxies from closing an idle stream."""


class ReplayClock:
    """Simulated time of a replay; ``speed=None`` means the run is finished and everything is visible."""

    def __init__(
        self, speed: float | None = None, start_s: float = 0.0, wall: Callable[[], float] = time.monotonic
    ) -> None:
        self.speed, self.start_s, self._wall = speed, start_s, wall
        self._wall0 = wall()

    def now_s(self) -> float:
        """The simulated instant (POSIX s) whose versions are visible; ``inf`` when not replaying."""
        if self.speed is None:
            return float("inf")
        return self.start_s + (self._wall() - self._wall0) * self.speed


def visible_count(issued_s: Sequence[float], now_s: float) -> int:
    """How many of the (sorted) issue instants are ``<= now_s``."""
    return bisect.bisect_right(issued_s, now_s)


def sse_message(index: int, version: dict[str, Any]) -> str:
    """One SSE message carrying a warning version as JSON."""
    return f"id: {index}\nevent: warning\ndata: {json.dumps(version, separators=(',', ':'))}\n\n"


def sse_messages(versions: Sequence[dict[str, Any]]) -> list[str]:
    """The SSE message of every version (encoded once, shared by every client of the view)."""
    return [sse_message(i, _public(v)) for i, v in enumerate(versions)]


async def stream_versions(
    messages: Sequence[str],
    issued_s: Sequence[float],
    clock: ReplayClock,
    first: int,
    is_disconnected: Callable[[], Any],
    poll_s: float = POLL_S,
    max_s: float | None = None,
) -> AsyncIterator[str]:
    """The SSE text of each version (``messages[i]`` issued at ``issued_s[i]``) from index ``first`` on,
    as each becomes visible; ends when the client leaves or after ``max_s`` wall seconds (``None``: never)."""
    sent = max(first, 0)
    waited = 0.0
    since_keepalive = 0.0
    yield "retry: 2000\n\n"
    while max_s is None or waited < max_s:
        upto = visible_count(issued_s, clock.now_s())
        if upto > sent:
            yield "".join(messages[sent:upto])
            sent = upto
        if await is_disconnected():
            return
        await asyncio.sleep(poll_s)
        waited += poll_s
        since_keepalive += poll_s
        if since_keepalive >= KEEPALIVE_S:
            since_keepalive = 0.0
            yield ": keepalive\n\n"


def _public(version: dict[str, Any]) -> dict[str, Any]:
    """A stored version as the API shows it (the internal ``issued_s`` key dropped)."""
    return {k: v for k, v in version.items() if k != "issued_s"}
