"""Every command that writes: an existing output, a non-empty folder or one of the command's own inputs is
never overwritten without ``--force`` (an input never, even with it), the refusal is one line before any
work, and ``--force`` replaces the output whole, leaving no temporary sibling behind.

Each case names a command, how to make its inputs, and the output the user points at something precious.
The precious thing is a file whose bytes the test wrote (the truth): after a refusal they are unchanged.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest

from vigil.cli import main
from vigil.sharing.keys import Signer, write_key_files

from .kit import EXAMPLES, one_error_line, scenario, write_yaml

SENTINEL = b"precious: written by the test, must survive\n"
TELEMETRY = Path(str(resources.files("vigil") / "data" / "telemetry" / "spacex-crs-8.csv"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inputs shared by the cases: a small scenario, its simulation and a scored run, copied examples."""
    root = tmp_path_factory.mktemp("clobber")
    write_yaml(root / "scenario.yaml", scenario())
    assert main(["simulate", str(root / "scenario.yaml"), "--out", str(root / "sim"), "--json"]) == 0
    assert main(["run", str(root / "scenario.yaml"), "--out", str(root / "run"), "--json"]) == 0
    shutil.copy(EXAMPLES / "constellations" / "north.tle", root / "north.tle")
    shutil.copy(TELEMETRY, root / "telemetry.csv")
    shutil.copy(EXAMPLES / "agreements" / "north-east.yaml", root / "north-east.yaml")
    return root


def _campaign(root: Path) -> Path:
    folder = root / "campaign-in"
    folder.mkdir(exist_ok=True)
    write_yaml(folder / "scenario.yaml", scenario())
    return write_yaml(
        folder / "c.yaml",
        {"name": "clobber", "scenario": "scenario.yaml", "seeds": [1], "variants": [{"name": "as-signed"}]},
    )


def _node(root: Path, **outputs: str) -> Path:
    keys = root / "node-keys"
    if not keys.exists():
        write_key_files(Signer.generate("north"), keys)
        write_key_files(Signer.generate("east"), keys)
    agreement = root / "agreement.yaml"
    shutil.copy(EXAMPLES / "agreements" / "north-east.yaml", agreement)
    doc = {
        "node": "east",
        "key": str(keys / "east.key"),
        "partner_keys": str(keys),
        "agreements": [str(agreement)],
        "bus": {"url": "memory://"},
        "db": "sqlite://:memory:",
        "audit_log": str(root / "audit.jsonl"),
    }
    return write_yaml(root / "node.yaml", doc | outputs)


@dataclass(frozen=True)
class Case:
    """``argv(root, out)`` writes to ``out``; ``folder``: the output is a folder; ``force``: has --force."""

    name: str
    argv: Callable[[Path, Path], list[str]]
    folder: bool = False
    force: bool = True
    input_of: Callable[[Path], Path] | None = None  # one of its inputs, pointed at as the output
    option: str = "--out"


CASES = [
    Case(
        "simulate",
        lambda r, o: ["simulate", r / "scenario.yaml", "--out", o, "--json"],
        folder=True,
        input_of=lambda r: r / "scenario.yaml",
    ),
    Case(
        "run",
        lambda r, o: ["run", r / "scenario.yaml", "--out", o, "--json"],
        folder=True,
        input_of=lambda r: r / "scenario.yaml",
    ),
    Case(
        "fuse",
        lambda r, o: ["fuse", r / "sim", "--out", o],
        input_of=lambda r: r / "sim" / "observations.parquet",
    ),
    Case(
        "fly",
        lambda r, o: [
            "fly",
            "notional-srbm-1stage",
            "--lat",
            "34",
            "--lon",
            "36",
            "--azimuth",
            "180",
            "--json",
            o,
            "--quiet",
        ],
        option="--json",
    ),
    Case(
        "replay",
        lambda r, o: [
            "replay",
            r / "telemetry.csv",
            "--lat",
            "28.56",
            "--lon",
            "-80.58",
            "--azimuth",
            "45",
            "--json",
            o,
            "--quiet",
        ],
        input_of=lambda r: r / "telemetry.csv",
        option="--json",
    ),
    Case(
        "coverage --json",
        lambda r, o: [
            "coverage",
            "--constellation",
            r / "north.tle",
            "--start",
            "2026-03-01T12:00:00Z",
            "--hours",
            "0.2",
            "--step-s",
            "600",
            "--grid-deg",
            "30",
            "--quiet",
            "--json",
            o,
        ],
        input_of=lambda r: r / "north.tle",
        option="--json",
    ),
    Case(
        "coverage --png",
        lambda r, o: [
            "coverage",
            "--constellation",
            r / "north.tle",
            "--start",
            "2026-03-01T12:00:00Z",
            "--hours",
            "0.2",
            "--step-s",
            "600",
            "--grid-deg",
            "30",
            "--quiet",
            "--png",
            o,
        ],
        input_of=lambda r: r / "north.tle",
        option="--png",
    ),
    Case(
        "report", lambda r, o: ["report", r / "run", "--out", o], input_of=lambda r: r / "run" / "score.json"
    ),
    Case(
        "campaign",
        lambda r, o: ["campaign", _campaign(r), "--out", o, "--workers", "1", "--no-report"],
        folder=True,
        force=False,
        input_of=lambda r: _campaign(r).parent,
    ),
    Case("demo", lambda r, o: ["demo", "--out", o.parent, "--examples", EXAMPLES], input_of=None),
    Case(
        "sharing sweep",
        lambda r, o: [
            "sharing",
            "sweep",
            r / "scenario.yaml",
            "--out",
            o,
            "--agreement",
            r / "north-east.yaml",
            "--delay-s",
            "0",
            "--precision-m",
            "1000",
        ],
        folder=True,
        input_of=lambda r: r / "north-east.yaml",
    ),
    Case(
        "keys generate", lambda r, o: ["keys", "generate", "--node", o.stem, "--out", o.parent], force=False
    ),
]


def _fingerprint(path: Path) -> str:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()


def _precious(case: Case, tmp: Path) -> Path:
    """The existing output the user points the command at: a file, or a non-empty folder."""
    if case.name == "demo":
        (tmp / "demo").mkdir()
        out = tmp / "demo" / "coverage-gaps.png"  # the second map is as precious as the first
    elif case.name == "keys generate":
        out = tmp / "keys" / "north.key"
        out.parent.mkdir()
    elif case.folder:
        out = tmp / "folder"
        out.mkdir()
        (out / "notes.txt").write_bytes(SENTINEL)
        return out
    else:
        out = tmp / "existing.out"
    out.write_bytes(SENTINEL)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_existing_output_is_refused_in_one_line_and_left_as_it_was(capsys, world, tmp_path, case):
    out = _precious(case, tmp_path)
    before = _fingerprint(out)
    line = one_error_line(capsys, case.argv(world, out))
    assert "already exists" in line or "not an earlier output" in line, line
    assert _fingerprint(out) == before


@pytest.mark.parametrize("case", [c for c in CASES if c.input_of is not None], ids=lambda c: c.name)
def test_an_output_that_is_one_of_the_inputs_is_refused_even_with_force(capsys, world, tmp_path, case):
    target = case.input_of(world)
    before = _fingerprint(target)
    argv = case.argv(world, target) + (["--force"] if case.force else [])
    line = one_error_line(capsys, argv, case.option)
    assert "input" in line, line
    assert _fingerprint(target) == before


CHEAP = ["fuse", "fly", "replay", "coverage --json", "coverage --png", "report", "simulate"]


@pytest.mark.parametrize("case", [c for c in CASES if c.name in CHEAP], ids=lambda c: c.name)
def test_force_replaces_the_output_whole_and_leaves_no_temporary_sibling(capsys, world, tmp_path, case):
    out = _precious(case, tmp_path)
    assert main([str(a) for a in case.argv(world, out) + ["--force"]]) == 0, capsys.readouterr().err
    if case.folder:
        assert not (out / "notes.txt").exists() and any(out.iterdir())  # replaced, not merged into
    else:
        assert out.read_bytes() != SENTINEL and out.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_campaign_resumes_into_its_own_folder_but_never_into_another_campaigns(capsys, world, tmp_path):
    out = tmp_path / "c-out"
    (out / "tasks").mkdir(parents=True)
    (out / "summary.json").write_text('{"campaign": "another"}', encoding="utf-8")
    line = one_error_line(
        capsys, ["campaign", _campaign(world), "--out", out, "--workers", "1", "--no-report"]
    )
    assert "not an earlier output of campaign 'clobber'" in line


@pytest.mark.parametrize(
    ("outputs", "needle"),
    [
        (
            lambda r: {"warnings_out": str(r / "node-keys" / "east.key")},
            "warnings_out",
        ),  # its own private key
        (lambda r: {"warnings_out": str(r / "agreement.yaml")}, "warnings_out"),
        (lambda r: {"audit_log": str(r / "node-keys" / "north.pub")}, "audit_log"),
        (lambda r: {"warnings_out": str(r / "audit.jsonl")}, "warnings_out"),  # two outputs in one file
        (lambda r: {"db": f"sqlite:///{r / 'audit.jsonl'}"}, "db"),
        (lambda r: {"audit_log": str(r / "node.yaml")}, "audit_log"),  # the node file itself
    ],
)
def test_a_node_never_appends_to_what_it_reads_or_to_another_of_its_outputs(
    capsys, tmp_path, outputs, needle
):
    _node(tmp_path)  # keys and agreement exist
    config = _node(tmp_path, **outputs(tmp_path))
    inputs = [tmp_path / "node-keys", tmp_path / "agreement.yaml", config]
    before = [_fingerprint(p) for p in inputs]
    line = one_error_line(capsys, ["node", "--config", config], needle)
    assert "input" in line, line
    assert [_fingerprint(p) for p in inputs] == before


def test_sharing_sweep_never_writes_over_the_scenarios_own_agreement(capsys, tmp_path):
    agreement = tmp_path / "north-east.yaml"
    shutil.copy(EXAMPLES / "agreements" / "north-east.yaml", agreement)
    doc = scenario() | {"agreements": [str(agreement)]}
    path = write_yaml(tmp_path / "s.yaml", doc)
    before = _fingerprint(agreement)
    line = one_error_line(capsys, ["sharing", "sweep", path, "--out", agreement, "--force"], "--out")
    assert "input" in line, line
    assert _fingerprint(agreement) == before
