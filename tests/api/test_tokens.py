"""The tokens file and the bind rule of ``vigil serve``."""

from __future__ import annotations

import pytest

from vigil.api.bind import check_bind, format_banner
from vigil.api.tokens import parse_tokens
from vigil.errors import ConfigError

GOOD = {"tokens": [{"partner": "north", "token": "n" * 16}, {"partner": "east", "token": "e" * 40}]}


def test_a_token_maps_to_its_partner_only() -> None:
    table = parse_tokens(GOOD)
    assert table.partner_of("n" * 16) == "north" and table.partner_of("e" * 40) == "east"
    assert table.partner_of("n" * 15) is None and table.partner_of("n" * 17) is None
    assert table.partner_of("") is None and table.partners == ["east", "north"]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"tokens": [{"partner": "north", "token": "short"}]}, "tokens[0].token"),
        ({"tokens": [{"partner": "no rth", "token": "x" * 20}]}, "tokens[0].partner"),
        ({"tokens": [{"partner": "north", "token": "x" * 20, "role": "admin"}]}, "tokens[0].role"),
        (
            {"tokens": [{"partner": "a", "token": "x" * 20}, {"partner": "b", "token": "x" * 20}]},
            "tokens[1].token",
        ),
        ({"tokens": []}, "tokens"),
        ({"tokenz": []}, "tokens: required key is missing"),
        ([1, 2], "tokens"),
    ],
)
def test_bad_token_files_name_the_key(data, where: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_tokens(data, "tokens.yaml")
    assert str(err.value).startswith("tokens.yaml") and where in str(err.value)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_without_tokens_only_loopback_may_be_bound(host: str) -> None:
    with pytest.raises(ConfigError, match="--host"):
        check_bind(host, None)


def test_loopback_or_tokens_bind_as_asked(tmp_path) -> None:
    assert check_bind("127.0.0.1", None) == "127.0.0.1" and check_bind("::1", None) == "::1"
    assert check_bind("0.0.0.0", tmp_path / "tokens.yaml") == "0.0.0.0"
    assert "127.0.0.1 only" in format_banner("127.0.0.1", 8080, ["north"], tokens=False)
