"""``vigil node --config NODE.yaml --serve PORT``: a partner's node serves its own console while it runs.

The node's fusion hands each chunk's new warning versions (its joint fusion of own and received data, the
same list ``warnings_out`` gets) to :meth:`NodeConsole.publish`, which appends them to a
:class:`~vigil.api.source.NodeView`: the lists and ``/api/v1/stream`` grow as the node issues versions.
The API and dashboard run in a uvicorn server on a background thread, bound to a loopback address only
(no tokens: the node's own operator sees the node's whole view), started once the node is ready and
stopped (``should_exit``, then ``force_exit`` after :data:`STOP_S`) when the node stops (SIGTERM/SIGINT).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from vigil.errors import ServiceError
from vigil.timescale import parse_utc

from .source import NodeView, Source

START_S = 20.0
"""Seconds the server may take to listen."""
STOP_S = 3.0
"""Seconds open streams get to close before the server is stopped hard."""


class NodeSource(Source):
    """The running node's view: the versions it issued since it started (``publish``)."""

    def __init__(self, node_id: str, epoch: str) -> None:
        self.epoch, self.partners = epoch, [node_id]
        self.epoch_s = parse_utc(epoch, "epoch").timestamp()
        self._view = NodeView(None, [], coverage={"partners": [node_id]})

    def view(self, partner: str | None) -> NodeView:
        self._check(partner)
        return self._view

    def publish(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            at = record.get("issued_at")
            issued = parse_utc(at, "issued_at").timestamp() if at else self.epoch_s
            self._view.publish({**record, "issued_s": issued})


class NodeConsole:
    """The console of one running node on ``host:port`` (loopback, checked by :func:`check_bind`)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        from .bind import check_bind

        self.host, self.port = check_bind(host, None), port
        self.source: NodeSource | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, node_id: str, epoch: str) -> str:
        """Serve the node's view; returns the banner line. ServiceError when the port cannot be bound."""
        import uvicorn

        from .app import create_app
        from .bind import format_banner

        self.source = NodeSource(node_id, epoch)
        config = uvicorn.Config(
            create_app(self.source),
            host=self.host,
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=int(STOP_S),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="vigil-node-console", daemon=True)
        self._thread.start()
        end = time.monotonic() + START_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > end:
                self.stop()
                raise ServiceError(
                    f"--serve {self.port}: cannot listen on {self.host}:{self.port} "
                    f"(port in use or not allowed)"
                )
            time.sleep(0.02)  # readiness poll of the server thread
        return format_banner(self.host, self.port, [node_id], False)

    def publish(self, warnings: list[Any]) -> None:
        """The node's new versions (Warning objects) into the view and the stream."""
        if self.source is not None and warnings:
            self.source.publish([w.to_dict() for w in warnings])

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(STOP_S + 1.0)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(STOP_S)
