"""Fixtures: constellations built from chosen elements."""

from __future__ import annotations

import pytest
from testkit.orbits import constellation, geo, molniya


@pytest.fixture
def one_geo():
    return constellation("geo", [geo(1, 0.0)])


@pytest.fixture
def mixed_geo_heo():
    return constellation(
        "mixed", [geo(1, -75.0), geo(2, 60.0), molniya(3, 0.0, 0.0), molniya(4, 180.0, 180.0)]
    )
