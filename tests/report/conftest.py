"""A real two-partner run (testkit.consolerun) for the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit.consolerun import make_console_run


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_console_run(tmp_path_factory.mktemp("report"))
