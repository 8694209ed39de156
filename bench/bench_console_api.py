"""Console API latency and SSE fan-out, loopback only, bounded.

1. ``/api/v1/warnings`` latency with 10,000 stored warning versions in one partner's view (bearer token,
   default page of 100, plus a ``since=`` query in the middle and a deep page), sequential requests from
   one client to a ``vigil serve`` subprocess: p50 / p99 / max in ms.
2. SSE fan-out: ``--clients`` streams (default 200) held ``--hold-s`` seconds (default 60) while the
   server replays the same 10,000 versions (``--replay``) so new ones arrive all along; every client must
   receive every version issued, in order, once (checked: ids 0..k-1 with k the server's count at the end).

The versions are copies of a real run's warnings (``vigil run``'s ``nodes/<partner>-warnings.json``)
with distinct event ids and issue instants spread over the run. Run:
``.venv/bin/python bench/bench_console_api.py RUN_DIR [--clients 200] [--hold-s 60] [--requests 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

N_VERSIONS = 10_000
TOKEN = "bench-token-0123456789abcdef"
DRAIN_S = 2.0  # after the hold, time for the last versions in flight to reach every client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_store(run_dir: Path, out: Path, partner: str = "north") -> Path:
    """A run folder whose ``partner`` view holds N_VERSIONS versions (copies of the real ones)."""
    doc = json.loads((run_dir / "nodes" / f"{partner}-warnings.json").read_text())
    base = doc["warnings"]
    t0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    versions = []
    for i in range(N_VERSIONS):
        w = dict(base[i % len(base)])
        w["event_id"] = f"B{i // 5:05d}"
        w["version"] = i % 5 + 1
        w["issued_at"] = (t0 + dt.timedelta(seconds=1800.0 * i / N_VERSIONS)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
        versions.append(w)
    (out / "nodes").mkdir(parents=True, exist_ok=True)
    (out / "warnings.json").write_text(json.dumps({"epoch": doc["epoch"], "warnings": versions[:10]}))
    (out / "nodes" / f"{partner}-warnings.json").write_text(
        json.dumps({"epoch": doc["epoch"], "warnings": versions})
    )
    (out / "tokens.yaml").write_text(f"tokens:\n  - {{partner: {partner}, token: {TOKEN}}}\n")
    return out


def start_server(folder: Path, replay: float | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "vigil.cli",
        "serve",
        str(folder),
        "--port",
        str(port),
        "--tokens",
        str(folder / "tokens.yaml"),
    ]
    if replay is not None:
        cmd += ["--replay", str(replay)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")


def latency(base: str, n: int) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    queries = {
        "page 1 (limit 100)": {},
        "since = middle": {"since": "2026-03-01T12:15:00Z"},
        "deep page (offset 9,000)": {"offset": 9000},
        "limit 1000": {"limit": 1000},
    }
    with httpx.Client(base_url=base, headers=headers) as client:
        assert client.get("/api/v1/warnings").json()["total"] == N_VERSIONS
        for name, params in queries.items():
            times = []
            for _ in range(n):
                t = time.perf_counter()
                r = client.get("/api/v1/warnings", params=params)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200
            ms = np.array(times) * 1e3
            print(
                f"  /api/v1/warnings {name:26s} p50 {np.percentile(ms, 50):6.2f} ms   "
                f"p99 {np.percentile(ms, 99):6.2f} ms   max {ms.max():6.2f} ms   ({n} requests)"
            )


async def one_client(base: str, got: list[int]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Last-Event-ID": "-1"}
    async with httpx.AsyncClient(base_url=base, timeout=None) as client:
        async with client.stream("GET", "/api/v1/stream", headers=headers) as r:
            buf = ""
            async for chunk in r.aiter_text():
                buf += chunk
                while "\n\n" in buf:
                    block, buf = buf.split("\n\n", 1)
                    for line in block.splitlines():
                        if line.startswith("id: "):
                            got.append(int(line[4:]))


async def fan_out(base: str, clients: int, hold_s: float) -> None:
    received: list[list[int]] = [[] for _ in range(clients)]
    tasks = [asyncio.create_task(one_client(base, got)) for got in received]
    await asyncio.sleep(hold_s)
    async with httpx.AsyncClient(
        base_url=base, timeout=None
    ) as client:  # versions issued by now: each client's due
        page = (
            await client.get(
                "/api/v1/warnings", params={"limit": 1}, headers={"Authorization": f"Bearer {TOKEN}"}
            )
        ).json()
    await asyncio.sleep(DRAIN_S)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    due = page["total"]
    counts = [len(g) for g in received]
    in_order = all(g == list(range(len(g))) for g in received)
    complete = sum(1 for c in counts if c >= due)
    print(
        f"  SSE: {clients} clients held {hold_s:.0f} s; versions issued by then {due}; received per client "
        f"min {min(counts)} max {max(counts)}; ids contiguous, in order, no duplicates: {in_order}"
    )
    print(
        f"  SSE: clients with every version issued by then (after {DRAIN_S:g} s drain): {complete} / {clients}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--hold-s", type=float, default=60.0)
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    print(f"console API bench, {os.cpu_count()} CPUs, loopback, {N_VERSIONS} versions in the view")
    with tempfile.TemporaryDirectory(prefix="vigil-bench-console-") as tmp:
        folder = make_store(args.run_dir, Path(tmp))
        proc, base = start_server(folder, None)
        try:
            latency(base, args.requests)
        finally:
            stop(proc)
        # Replay the 1800 s of versions over ~1.5 × hold_s so versions keep arriving while clients hold.
        proc, base = start_server(folder, 1800.0 / (1.5 * args.hold_s))
        try:
            asyncio.run(fan_out(base, args.clients, args.hold_s))
        finally:
            stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Terminate the server; kill it if open streams keep it past a few seconds."""
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


if __name__ == "__main__":
    main()
