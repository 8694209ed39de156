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
    versions, _ = timed_fusion(
        simulate(scenario, np.random.default_rng(scenario.seed)).observations, scenario.duration_s
    )
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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_vigil_run_serve_streams_every_version_while_the_scenario_runs(tmp_path) -> None:
    """``vigil run SCENARIO --serve PORT --speed X`` as an operator starts it (a subprocess): a client
    connected from the start receives every version fusion issues, in order, while the run goes on."""
    import subprocess
    import sys
    import time

    path = tmp_path / "cut.yaml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    versions, _ = timed_fusion(
        simulate(scenario, np.random.default_rng(scenario.seed)).observations, scenario.duration_s
    )
    port = _free_port()
    speed = 100.0  # the first version at ~330 s of simulated time: ~3 s of wall time after fusion starts
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from vigil.cli import main; main()",
            "run",
            str(path),
            "--serve",
            str(port),
            "--speed",
            str(speed),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        received: list[tuple[int, str, int]] = []
        started = time.monotonic()
        with httpx.stream(
            "GET", base + "/api/v1/stream", headers={"Last-Event-ID": "-1"}, timeout=httpx.Timeout(TIMEOUT_S)
        ) as r:
            assert r.status_code == 200
            event_id = None
            for line in r.iter_lines():
                if line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("data: "):
                    w = json.loads(line[6:])
                    received.append((event_id, w["event_id"], w["version"]))
                    if len(received) == len(versions):
                        break
        wall_s = time.monotonic() - started
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"live at {speed:g}x" in out and f"127.0.0.1:{port}" in out
    assert [i for i, _, _ in received] == list(range(len(versions)))
    assert [(e, v) for _, e, v in received] == [(w.event_id, w.version) for w in versions]
    # paced by simulated time: the last version came about (its issue time - first) / speed after the first
    # (not all at once); a generous lower bound against a replay that dumps everything at connection
    from vigil.timescale import parse_utc

    span_s = (
        parse_utc(versions[-1].issued_at).timestamp() - parse_utc(versions[0].issued_at).timestamp()
    ) / speed
    assert wall_s >= 0.5 * span_s, (wall_s, span_s)
