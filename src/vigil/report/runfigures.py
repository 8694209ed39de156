"""Figures of one scored run (``vigil run``): launch points and impact ellipses on the basemap, the latency
timeline, error against the Cramér–Rao bound, and the value of sharing. Each returns an Agg-backed
matplotlib ``Figure`` (no display, no pyplot state) that :mod:`vigil.report.runreport` embeds as PNG.

Ellipses ``[bearing_deg, a_km, b_km]`` (semi-major axis bearing clockwise from north) are drawn on the
local tangent plane and mapped to degrees with the spherical radius below: a few-percent approximation at
the sizes involved (≤ 1000 km), which is what a report map needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .basemap import draw_basemap

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius (Moritz 2000), for plotting ellipses only
PARTNER_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
ELLIPSE_POINTS = 73


def _figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=120)
    FigureCanvasAgg(fig)
    return fig


def ellipse_lonlat(lat_deg: float, lon_deg: float, ellipse: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Outline ``(lon_deg, lat_deg)`` of an ellipse ``[bearing_deg, a_km, b_km]`` centred on the point."""
    bearing = np.radians(ellipse[0])
    theta = np.linspace(0.0, 2.0 * np.pi, ELLIPSE_POINTS)
    a, b = float(ellipse[1]), float(ellipse[2])
    east_km = a * np.cos(theta) * np.sin(bearing) + b * np.sin(theta) * np.cos(bearing)
    north_km = a * np.cos(theta) * np.cos(bearing) - b * np.sin(theta) * np.sin(bearing)
    lat = lat_deg + np.degrees(north_km / EARTH_RADIUS_KM)
    lon = lon_deg + np.degrees(east_km / (EARTH_RADIUS_KM * max(np.cos(np.radians(lat_deg)), 1e-6)))
    return lon, lat


def _dateline_safe_line(ax: Any, start: tuple[float, float], end: tuple[float, float], color: str) -> None:
    """A dashed launch → impact line; one that crosses the antimeridian is drawn as its two halves
    (each leaves the map at its edge) instead of a line across the whole map."""
    (lon0, lat0), (lon1, lat1) = start, end
    shift = 0.0 if abs(lon1 - lon0) <= 180.0 else 360.0 * np.sign(lon0 - lon1)
    for offset in (0.0,) if shift == 0.0 else (0.0, -shift):
        ax.plot(
            [lon0 + offset, lon1 + shift + offset],
            [lat0, lat1],
            color=color,
            linewidth=0.6,
            linestyle="--",
            zorder=3,
        )


def map_figure(warnings: Sequence[dict[str, Any]], truths: Sequence[dict[str, Any]]) -> Figure:
    """Launch points (estimated ▲, true ×), impact points with their ellipses, azimuth lines."""
    fig = _figure(10.0, 5.6)
    ax = fig.add_subplot(1, 1, 1)
    draw_basemap(ax)
    for t in truths:
        ax.plot(t["site"]["lon_deg"], t["site"]["lat_deg"], "x", color="black", markersize=7, zorder=5)
        ax.annotate(
            t["id"],
            (t["site"]["lon_deg"], t["site"]["lat_deg"]),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
            zorder=6,
        )
    for w in warnings:
        color = "#d62728" if w.get("class") == "ballistic" else "#1f77b4"
        ax.plot(w["launch_lon_deg"], w["launch_lat_deg"], "^", color=color, markersize=6, zorder=4)
        if w.get("impact_lat_deg") is not None:
            _dateline_safe_line(
                ax,
                (w["launch_lon_deg"], w["launch_lat_deg"]),
                (w["impact_lon_deg"], w["impact_lat_deg"]),
                color,
            )
            ax.plot(w["impact_lon_deg"], w["impact_lat_deg"], "o", color=color, markersize=4, zorder=4)
            if w.get("impact_ellipse"):
                lon, lat = ellipse_lonlat(w["impact_lat_deg"], w["impact_lon_deg"], w["impact_ellipse"])
                ax.plot(lon, lat, color=color, linewidth=1.0, zorder=4)
    ax.set_title(
        "Launch points (▲ estimated, × true) and impact ellipses (red ballistic, blue space launch)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def latency_figure(launches: Sequence[dict[str, Any]], truths: Sequence[dict[str, Any]]) -> Figure:
    """Per launch: liftoff → first warning (bar), and the first stereo-based warning (tick)."""
    fig = _figure(10.0, 0.5 + 0.35 * max(len(launches), 1))
    ax = fig.add_subplot(1, 1, 1)
    t0 = {t["id"]: t["launch_time_s"] for t in truths}
    for row, rec in enumerate(launches):
        start = t0.get(rec["id"], 0.0)
        if rec.get("latency_s") is None:
            ax.text(start, row, "  MISSED", va="center", fontsize=8, color="#d62728")
            continue
        ax.barh(row, rec["latency_s"], left=start, color="#1f77b4", height=0.5)
        if rec.get("latency_from_stereo_s") is not None:
            ax.plot(start + rec["latency_s"], row, "|", color="black", markersize=10)
        ax.text(start + rec["latency_s"], row, f" {rec['latency_s']:.0f} s", va="center", fontsize=7)
    ax.set_yticks(range(len(launches)), [r["id"] for r in launches], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds from the scenario epoch (bar: liftoff → first warning)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, axis="x", linestyle=":", linewidth=0.5)
    fig.tight_layout()
    return fig


def crlb_figure(launches: Sequence[dict[str, Any]]) -> Figure:
    """Launch-point and impact error against their Cramér–Rao bounds (log–log, y = x dashed)."""
    fig = _figure(10.0, 4.0)
    for k, (what, err_key, bound_key) in enumerate(
        (
            ("launch point", "launch_error_km", "launch_crlb_km"),
            ("impact point", "impact_error_km", "impact_crlb_km"),
        )
    ):
        ax = fig.add_subplot(1, 2, k + 1)
        pts = [
            (r[bound_key], r[err_key], r["id"])
            for r in launches
            if r.get(err_key) is not None and r.get(bound_key)
        ]
        if pts:
            x = np.array([p[0] for p in pts])
            y = np.array([p[1] for p in pts])
            ax.scatter(x, y, s=18, color="#1f77b4", zorder=3)
            for xi, yi, name in pts:
                ax.annotate(name, (xi, yi), fontsize=7, xytext=(3, 3), textcoords="offset points")
            lo, hi = min(x.min(), y.min()) / 2.0, max(x.max(), y.max()) * 2.0
            ax.plot([lo, hi], [lo, hi], "--", color="grey", linewidth=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(f"{what} CRLB (km)", fontsize=8)
        ax.set_ylabel(f"{what} error (km)", fontsize=8)
        ax.set_title(f"{what}: error vs bound", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="both", linestyle=":", linewidth=0.4)
    fig.tight_layout()
    return fig


def sharing_figure(sharing: dict[str, Any]) -> Figure:
    """Per partner, alone vs with sharing: events seen, triangulated, first-warning latency, launch error."""
    metrics = (
        ("events_seen", "events seen"),
        ("triangulated", "triangulated (stereo)"),
        ("first_warning_latency_s", "median first warning (s)"),
        ("launch_error_km", "median launch error (km)"),
    )
    partners = list(sharing.get("partners", {}))
    fig = _figure(10.0, 3.2)
    x = np.arange(len(partners))
    for k, (key, label) in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), k + 1)
        for j, view in enumerate(("alone", "shared")):
            values = [sharing["partners"][p][view].get(key) for p in partners]
            heights = [np.nan if v is None else float(v) for v in values]
            ax.bar(x + (j - 0.5) * 0.38, heights, width=0.36, label=view, color=("#9aa5b1", "#1f77b4")[j])
        ax.set_xticks(x, partners, fontsize=8)
        ax.set_title(label, fontsize=8)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
