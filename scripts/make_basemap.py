"""Build ``src/vigil/data/coastlines_110m.npz``, the offline coastline basemap, from Natural Earth.

Source: Natural Earth 1:110m physical vectors, *land* polygons, version 4.1.0 (public domain,
https://www.naturalearthdata.com/about/terms-of-use/), as redistributed in TopoJSON by the npm package
``world-atlas`` 2.0.2 (file ``land-110m.json``; package licence ISC, Copyright 2013-2019 Michael Bostock).
Run once at development time; Vigil never downloads anything at run time::

    cd /tmp && npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    .venv/bin/python scripts/make_basemap.py /tmp/package/land-110m.json

Conversion (TopoJSON specification 1.0, section 2.1.2 "Arcs"; https://github.com/topojson/topojson-specification):
each arc is a list of quantized positions, the first absolute and the others deltas from the previous one;
a position is ``q * transform.scale + transform.translate`` in degrees (lon, lat). Every arc of the land
polygons is a piece of coastline except the cut lines Natural Earth draws along the antimeridian to
close polygons split there (Fiji, Wrangel Island, Chukotka, Antarctica): segments with both ends on
lon = ±180° are dropped. A segment that crosses the antimeridian is split at the interpolated crossing so
no line runs across the whole map. Output: ``lon_deg`` and ``lat_deg``, float32 ``(M,)``, polylines
separated by NaN, plus ``source`` (a description string).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

OUT_PATH = Path(__file__).resolve().parents[1] / "src" / "vigil" / "data" / "coastlines_110m.npz"
SOURCE = (
    "Natural Earth 1:110m land v4.1.0 (public domain) via npm world-atlas@2.0.2 land-110m.json (ISC); "
    "built by scripts/make_basemap.py"
)
ANTIMERIDIAN_TOL_DEG = 1e-6  # a vertex within this of ±180° lies on the antimeridian (quantum is 3.6e-3°)


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """Decode the quantized, delta-encoded arcs of a TopoJSON topology into ``(n, 2)`` lon/lat degrees."""
    scale = np.asarray(topology["transform"]["scale"], dtype=float)
    translate = np.asarray(topology["transform"]["translate"], dtype=float)
    return [np.cumsum(np.asarray(arc, dtype=float), axis=0) * scale + translate for arc in topology["arcs"]]


def _on_antimeridian(lon: float) -> bool:
    return abs(abs(lon) - 180.0) < ANTIMERIDIAN_TOL_DEG


def split_arc(arc: np.ndarray) -> list[np.ndarray]:
    """Split one ``(n, 2)`` lon/lat arc at the antimeridian and drop cut lines lying along it."""
    pieces: list[list[tuple[float, float]]] = [[tuple(arc[0])]]
    for (lon0, lat0), (lon1, lat1) in zip(arc[:-1], arc[1:], strict=True):
        if _on_antimeridian(lon0) and _on_antimeridian(lon1):
            pieces.append([(lon1, lat1)])  # polygon cut line, not a coast
            continue
        if abs(lon1 - lon0) > 180.0:  # shortest way round crosses ±180°
            side = np.sign(lon0) if not _on_antimeridian(lon0) else -np.sign(lon1)
            lon1_unwrapped = lon1 + 360.0 * side
            frac = (180.0 * side - lon0) / (lon1_unwrapped - lon0)
            lat_x = lat0 + frac * (lat1 - lat0)
            pieces[-1].append((180.0 * side, lat_x))
            pieces.append([(-180.0 * side, lat_x)])
        pieces[-1].append((lon1, lat1))
    out = []
    for piece in pieces:
        pts = np.asarray(piece, dtype=float)
        if len(pts) >= 2 and np.ptp(pts, axis=0).max() > 0.0:
            out.append(pts)
    return out


def coastline_polylines(topology: dict) -> tuple[np.ndarray, np.ndarray]:
    """All coastline polylines as float32 ``lon_deg``, ``lat_deg`` ``(M,)`` separated by NaN."""
    chunks = []
    for arc in decode_arcs(topology):
        for piece in split_arc(arc):
            chunks.append(piece)
            chunks.append(np.full((1, 2), np.nan))
    joined = np.concatenate(chunks[:-1]).astype(np.float32)
    return joined[:, 0], joined[:, 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topojson", type=Path, help="world-atlas land-110m.json")
    parser.add_argument("--out", type=Path, default=OUT_PATH)
    args = parser.parse_args()
    topology = json.loads(args.topojson.read_text(encoding="utf-8"))
    lon, lat = coastline_polylines(topology)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, lon_deg=lon, lat_deg=lat, source=np.array(SOURCE))
    n_lines = int(np.isnan(lon).sum()) + 1
    print(f"{args.out}: {lon.size} vertices, {n_lines} polylines, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
