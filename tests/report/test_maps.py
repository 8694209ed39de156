"""Offline basemap and coverage map PNGs: coastline geography, TopoJSON decoding, pixels of rendered maps."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib import colormaps

from vigil.errors import DataError
from vigil.report.basemap import coastlines, format_lat, format_lon
from vigil.report.maps import (
    DPI,
    coverage_figure,
    figure_size_in,
    gap_figure,
    plot_coverage_maps,
    plot_gap_map,
)

REPO = Path(__file__).resolve().parents[2]
STEP_DEG = 5.0
LAT = -90.0 + STEP_DEG * (np.arange(36) + 0.5)
LON = -180.0 + STEP_DEG * (np.arange(72) + 0.5)
COLOR_TOL = 0.02  # RGBA channel tolerance after 8-bit PNG quantisation and antialiasing
DARK = 0.3  # luminance below which a pixel counts as coastline ink (coast colour is grey 0.1)

# Reference places (degrees), from any atlas.
CAPE_TOWN = (-33.92, 18.42)
MIAMI = (25.76, -80.19)
MID_PACIFIC = (5.0, -140.0)  # open ocean, off the 30° gridlines; its atolls are below 1:110m resolution


def _load_script():
    spec = importlib.util.spec_from_file_location("make_basemap", REPO / "scripts" / "make_basemap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nearest_vertex_deg(lat_deg: float, lon_deg: float) -> float:
    """Great-circle distance (deg) from a place to the nearest coastline vertex."""
    lon, lat = (np.radians(a[np.isfinite(a)].astype(float)) for a in coastlines())
    p_lat, p_lon = np.radians(lat_deg), np.radians(lon_deg)
    cos_d = np.sin(lat) * np.sin(p_lat) + np.cos(lat) * np.cos(p_lat) * np.cos(lon - p_lon)
    return float(np.degrees(np.arccos(np.clip(cos_d.max(), -1.0, 1.0))))


def _render(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba(), dtype=float) / 255.0


def _pixel(fig, rgba, ax, lon_deg, lat_deg) -> np.ndarray:
    x, y = ax.transData.transform((lon_deg, lat_deg))
    return rgba[int(round(rgba.shape[0] - y)), int(round(x))]


# --- coastlines -------------------------------------------------------------------------------------------


def test_coastlines_have_world_extent_and_polylines():
    lon, lat = coastlines()
    assert lon.dtype == np.float32 and lon.shape == lat.shape
    assert np.array_equal(np.isnan(lon), np.isnan(lat))
    assert np.nanmin(lon) >= -180.0 and np.nanmax(lon) <= 180.0
    assert -90.0 <= np.nanmin(lat) < -84.0  # Antarctic coast near the Ross Ice Shelf back, 85.6°S
    assert 83.0 < np.nanmax(lat) <= 84.0  # Cape Morris Jesup, Greenland, 83.6°N
    assert 100 < np.isnan(lon).sum() + 1 < 300 and 3000 < np.isfinite(lon).sum() < 20000
    assert (REPO / "src" / "vigil" / "data" / "coastlines_110m.npz").stat().st_size < 1_000_000


def test_coastlines_pass_through_known_coasts_and_not_open_ocean():
    assert _nearest_vertex_deg(*CAPE_TOWN) < 1.0
    assert _nearest_vertex_deg(*MIAMI) < 1.0
    assert _nearest_vertex_deg(*MID_PACIFIC) > 5.0


def test_no_coastline_segment_jumps_across_the_map():
    lon, lat = coastlines()
    dlon = np.abs(np.diff(lon.astype(float)))
    dlat = np.abs(np.diff(lat.astype(float)))
    # 110m vertices are at most a few degrees apart; a 360° jump would mean an unsplit antimeridian crossing
    assert np.nanmax(dlon) < 20.0 and np.nanmax(dlat) < 10.0


def test_coastlines_are_read_only_cached_arrays():
    lon, _ = coastlines()
    with pytest.raises(ValueError):
        lon[0] = 0.0


# --- the generator script ------------------------------------------------------------------------------


def test_decode_arcs_matches_topojson_specification_example():
    # TopoJSON specification 1.0, section 2.1 example topology and its decoded GeoJSON coordinates
    topology = {
        "transform": {"scale": [0.0005000500050005, 0.00010001000100010001], "translate": [100, 0]},
        "arcs": [
            [[4000, 0], [1999, 9999], [2000, -9999], [2000, 9999]],
            [[0, 0], [0, 9999], [2000, 0], [0, -9999], [-2000, 0]],
        ],
    }
    line, ring = _load_script().decode_arcs(topology)
    np.testing.assert_allclose(line, [[102, 0], [103, 1], [104, 0], [105, 1]], atol=1e-3)
    np.testing.assert_allclose(ring, [[100, 0], [100, 1], [101, 1], [101, 0], [100, 0]], atol=1e-3)


def test_split_arc_cuts_at_antimeridian_and_drops_cut_lines():
    split_arc = _load_script().split_arc
    # 170°E,0° to 170°W,10°: crosses +180° half-way, at 5°N
    east, west = split_arc(np.array([[170.0, 0.0], [-170.0, 10.0]]))
    np.testing.assert_allclose(east, [[170.0, 0.0], [180.0, 5.0]])
    np.testing.assert_allclose(west, [[-180.0, 5.0], [-170.0, 10.0]])
    # a segment along the antimeridian (polygon cut line) disappears, the coast either side stays
    pieces = split_arc(np.array([[178.0, 60.0], [180.0, 61.0], [-180.0, 62.0], [-178.0, 63.0]]))
    assert len(pieces) == 2
    assert all(np.ptp(p[:, 0]) <= 2.0 for p in pieces)


# --- maps ----------------------------------------------------------------------------------------------


def test_coverage_png_has_documented_size_and_is_not_blank(tmp_path):
    field = np.full((LAT.size, LON.size), 0.5)
    panels = [(f"{p} ≥{k}", field) for p in ("A", "B", "A+B") for k in (1, 2)]
    out = plot_coverage_maps(LAT, LON, panels, tmp_path / "cov.png", "Coverage")
    image = mpimg.imread(out)
    width_in, height_in = figure_size_in(6, 2)
    assert image.shape == (round(height_in * DPI), round(width_in * DPI), 4)
    assert image.shape[1] == 1575  # 2 panels of 4.8 in + 0.9 in colorbar, at 150 dpi
    assert image[..., :3].var() > 0.01


def test_uniform_field_shows_colormap_at_sea_and_dark_ink_on_coasts():
    fig = coverage_figure(LAT, LON, [("A", np.full((LAT.size, LON.size), 0.5))], "Uniform")
    rgba = _render(fig)
    ax = fig.axes[0]
    expected = np.asarray(colormaps["viridis"](0.5))
    np.testing.assert_allclose(_pixel(fig, rgba, ax, *MID_PACIFIC[::-1]), expected, atol=COLOR_TOL)
    x0, y0, x1, y1 = np.round(ax.get_window_extent().extents).astype(int)
    inside = rgba[rgba.shape[0] - y1 + 2 : rgba.shape[0] - y0 - 2, x0 + 2 : x1 - 2, :3]
    luminance = inside @ np.array([0.2126, 0.7152, 0.0722])
    dark_fraction = float(np.mean(luminance < DARK))
    assert 0.005 < dark_fraction < 0.2  # thin coast lines, not a blank panel and not a black one
    # coast ink near Cape Town: some dark pixel within 3 px of the coastline's vertex
    x, y = ax.transData.transform(CAPE_TOWN[::-1])
    r, c = int(round(rgba.shape[0] - y)), int(round(x))
    patch = rgba[r - 3 : r + 4, c - 3 : c + 4, :3] @ np.array([0.2126, 0.7152, 0.0722])
    assert patch.min() < DARK


def test_field_orientation_follows_lat_lon_whatever_the_input_order():
    lat2d, lon2d = np.meshgrid(LAT, LON, indexing="ij")
    field = np.where(lon2d > 0.0, 1.0, 0.0) * np.where(lat2d > 0.0, 1.0, 0.5)  # NE=1, SE=0.5, W=0
    ref = _render(coverage_figure(LAT, LON, [("ref", field)], "t"))
    # descending latitude and 0..360 longitude must give the same picture
    lon360 = LON % 360.0
    order = np.argsort(lon360)
    flipped = _render(coverage_figure(LAT[::-1], lon360[order], [("ref", field[::-1][:, order])], "t"))
    np.testing.assert_array_equal(ref, flipped)
    fig = coverage_figure(LAT, LON, [("ref", field)], "t")
    rgba, ax = _render(fig), fig.axes[0]
    cmap = colormaps["viridis"]
    probes = {(100.0, 40.0): 1.0, (100.0, -40.0): 0.5, (-100.0, 40.0): 0.0}  # (lon, lat) off the gridlines
    for (lon, lat), value in probes.items():
        np.testing.assert_allclose(_pixel(fig, rgba, ax, lon, lat), cmap(value), atol=COLOR_TOL)


def test_gap_map_marks_never_seen_cells_darkest_and_nan_grey(tmp_path):
    gap = np.full((LAT.size, LON.size), 2.0)
    gap[:, LON < -100.0] = np.inf  # never seen
    gap[:, LON > 100.0] = np.nan  # not computed
    fig = gap_figure(LAT, LON, [("A+B", gap)], "Gaps", vmax_h=4.0)
    rgba, ax = _render(fig), fig.axes[0]
    cmap = colormaps["YlOrRd"]
    np.testing.assert_allclose(_pixel(fig, rgba, ax, -140.0, -10.0), cmap(1.0), atol=COLOR_TOL)
    np.testing.assert_allclose(_pixel(fig, rgba, ax, -40.0, -10.0), cmap(0.5), atol=COLOR_TOL)
    np.testing.assert_allclose(_pixel(fig, rgba, ax, 140.0, -10.0)[:3], [0.85] * 3, atol=COLOR_TOL)
    out = plot_gap_map(LAT, LON, [("A+B", gap)], tmp_path / "gap.png", "Gaps")
    assert mpimg.imread(out).shape[:2] == tuple(round(v * DPI) for v in figure_size_in(1, 1)[::-1])


def test_sub_points_are_drawn_on_every_panel():
    field = np.zeros((LAT.size, LON.size))
    fig = coverage_figure(LAT, LON, [("a", field), ("b", field)], "t", sub_points=([0.0], [-150.0]))
    rgba = _render(fig)
    for ax in fig.axes[:2]:
        red, green = _pixel(fig, rgba, ax, -150.0, 0.0)[:2]
        assert red > 0.8 and green < 0.4  # marker face #ff3b30 over a dark purple field


@pytest.mark.parametrize(
    ("lat", "lon", "panels", "kwargs"),
    [
        (LAT, LON, [], {}),
        (LAT, LON, [("x", np.zeros((3, 4)))], {}),
        (LAT, LON, [("x", np.zeros((LAT.size, LON.size)))], {"ncols": 0}),
        (np.array([0.0, 0.0]), LON, [("x", np.zeros((2, LON.size)))], {}),
        (np.array([95.0]), LON, [("x", np.zeros((1, LON.size)))], {}),
        (LAT[:, None], LON, [("x", np.zeros((LAT.size, LON.size)))], {}),
        (LAT, LON, [("x", np.zeros((LAT.size, LON.size)))], {"sub_points": ([0.0, 1.0], [2.0])}),
    ],
)
def test_bad_map_input_is_one_line_data_error(lat, lon, panels, kwargs):
    with pytest.raises(DataError) as info:
        coverage_figure(lat, lon, panels, "t", **kwargs)
    assert "\n" not in str(info.value)


def test_gap_map_rejects_nonpositive_scale():
    with pytest.raises(DataError, match="vmax_h"):
        gap_figure(LAT, LON, [("x", np.ones((LAT.size, LON.size)))], "t", vmax_h=0.0)


def test_unwritable_output_is_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot write"):
        plot_coverage_maps(LAT, LON, [("x", np.zeros((LAT.size, LON.size)))], tmp_path / "no" / "m.png", "t")


def test_tick_labels_name_hemispheres():
    assert [format_lon(v) for v in (-180, -120, 0, 60, 180)] == ["180°", "120°W", "0°", "60°E", "180°"]
    assert [format_lat(v) for v in (-60, 0, 30)] == ["60°S", "0°", "30°N"]


def test_plotting_leaves_no_pyplot_state():
    code = (
        "import sys, tempfile, numpy as np\n"
        "from vigil.report.maps import plot_coverage_maps\n"
        "d = tempfile.mkdtemp()\n"
        "plot_coverage_maps(np.array([0.0]), np.array([0.0]), [('x', np.ones((1, 1)))], d + '/m.png', 't')\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
