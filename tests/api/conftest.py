"""Fixtures of the console tests: a real two-partner run (testkit.consolerun) served with a token each."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit.consolerun import TOKENS, make_console_run
from testkit.postgres import pg_dsn  # noqa: F401  (the session's PostgreSQL: 5432, else a private one)

from vigil.api import create_app, parse_tokens
from vigil.api.source import RunSource


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_console_run(tmp_path_factory.mktemp("console"))


@pytest.fixture(scope="session")
def source(run_dir: Path) -> RunSource:
    return RunSource(run_dir)


@pytest.fixture(scope="session")
def app(source: RunSource):
    tokens = parse_tokens({"tokens": [{"partner": p, "token": t} for p, t in TOKENS.items()]})
    return create_app(source, tokens)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    return TestClient(app)


@pytest.fixture(scope="session")
def auth() -> dict[str, dict[str, str]]:
    """Partner → the request headers carrying its token."""
    return {p: {"Authorization": f"Bearer {t}"} for p, t in TOKENS.items()}
