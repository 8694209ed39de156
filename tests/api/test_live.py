"""Live mode: a scenario fused in simulated time; the API lists and streams versions as fusion issues them.

Independent truth: the scoring pipeline's own fusion (``timed_fusion``) over the same simulation gives
the versions the live source must have published once it is done, in the same order.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import numpy as np
import pytest
from testkit.consolerun import SCENARIO

from vigil.api import create_app
from vigil.api.live import LiveSource
from vigil.scoring import timed_fusion
from vigil.sim import load_scenario, simulate

pytestmark = pytest.mark.slow
SPEED = 400.0  # the 840 s scenario's fusion paced over ~2 s of wall time
TIMEOUT_S = 120.0


def test_live_source_publishes_what_fusion_issues_and_streams_it_while_running(tmp_path) -> None:
    path = tmp_path / "cut.yaml"
    path.write_text(SCENARIO)
    source = LiveSource(path, speed=SPEED)
    source.start()
    app = create_app(source, stream_max_s=TIMEOUT_S / 4)

    async def listen() -> list[int]:
        ids: list[int] = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://live", timeout=None) as client:
            r = await client.get("/api/v1/stream")  # no Last-Event-ID: versions issued from now on
            for line in r.text.splitlines():
                if line.startswith("id: "):
                    ids.append(int(line[4:]))
        return ids

    streamed = asyncio.run(listen())
    assert source.done.wait(TIMEOUT_S)
    scenario = load_scenario(path)
    versions, _ = timed_fusion(simulate(scenario, np.random.default_rng(scenario.seed)).observations,
                               scenario.duration_s)
    published = source.view(None).warnings
    assert [(w["event_id"], w["version"]) for w in published] == [(w.event_id, w.version) for w in versions]
    assert published[-1]["launch_lat_deg"] == versions[-1].launch_lat_deg
    issued = source.view(None).issued_s
    assert issued == sorted(issued)
    assert streamed and streamed == list(range(streamed[0], len(published)))  # live, in order, to the end

    from fastapi.testclient import TestClient

    page = TestClient(app).get("/api/v1/warnings", params={"limit": 1000}).json()
    assert page["total"] == len(versions)
    assert json.dumps(page["items"][0]).count("issued_s") == 0
