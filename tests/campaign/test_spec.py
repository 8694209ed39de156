"""Campaign files: overrides land where they say, expansion is variant × seed, and every bad file is one
ConfigError line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vigil.campaign import expand, load_campaign, parse_campaign
from vigil.campaign.work import _agreements, prepared
from vigil.errors import ConfigError

DATA = Path(__file__).parent / "data"


def _campaign(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"scenario": str(DATA / "tiny.yaml"), "seeds": 2} | doc), encoding="utf-8")
    return path


def test_expansion_is_variants_times_seeds_in_order():
    campaign = load_campaign(DATA / "tiny-campaign.yaml")
    tasks = expand(campaign)
    assert [(t.variant, t.seed) for t in tasks] == [(v, s) for v in ("base", "noisy") for s in range(4)]
    assert len({t.key for t in tasks}) == 8


def test_sensor_override_reaches_every_partner_and_nothing_else():
    tasks = expand(load_campaign(DATA / "tiny-campaign.yaml"))
    base, _ = prepared(tasks[0])
    noisy, _ = prepared(tasks[-1])
    assert [p.sensor.los_sigma_rad for p in base.partners] == pytest.approx([20e-6, 30e-6])
    assert [p.sensor.los_sigma_rad for p in noisy.partners] == pytest.approx([40e-6, 40e-6])
    assert [p.sensor.frame_s for p in noisy.partners] == [1.0, 2.0]  # the rest of each sensor kept
    assert noisy.launches == base.launches


def test_partner_override_by_id_and_explicit_seed_list(tmp_path):
    path = _campaign(
        tmp_path,
        {
            "seeds": [7, 3],
            "variants": [
                {
                    "name": "fast-east",
                    "scenario": {"partners": {"east": {"sensor": {"frame_s": 0.5}}}, "duration_s": 200},
                }
            ],
        },
    )
    tasks = expand(load_campaign(path))
    assert [t.seed for t in tasks] == [7, 3]
    scenario, _ = prepared(tasks[0])
    assert [p.sensor.frame_s for p in scenario.partners] == [1.0, 0.5]
    assert scenario.duration_s == 200.0


def test_agreement_override_applies_to_every_direction(tmp_path):
    path = _campaign(
        tmp_path, {"sharing": True, "variants": [{"name": "slow", "agreement": {"delay_s": 90}}]}
    )
    (agreement,) = _agreements(expand(load_campaign(path))[0])
    assert {k: d.delay_s for k, d in agreement.directions.items()} == {
        "north->east": 90.0,
        "east->north": 90.0,
    }
    assert agreement.directions["east->north"].precision_m == 1000.0  # untouched clauses kept


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"seedz": 3}, "c.yaml: seedz: unknown key"),
        ({"seeds": 0}, "c.yaml: seeds"),
        ({"variants": [{"name": "a"}, {"name": "a"}]}, "variants[1].name: 'a' is used twice"),
        ({"variants": [{"name": "bad name!"}]}, "c.yaml: variants[0].name"),
        (
            {"variants": [{"name": "a", "sensor": {"los_sigma_urad": -1}}]},
            "c.yaml: variants[0].scenario: partners[0].sensor.los_sigma_urad: -1 is outside",
        ),
        (
            {"variants": [{"name": "a", "scenario": {"partners": {"west": {}}}}]},
            "c.yaml: variants[0].partners.west: no partner 'west'",
        ),
        (
            {"variants": [{"name": "a", "agreement": {"precision_m": 0.1}}]},
            "c.yaml: variants[0].agreement (applied to north-east.yaml): directions.north->east.precision_m",
        ),
        (
            {"variants": [{"name": "a", "agreement": {"delay": 3}}]},
            "c.yaml: variants[0].agreement.delay: unknown key",
        ),
        ({"scenario": "nowhere.yaml"}, "c.yaml: scenario: file not found"),
    ],
)
def test_bad_campaign_is_one_line_naming_the_key(tmp_path, doc, expected):
    with pytest.raises(ConfigError) as err:
        load_campaign(_campaign(tmp_path, doc))
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_sharing_needs_an_agreement(tmp_path):
    with pytest.raises(ConfigError, match=r"variants\[0\].scenario.agreements: sharing: true needs"):
        load_campaign(
            _campaign(
                tmp_path, {"sharing": True, "variants": [{"name": "a", "scenario": {"agreements": []}}]}
            )
        )


def test_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="c.yaml: the campaign must be a mapping"):
        parse_campaign([1, 2], tmp_path / "c.yaml")
