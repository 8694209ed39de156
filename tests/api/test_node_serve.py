"""``vigil node --config NODE.yaml --serve PORT``: a running partner's node serves its own console live.

A real node process (in-process bus, SQLite store) replays north's recorded observations of the console
test run from just before its first launch is seen; a client connected to ``/api/v1/stream`` after the
node is ready must receive the versions the node issues, live, in order. Independent truth: the node's own
``warnings_out`` file (JSON lines written by the node's fusion loop, not through the API). SIGTERM stops
node and server cleanly: exit 0, the counts line, the port closed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import yaml

from vigil.sharing.keys import Signer, write_key_files
from vigil.sharing.local_services import free_port, port_open

ROOT = Path(__file__).resolve().parents[2]
WANT = 3  # versions to receive live before stopping the node
TIMEOUT_S = 120.0


def _read_stdout(proc: subprocess.Popen) -> tuple[list[str], threading.Thread]:
    """Every stdout line of ``proc``, read on a thread (a pipe's buffered text may hold several lines)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.strip() for line in proc.stdout), daemon=True)
    reader.start()
    return lines, reader


def _wait_line(proc: subprocess.Popen, lines: list[str], prefix: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not any(line.startswith(prefix) for line in lines):
        if time.monotonic() > end or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"no {prefix!r} within {timeout} s: {lines}; stderr: {proc.stderr.read()}")
        time.sleep(0.05)  # polling the reader's list, not waiting for an event


def _listen(url: str, got: list[dict], done: threading.Event) -> None:
    with httpx.stream("GET", url, headers={"Last-Event-ID": "-1"}, timeout=TIMEOUT_S) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data:"):
                got.append(json.loads(line[5:]))
            if len(got) >= WANT or done.is_set():
                return


def _node_config(tmp_path: Path, run_dir: Path) -> Path:
    for node in ("north", "east"):
        write_key_files(Signer.generate(node), tmp_path / "keys")
    cfg = {
        "node": "north",
        "key": "keys/north.key",
        "partner_keys": "keys",
        "agreements": [str(ROOT / "examples" / "agreements" / "north-east.yaml")],
        "bus": {"url": "memory://"},
        "db": "sqlite:///north.db",
        "audit_log": "north-audit.jsonl",
        "warnings_out": "north-warnings.jsonl",
        "observations": {
            "path": str(run_dir / "observations.parquet"),
            "replay_epoch": "start",
            "skip_s": 320,
        },
    }
    path = tmp_path / "north.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_vigil_node_serve_streams_the_nodes_versions_live_and_stops_on_sigterm(
    tmp_path: Path, run_dir: Path
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigil.cli",
            "node",
            "--config",
            str(_node_config(tmp_path, run_dir)),
            "--serve",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT / "src")},
    )
    got: list[dict] = []
    done = threading.Event()
    try:
        lines, reader = _read_stdout(proc)
        _wait_line(proc, lines, "ready: node north", TIMEOUT_S)
        assert any(f"console at http://127.0.0.1:{port}/" in line for line in lines), lines
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").json()["partners"] == ["north"]
        assert "CESIUM_BASE_URL" in httpx.get(f"{base}/").text  # the dashboard
        listener = threading.Thread(target=_listen, args=(f"{base}/api/v1/stream", got, done), daemon=True)
        listener.start()
        listener.join(TIMEOUT_S)
        listed = httpx.get(f"{base}/api/v1/warnings", params={"limit": 1000}).json()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(5)
        err = proc.stderr.read()
    finally:
        done.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    counts = json.loads(lines[-1])
    assert counts["node"] == "north"
    assert not port_open(port)
    written = [json.loads(line) for line in (tmp_path / "north-warnings.jsonl").read_text().splitlines()]
    assert len(got) >= WANT, (len(got), len(written))
    key = [(w["event_id"], w["version"], w["issued_at"]) for w in got]
    assert key == [(w["event_id"], w["version"], w["issued_at"]) for w in written[: len(got)]]
    assert all(w.get("track") for w in got)  # a served node records the tracks the globe draws
    assert listed["total"] >= len(got)
    assert [(w["event_id"], w["version"]) for w in listed["items"]] == [
        (w["event_id"], w["version"]) for w in written[: listed["total"]]
    ]
