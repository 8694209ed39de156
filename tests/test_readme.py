"""The README's command examples run as written (paths under out/ redirected to a temporary folder)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from vigil.cli import main

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == ".venv/bin/vigil":
                commands.append(words[1:])
    return commands


def test_readme_has_examples():
    assert {c[0] for c in readme_commands()} >= {"coverage", "run"}


@pytest.mark.slow
@pytest.mark.parametrize("argv", readme_commands(), ids=lambda a: a[0])
def test_readme_example_runs(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = [str(tmp_path / a[4:]) if a.startswith("out/") else a for a in argv]
    assert main(argv) == 0
    outputs = [Path(a) for a in argv if a.startswith(str(tmp_path))]
    assert outputs and all(p.exists() for p in outputs)
