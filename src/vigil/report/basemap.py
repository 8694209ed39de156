"""Offline basemap: Natural Earth 1:110m coastlines and an equirectangular lon/lat frame for map axes.

The coastlines ship with the package (``vigil/data/coastlines_110m.npz``, built once by
``scripts/make_basemap.py`` from Natural Earth 1:110m land v4.1.0, public domain); nothing is downloaded at
run time. Polylines are float32 degrees separated by NaN and split at the antimeridian, so
``ax.plot(lon, lat)`` draws them directly on a plate carrée (equirectangular) axes.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MultipleLocator

from ..errors import DataError

COASTLINES_RESOURCE = "coastlines_110m.npz"
COAST_COLOR = "0.1"  # near-black line ...
COAST_HALO_COLOR = "white"  # ... with a white halo, readable over dark and light colormaps alike
COAST_LINEWIDTH_PT = 0.7
COAST_HALO_LINEWIDTH_PT = 1.8
GRID_STEP_DEG = 30.0  # gridline spacing of the global maps (every 30° in lon and lat)
GRID_COLOR = "0.5"  # mid grey: visible over both ends of the colormaps
GRID_LINEWIDTH_PT = 0.5


@lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    path = resources.files("vigil").joinpath("data", COASTLINES_RESOURCE)
    try:
        with resources.as_file(path) as real, np.load(real, allow_pickle=False) as npz:
            lon, lat = npz["lon_deg"], npz["lat_deg"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: cannot read coastlines ({exc}); rebuild: scripts/make_basemap.py") from exc
    if lon.shape != lat.shape or lon.ndim != 1:
        raise DataError(f"{path}: lon_deg {lon.shape} and lat_deg {lat.shape} are not matching 1-D arrays")
    lon.setflags(write=False)
    lat.setflags(write=False)
    return lon, lat


def coastlines() -> tuple[np.ndarray, np.ndarray]:
    """Natural Earth 1:110m coastlines: ``(lon_deg, lat_deg)``, float32 ``(M,)`` read-only, NaN-separated.

    Longitudes lie in [-180, 180] (lines split at the antimeridian), latitudes in [-85.7, 83.7]
    (Natural Earth's Antarctic coast to the north coast of Greenland).
    """
    return _load()


def format_lon(value_deg: float, _pos: object = None) -> str:
    """Tick label for a longitude: ``120°W``, ``0°``, ``60°E``."""
    v = (value_deg + 180.0) % 360.0 - 180.0  # wrap to [-180, 180)
    if v in (0.0, -180.0):
        return f"{abs(v):.0f}°"
    return f"{abs(v):.0f}°{'E' if v > 0 else 'W'}"


def format_lat(value_deg: float, _pos: object = None) -> str:
    """Tick label for a latitude: ``60°S``, ``0°``, ``30°N``."""
    if value_deg == 0.0:
        return "0°"
    return f"{abs(value_deg):.0f}°{'N' if value_deg > 0 else 'S'}"


def draw_basemap(
    ax: Axes,
    extent_deg: tuple[float, float, float, float] = (-180.0, 180.0, -90.0, 90.0),
    grid_step_deg: float = GRID_STEP_DEG,
    labels: tuple[bool, bool] = (True, True),
) -> None:
    """Turn ``ax`` into a plate carrée map: coastlines, gridlines, degree ticks, equal aspect.

    ``extent_deg`` is ``(lon_min, lon_max, lat_min, lat_max)``; ``labels`` says whether the (lon, lat)
    tick labels are shown (inner panels of a grid hide them). Coastlines are drawn above the data.
    """
    lon_min, lon_max, lat_min, lat_max = extent_deg
    lon, lat = coastlines()
    halo = [patheffects.withStroke(linewidth=COAST_HALO_LINEWIDTH_PT, foreground=COAST_HALO_COLOR)]
    ax.plot(lon, lat, color=COAST_COLOR, linewidth=COAST_LINEWIDTH_PT, path_effects=halo, zorder=3)
    ax.set_xlim(lon_min, lon_max)
    ax.set_ylim(lat_min, lat_max)
    ax.set_aspect("equal")
    wide = lon_max - lon_min > 180.0  # label every other lon gridline so labels never collide
    ax.xaxis.set_major_locator(MultipleLocator(grid_step_deg * (2.0 if wide else 1.0)))
    ax.xaxis.set_minor_locator(MultipleLocator(grid_step_deg))
    ax.yaxis.set_major_locator(MultipleLocator(grid_step_deg))
    ax.xaxis.set_major_formatter(FuncFormatter(format_lon))
    ax.yaxis.set_major_formatter(FuncFormatter(format_lat))
    ax.tick_params(which="both", labelbottom=labels[0], labelleft=labels[1], labelsize=7, length=2)
    ax.grid(True, which="both", color=GRID_COLOR, linewidth=GRID_LINEWIDTH_PT, linestyle=":")
    ax.set_axisbelow(False)
