"""Live mode — ``vigil run SCENARIO --serve PORT [--speed X]`` or ``vigil serve SCENARIO.yaml [--replay X]``: simulate the scenario, then fuse it in simulated time at
``speed`` × real time in a background thread, so the API lists and streams each warning version when
fusion issues it (the fusion engine yields ``(time_s, warnings)`` per chunk; the thread waits until the
wall clock reaches ``time_s / speed`` before publishing them).

Live mode serves the whole scenario (the joint fusion of every partner's detections), so it runs only
without tokens, on loopback; per-partner views come from a run directory (``vigil run``'s ``nodes/``).
Versions are published with :meth:`~vigil.api.source.NodeView.publish` (SSE text → version → issue instant).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from vigil.errors import ConfigError
from vigil.timescale import parse_utc

from .source import NodeView, Source


class LiveSource(Source):
    """A scenario fused live (module docstring); ``done`` is set when fusion has finished."""

    def __init__(
        self,
        scenario_path: str | Path,
        speed: float = 10.0,
        seed: int | None = None,
        option: str = "--replay",
    ) -> None:
        from vigil.sim import load_scenario
        from vigil.sim.commands import DEFAULT_SEED

        if not speed > 0.0:
            raise ConfigError(f"{option}: {speed} is not a positive speed")
        self.scenario_path = Path(scenario_path).resolve()
        self.scenario = load_scenario(self.scenario_path)
        self.epoch = self.scenario.epoch_iso
        self.partners = [p.id for p in self.scenario.partners]
        self.speed = speed
        self.seed = (
            seed
            if seed is not None
            else (self.scenario.seed if self.scenario.seed is not None else DEFAULT_SEED)
        )
        self._view = NodeView(None, [], coverage={"partners": self.partners})
        self._view.sensors = []
        self.done = threading.Event()
        self._thread: threading.Thread | None = None

    def view(self, partner: str | None) -> NodeView:
        if partner is not None:
            raise ConfigError(f"partner {partner!r}: live mode serves the whole scenario only (no tokens)")
        return self._view

    def start(self) -> None:
        """Simulate, then start the fusion thread (returns at once)."""
        from vigil.sim import simulate

        result = simulate(self.scenario, np.random.default_rng(self.seed))
        obs = result.observations
        ids, counts = np.unique(obs.sensor_id.astype(str), return_counts=True)
        partner_of = dict(zip(obs.sensor_id.astype(str), obs.partner_id.astype(str), strict=False))
        self._view.sensors = [
            {"sensor_id": str(s), "partner_id": partner_of[str(s)], "detections": int(n)}
            for s, n in zip(ids, counts, strict=True)
        ]
        self._thread = threading.Thread(target=self._fuse, args=(obs,), name="vigil-live-fusion", daemon=True)
        self._thread.start()

    def _fuse(self, observations: Any) -> None:
        from vigil.fusion import FusionConfig, FusionEngine

        wall0 = time.monotonic()
        epoch_s = parse_utc(observations.epoch, "epoch").timestamp()
        try:
            for now_s, issued in FusionEngine(FusionConfig(tracks=True)).run(observations):
                delay = wall0 + now_s / self.speed - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                for w in issued:
                    self._publish(w.to_dict(), epoch_s)
        finally:
            self.done.set()

    def _publish(self, record: dict[str, Any], epoch_s: float) -> None:
        issued = (
            parse_utc(record["issued_at"], "issued_at").timestamp() if record.get("issued_at") else epoch_s
        )
        self._view.publish({**record, "issued_s": issued})


def serve_scenario(
    scenario: str | Path,
    port: int,
    speed: float,
    host: str = "127.0.0.1",
    seed: int | None = None,
    option: str = "--speed",
) -> None:
    """Run ``scenario`` live at ``speed`` × real time and serve the console on ``host:port`` (loopback only:
    live mode has no tokens) until interrupted; what ``vigil run SCENARIO --serve PORT`` does."""
    import typer
    import uvicorn

    from .app import create_app
    from .bind import check_bind, format_banner

    bind = check_bind(host, None)
    source = LiveSource(scenario, speed, seed, option)
    source.start()
    typer.echo(f"running {source.scenario.name} live at {source.speed:g}x real time (seed {source.seed})")
    typer.echo(format_banner(bind, port, source.partners, False))
    uvicorn.run(create_app(source), host=bind, port=port, log_level="warning")
