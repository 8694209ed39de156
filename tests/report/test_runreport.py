"""The run report: one self-contained HTML file holding every launch of the run and its figures."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from vigil.errors import ConfigError
from vigil.report.runfigures import EARTH_RADIUS_KM, ellipse_lonlat
from vigil.report.runreport import build_report


def test_report_is_self_contained_and_lists_every_launch(run_dir, tmp_path) -> None:
    import json

    from vigil.cli import main

    out = tmp_path / "r" / "report.html"
    assert main(["report", str(run_dir), "--out", str(out)]) in (0, None)
    text = out.read_text()
    score = json.loads((run_dir / "score.json").read_text())
    for rec in score["launches"]:
        assert f"<td>{rec['id']}</td>" in text
    images = re.findall(r"src='data:image/png;base64,([^']+)'", text)
    assert len(images) >= 4  # map, latency, error vs CRLB, value of sharing
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", text)  # nothing loaded from elsewhere


def test_a_folder_without_a_run_is_a_one_line_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="score.json"):
        build_report(tmp_path)


@pytest.mark.parametrize(
    ("lat_deg", "bearing_deg", "a_km", "b_km"), [(0.0, 0.0, 300.0, 300.0), (45.0, 30.0, 500.0, 200.0)]
)
def test_ellipse_outline_lies_at_its_semi_axes_by_great_circle_distance(
    lat_deg, bearing_deg, a_km, b_km
) -> None:
    lon, lat = ellipse_lonlat(lat_deg, 10.0, (bearing_deg, a_km, b_km))
    phi0, lam0 = np.radians(lat_deg), np.radians(10.0)
    phi, lam = np.radians(lat), np.radians(lon)
    hav = np.sin((phi - phi0) / 2) ** 2 + np.cos(phi0) * np.cos(phi) * np.sin((lam - lam0) / 2) ** 2
    dist_km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(hav))
    assert dist_km.max() == pytest.approx(a_km, rel=0.02)  # haversine: independent of the tangent-plane map
    assert dist_km.min() == pytest.approx(b_km, rel=0.02)
