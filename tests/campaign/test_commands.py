"""``vigil campaign``: one line for a bad file or flag, and a small sharing campaign end to end (tables,
summary with per-partner intervals, report with its figures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vigil.campaign.report import render_report
from vigil.campaign.results import read_table
from vigil.cli import main

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"


def test_bad_campaign_file_is_one_error_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"scenario: {DATA / 'tiny.yaml'}\nseeds: -3\n", encoding="utf-8")
    assert main(["campaign", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad.yaml: seeds") and err.count("\n") == 1


def test_workers_below_one_is_one_error_line(tmp_path, capsys):
    assert main(["campaign", str(DATA / "tiny-campaign.yaml"), "--out", str(tmp_path), "--workers", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: --workers: must be at least 1 (got 0)"


def test_unreachable_scheduler_is_one_error_line(tmp_path, capsys):
    rc = main(
        [
            "campaign",
            str(DATA / "tiny-campaign.yaml"),
            "--out",
            str(tmp_path),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ]
    )
    err = capsys.readouterr().err
    assert (
        rc == 3
        and err.startswith("error: --scheduler tcp://127.0.0.1:9: cannot connect")
        and err.count("\n") == 1
    )


def test_sharing_campaign_end_to_end(tmp_path, capsys):
    campaign = tmp_path / "c.yaml"
    campaign.write_text(
        f"name: small\nscenario: {DATA / 'tiny.yaml'}\nseeds: 3\nsharing: true\nvariants:\n"
        "  - name: as-signed\n  - name: late\n    agreement: {delay_s: 120}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["campaign", str(campaign), "--out", str(out), "--workers", "2"]) == 0
    assert "small: 6 / 6 tasks ok" in capsys.readouterr().out
    launches, sharing = read_table(out / "launches.parquet"), read_table(out / "sharing.parquet")
    assert len(launches) == 6 * 2 and len(sharing) == 6 * 2 * 2 * 2  # tasks × partners × views × launches
    summary = json.loads((out / "summary.json").read_text())
    east = summary["variants"]["as-signed"]["sharing"]["east"]
    rows = [r for r in sharing if r["variant"] == "as-signed" and r["partner"] == "east"]
    seen = {v: sum(r["seen"] for r in rows if r["view"] == v) / 6 for v in ("alone", "shared")}
    assert east["alone"]["seen_rate"]["estimate"] == pytest.approx(seen["alone"])
    assert east["shared_minus_alone"]["seen_rate"]["estimate"] == pytest.approx(
        seen["shared"] - seen["alone"]
    )
    lat = sorted(r["latency_s"] for r in rows if r["view"] == "shared" and r["latency_s"] is not None)
    assert east["shared"]["latency_s"]["estimate"] == pytest.approx(float(__import__("numpy").median(lat)))
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "Value of sharing" in page


def test_report_without_sharing_has_two_figures(tmp_path):
    summary = {
        "campaign": "x",
        "tasks": 0,
        "ok": 0,
        "failed": [{"key": "a__s0000001", "error": "E: <b>"}],
        "missing": 0,
        "bootstrap": {"resamples": 10},
        "variants": {},
    }
    page = render_report(summary, [], [])
    assert page.count("data:image/png;base64,") == 2 and "E: &lt;b&gt;" in page


def test_example_campaigns_load():
    from vigil.campaign import expand, load_campaign

    tasks = expand(load_campaign(EXAMPLES / "value-of-sharing.yaml"))
    assert len(tasks) == 3 * 50 and {t.variant for t in tasks} == {"as-signed", "prompt", "coarse-late"}
    assert len(expand(load_campaign(EXAMPLES / "reference.yaml"))) == 100
