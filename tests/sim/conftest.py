"""Fixtures for the simulator tests."""

from __future__ import annotations

import json

import pytest

from .simkit import omm_record


@pytest.fixture
def omm_file(tmp_path):
    """A two-satellite GEO constellation file (OMM JSON) over 50°E and 80°E."""
    path = tmp_path / "geo.json"
    path.write_text(json.dumps([omm_record(1, 50.0), omm_record(2, 80.0)]))
    return path
