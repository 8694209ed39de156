"""PNG maps of coverage statistics on a global latitude/longitude grid, drawn fully offline.

Each figure is a grid of plate carrée (equirectangular) panels sharing one colour scale and one colorbar,
over the Natural Earth coastlines of :mod:`vigil.report.basemap`. Typical use: rows = partners (A, B, A+B),
columns = fraction of time seen by ≥1 and by ≥2 satellites (:func:`plot_coverage_maps`), or the longest
coverage gap in hours (:func:`plot_gap_map`). Figures are :class:`matplotlib.figure.Figure` objects rendered
by the Agg canvas: no pyplot, no global state, safe in threads and services.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure

from ..errors import DataError
from .basemap import draw_basemap

DPI = 150
PANEL_WIDTH_IN = 4.8  # one global panel: 4.8 in wide at 150 dpi = 720 px, 1.33 px per degree of lon
LABEL_MARGIN_IN = 0.5  # of a panel's width taken by the latitude tick labels
PANEL_EXTRA_HEIGHT_IN = 0.5  # per panel row, above the map's own height: panel title and tick labels
COLORBAR_WIDTH_IN = 0.9  # vertical colorbar with its label, right of the panels
TITLE_HEIGHT_IN = 0.45  # figure title band
MAX_COLUMNS = 4
SINGLE_CELL_HALF_WIDTH_DEG = 0.5  # a grid axis with one cell has no spacing to infer: draw it 1° wide
FRACTION_CMAP = "viridis"  # perceptually uniform, readable in grey and by colour-blind readers
EMPTY_GAP_VMAX_H = 1.0  # colour scale top when no cell has a positive finite gap (all covered / no data)
GAP_CMAP = "YlOrRd"  # light = short gaps, dark red = long gaps
NO_DATA_COLOR = "0.85"  # NaN cells (not computed) in light grey
SUB_POINT_STYLE = {"marker": "o", "s": 14, "facecolor": "#ff3b30", "edgecolor": "black", "linewidth": 0.6}

Panels = Sequence[tuple[str, np.ndarray]]
SubPoints = tuple[np.ndarray, np.ndarray]


def figure_size_in(
    n_panels: int, ncols: int, lon_span_deg: float = 360.0, lat_span_deg: float = 180.0
) -> tuple[float, float]:
    """Figure ``(width, height)`` in inches for ``n_panels`` maps in ``ncols`` columns of the given extent."""
    nrows = math.ceil(n_panels / ncols)
    map_height_in = (PANEL_WIDTH_IN - LABEL_MARGIN_IN) * lat_span_deg / lon_span_deg
    width = ncols * PANEL_WIDTH_IN + COLORBAR_WIDTH_IN
    height = nrows * (map_height_in + PANEL_EXTRA_HEIGHT_IN) + TITLE_HEIGHT_IN
    return width, height


def _grid_order(lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate cell centres; return sorted lat, lon wrapped to [-180, 180) and the sorting permutations."""
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    if lat.ndim != 1 or lon.ndim != 1 or lat.size < 1 or lon.size < 1:
        raise DataError(f"map grid: lat_deg {lat.shape} and lon_deg {lon.shape} must be non-empty 1-D arrays")
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))) or np.any(np.abs(lat) > 90.0):
        raise DataError("map grid: lat_deg must be finite in [-90, 90] and lon_deg finite")
    lon = (lon + 180.0) % 360.0 - 180.0
    i_lat, i_lon = np.argsort(lat, kind="stable"), np.argsort(lon, kind="stable")
    if np.any(np.diff(lat[i_lat]) == 0.0) or np.any(np.diff(lon[i_lon]) == 0.0):
        raise DataError("map grid: lat_deg and lon_deg must not repeat a value")
    return lat[i_lat], lon[i_lon], i_lat, i_lon


def _edges(centres: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Cell edges ``(n+1,)`` half-way between sorted centres; outer ones mirrored, clipped to [lo, hi]."""
    if centres.size == 1:
        return np.clip(centres + np.array([-1.0, 1.0]) * SINGLE_CELL_HALF_WIDTH_DEG, lo, hi)
    mid = 0.5 * (centres[1:] + centres[:-1])
    edges = np.concatenate([[2.0 * centres[0] - mid[0]], mid, [2.0 * centres[-1] - mid[-1]]])
    return np.clip(edges, lo, hi)


def _checked_panels(panels: Panels, shape: tuple[int, int]) -> list[tuple[str, np.ndarray]]:
    if len(panels) == 0:
        raise DataError("map panels: at least one (label, values) panel is needed")
    out = []
    for label, values in panels:
        arr = np.asarray(values, dtype=float)
        if arr.shape != shape:
            raise DataError(f"map panel {label!r}: values {arr.shape} do not match grid (nlat, nlon) {shape}")
        out.append((str(label), arr))
    return out


def _ncols(n_panels: int, ncols: int | None) -> int:
    if ncols is None:
        return min(n_panels, 2)
    if not 1 <= ncols <= MAX_COLUMNS:
        raise DataError(f"map panels: ncols {ncols} is outside [1, {MAX_COLUMNS}]")
    return min(ncols, n_panels)


def _draw_sub_points(ax, sub_points: SubPoints) -> None:
    lat_sp, lon_sp = (np.asarray(a, dtype=float).ravel() for a in sub_points)
    if lat_sp.shape != lon_sp.shape:
        raise DataError(f"sub_points: lat {lat_sp.shape} and lon {lon_sp.shape} differ in size")
    lon_sp = (lon_sp + 180.0) % 360.0 - 180.0
    ax.scatter(lon_sp, lat_sp, zorder=4, label="satellite sub-point", **SUB_POINT_STYLE)


def _panel_figure(
    lat_deg,
    lon_deg,
    panels: Panels,
    title: str,
    *,
    cmap: Colormap,
    norm: Normalize,
    cbar_label: str,
    extend: str,
    sub_points: SubPoints | None,
    ncols: int | None,
) -> Figure:
    """Draw the panel grid with a shared colorbar on a new Agg-backed figure."""
    lat, lon, i_lat, i_lon = _grid_order(lat_deg, lon_deg)
    checked = _checked_panels(panels, (lat.size, lon.size))
    ncols = _ncols(len(checked), ncols)
    nrows = math.ceil(len(checked) / ncols)
    lat_e, lon_e = _edges(lat, -90.0, 90.0), _edges(lon, -180.0, 180.0)
    extent = (lon_e[0], lon_e[-1], lat_e[0], lat_e[-1])
    fig = Figure(
        figsize=figure_size_in(len(checked), ncols, extent[1] - extent[0], extent[3] - extent[2]),
        dpi=DPI,
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    mesh = None
    for k, ax in enumerate(axes.flat):
        if k >= len(checked):
            ax.set_visible(False)
            continue
        label, values = checked[k]
        mesh = ax.pcolormesh(lon_e, lat_e, values[np.ix_(i_lat, i_lon)], cmap=cmap, norm=norm, zorder=1)
        col = k % ncols
        last_in_col = k + ncols >= len(checked)
        draw_basemap(ax, extent, labels=(last_in_col, col == 0))
        if sub_points is not None:
            _draw_sub_points(ax, sub_points)
        ax.set_title(label, fontsize=9)
    shown = [ax for ax in axes.flat if ax.get_visible()]
    cbar = fig.colorbar(mesh, ax=shown, extend=extend, shrink=0.9, aspect=30)
    cbar.set_label(cbar_label, fontsize=8)
    cbar.ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=11)
    return fig


def _save(fig: Figure, out_png: str | Path) -> Path:
    out = Path(out_png)
    try:
        fig.savefig(out, dpi=DPI, format="png")
    except OSError as exc:
        raise DataError(f"{out}: cannot write map PNG ({exc.strerror or exc})") from exc
    return out


def coverage_figure(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    panels: Panels,
    title: str,
    sub_points: SubPoints | None = None,
    ncols: int | None = None,
    cbar_label: str = "fraction of time seen",
) -> Figure:
    """The figure of :func:`plot_coverage_maps`, not yet written (for embedding in other reports)."""
    return _panel_figure(
        lat_deg,
        lon_deg,
        panels,
        title,
        cmap=_with_no_data(FRACTION_CMAP),
        norm=Normalize(0.0, 1.0),
        cbar_label=cbar_label,
        extend="neither",
        sub_points=sub_points,
        ncols=ncols,
    )


def plot_coverage_maps(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    panels: Panels,
    out_png: str | Path,
    title: str,
    sub_points: SubPoints | None = None,
    ncols: int | None = None,
    cbar_label: str = "fraction of time seen",
) -> Path:
    """Write a PNG grid of coverage-fraction maps sharing one [0, 1] colour scale.

    ``lat_deg`` ``(nlat,)`` and ``lon_deg`` ``(nlon,)`` are cell centres in degrees (any order; longitudes
    in [-180, 180) or [0, 360)); each panel is ``(label, values)`` with ``values`` ``(nlat, nlon)`` a fraction
    in [0, 1] (NaN = not computed, drawn light grey). Panels fill ``ncols`` columns row by row (default 2),
    e.g. rows = partners A, B, A+B and columns = seen by ≥1, ≥2 satellites. ``sub_points`` is an optional
    ``(lat_deg, lon_deg)`` pair of arrays of any equal size (satellite sub-points, or a ground track),
    marked on every panel. The figure is 150 dpi, :func:`figure_size_in` inches. Returns the path written.
    """
    fig = coverage_figure(lat_deg, lon_deg, panels, title, sub_points, ncols, cbar_label)
    return _save(fig, out_png)


def plot_gap_map(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    panels: Panels,
    out_png: str | Path,
    title: str,
    sub_points: SubPoints | None = None,
    ncols: int | None = None,
    vmax_h: float | None = None,
) -> Path:
    """Write the PNG of :func:`gap_figure` (longest coverage gap, hours) to ``out_png``; returns the path."""
    return _save(gap_figure(lat_deg, lon_deg, panels, title, sub_points, ncols, vmax_h), out_png)


def gap_figure(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    panels: Panels,
    title: str,
    sub_points: SubPoints | None = None,
    ncols: int | None = None,
    vmax_h: float | None = None,
) -> Figure:
    """A grid of longest-coverage-gap maps, values in hours, sharing one [0, vmax_h] scale.

    Same grid, panel and ``sub_points`` conventions as :func:`plot_coverage_maps`; ``values`` are the
    longest gap in hours (NaN = not computed; +inf or values above ``vmax_h`` take the darkest colour and
    the colorbar gets an arrow). ``vmax_h`` defaults to the largest finite value over all panels.
    """
    panels = [(lbl, np.asarray(a, dtype=float)) for lbl, a in panels]
    finite = [v[np.isfinite(v)] for _, v in panels]
    data_max = max((float(f.max()) for f in finite if f.size), default=0.0)
    top = float(vmax_h) if vmax_h is not None else (data_max if data_max > 0.0 else EMPTY_GAP_VMAX_H)
    if not (np.isfinite(top) and top > 0.0):
        raise DataError(f"gap map: vmax_h {vmax_h} must be a positive number of hours")
    # pcolormesh masks ±inf like NaN; a never-seen cell (gap = +inf) must show as "over", not "no data"
    panels = [(lbl, np.where(np.isposinf(a), 2.0 * top, a)) for lbl, a in panels]
    any_over = any(np.any(a > top) for _, a in panels)
    cmap = _with_no_data(GAP_CMAP)
    return _panel_figure(
        lat_deg,
        lon_deg,
        panels,
        title,
        cmap=cmap.with_extremes(over=cmap(1.0)),
        norm=Normalize(0.0, top),
        cbar_label="longest gap (h)",
        extend="max" if any_over else "neither",
        sub_points=sub_points,
        ncols=ncols,
    )


def _with_no_data(name: str) -> Colormap:
    return colormaps[name].with_extremes(bad=NO_DATA_COLOR)
