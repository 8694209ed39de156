"""Notification files: shipped examples load, the bad corpus fails in one line naming key path and reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from vigil.errors import ConfigError
from vigil.warning.notifications import dump_notifications, load_notifications, parse_notifications

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "notifications").glob("*.yaml"))
BAD = sorted((Path(__file__).parent / "bad_notifications").glob("*.yaml"))


def test_corpora_are_present():
    assert len(EXAMPLES) >= 2 and len(BAD) >= 8


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_shipped_example_loads_and_round_trips(path):
    notes = load_notifications(path)
    assert notes and all(n.window_end > n.window_start for n in notes)
    again = parse_notifications(yaml.safe_load(dump_notifications(notes)), "dumped")
    assert again == notes


def test_example_salvo_notification_crosses_antimeridian_and_is_a_group():
    salvo = {n.notification_id: n for n in load_notifications(EXAMPLES[-1])}["N-0302-S1"]
    assert salvo.group and salvo.count == 3 and salvo.group_id == "salvo-0302"
    lons = [lon for lon, _ in salvo.impact_area.polygon]
    assert min(lons) < -170 and max(lons) > 170
    assert salvo.window_s("2026-03-02T00:00:00Z") == (6 * 3600.0, 8 * 3600.0)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_notification_fails_in_one_line_naming_key_and_reason(path):
    expected = path.read_text().splitlines()[0].split("expect:", 1)[1].strip()
    with pytest.raises(ConfigError) as err:
        load_notifications(path)
    text = str(err.value)
    assert text.startswith(str(path)) and expected in text and "\n" not in text


def test_yaml_datetimes_and_offsets_become_utc():
    item = {
        "notification_id": "T1",
        "partner_id": "north",
        "class": "space_launch",
        "window_start": dt.datetime(2026, 3, 1, 12, 0),  # naive, as PyYAML may give: taken as UTC
        "window_end": "2026-03-01T15:30:00+03:00",
        "launch_area": {"circle": {"lat_deg": 0, "lon_deg": 0, "radius_km": 1}},
        "azimuth_sector_deg": [350, 10],
    }
    note = parse_notifications({"notifications": [item]})[0]
    assert note.window_s("2026-03-01T12:00:00Z") == (0.0, 1800.0)


def test_missing_file_is_a_config_error():
    with pytest.raises(ConfigError, match="nope.yaml: cannot read"):
        load_notifications("nope.yaml")


def test_documentation_yaml_example_is_valid():
    text = (ROOT / "docs" / "notifications.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    notes = parse_notifications(yaml.safe_load(block), "docs/notifications.md")
    assert [n.notification_id for n in notes] == ["N-0302-S1"] and notes[0].count == 3
