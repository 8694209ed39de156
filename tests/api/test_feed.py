"""The replay clock and the SSE stream: every version delivered once, in order, as it becomes visible."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from vigil.api import ReplayClock, create_app, parse_tokens
from vigil.api.feed import sse_messages, stream_versions, visible_count


class FakeWall:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def parse_sse(text: str) -> list[tuple[int, dict]]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":")
        )
        if fields.get("event") == "warning":
            out.append((int(fields["id"]), json.loads(fields["data"])))
    return out


def test_replay_clock_runs_at_its_speed_from_the_first_version() -> None:
    wall = FakeWall()
    clock = ReplayClock(speed=10.0, start_s=1000.0, wall=wall)
    wall.t += 3.0
    assert clock.now_s() == pytest.approx(1030.0)
    assert ReplayClock().now_s() == float("inf")
    assert visible_count([1000.0, 1010.0, 1030.0, 1030.5], clock.now_s()) == 3


def test_stream_sends_each_version_once_as_the_clock_reaches_it() -> None:
    versions = [{"event_id": "E1", "version": k + 1, "issued_s": 1000.0 + 10.0 * k} for k in range(5)]
    wall = FakeWall()
    clock = ReplayClock(speed=1.0, start_s=1000.0, wall=wall)

    async def collect() -> list[tuple[int, dict]]:
        chunks = []

        async def never() -> bool:
            wall.t += 5.0  # five simulated seconds pass per poll
            return False

        issued = [v["issued_s"] for v in versions]
        async for chunk in stream_versions(
            sse_messages(versions), issued, clock, 0, never, poll_s=0.001, max_s=0.05
        ):
            chunks.append(chunk)
        return parse_sse("".join(chunks))

    got = asyncio.run(collect())
    assert [i for i, _ in got] == list(range(5))
    assert [v["version"] for _, v in got] == [1, 2, 3, 4, 5]
    assert all("issued_s" not in v for _, v in got)


def test_stream_endpoint_delivers_new_versions_and_resumes_after_last_event_id(source) -> None:
    tokens = parse_tokens({"tokens": [{"partner": "north", "token": "north-token-0123456789"}]})
    versions = source.view("north").warnings
    start = versions[0]["issued_s"]
    span = versions[-1]["issued_s"] - start
    # Replay the whole run in ~0.6 s of wall time; a client joining at the start gets every version.
    app = create_app(source, tokens, ReplayClock(speed=span / 0.6, start_s=start - 1e-3), stream_max_s=1.5)
    headers = {"Authorization": "Bearer north-token-0123456789"}

    async def fetch(extra: dict) -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            r = await client.get("/api/v1/stream", headers={**headers, **extra})
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            return r.text

    got = parse_sse(asyncio.run(fetch({"Last-Event-ID": "-1"})))
    expected = [{k: v for k, v in w.items() if k != "issued_s"} for w in versions]
    assert [v for _, v in got] == expected
    resumed = parse_sse(asyncio.run(fetch({"Last-Event-ID": str(len(versions) - 3)})))
    assert [i for i, _ in resumed] == [len(versions) - 2, len(versions) - 1]
