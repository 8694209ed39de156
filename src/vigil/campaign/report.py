"""``report.html``: one self-contained page per campaign (PNGs embedded as base64, no network).

Figures (matplotlib, Agg, no pyplot state):

* launch-point error CDFs per variant against the CDF of the Cramér–Rao bounds, and the CDF of
  error / CRLB against an efficient estimator's: for a circular Gaussian error whose RMS radius is the
  bound, ``P(err/CRLB ≤ x) = 1 − exp(−x²)`` (Rayleigh with σ² = 1/2);
* first-warning latency distributions (after launch and after stereo visibility) per variant;
* value of sharing: per partner and variant, shared − alone with its 95 % interval (paired over seeds).

Tables carry the medians and intervals of ``summary.json``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_SHARING_LABELS = {
    "seen_rate": "launches seen (fraction)",
    "triangulated_rate": "triangulated (fraction)",
    "latency_s": "first warning latency (s)",
    "launch_error_km": "launch-point error (km)",
}
_WARNING_LABELS = {
    "detection_rate": "detection rate",
    "classification_rate": "classification rate",
    "latency_s": "latency after launch (s)",
    "latency_from_stereo_s": "latency after stereo (s)",
    "launch_error_km": "launch error (km)",
    "launch_error_over_crlb": "launch error / CRLB",
    "azimuth_error_deg": "azimuth error (°)",
    "impact_error_km": "impact error (km)",
    "impact_error_over_crlb": "impact error / CRLB",
}


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _cdf(ax, values: Sequence[float], **kw) -> None:
    x = np.sort(np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float))
    if x.size:
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", **kw)


def _detected(rows: Sequence[dict], variant: str) -> list[dict]:
    return [r for r in rows if r["variant"] == variant and r["detected"] and r["stereo_visible"]]


def error_figure(rows: Sequence[dict], variants: Sequence[str]) -> Figure:
    """Launch-point error CDFs (with the bounds' CDFs) and error / CRLB CDFs against the efficient curve."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_km, ax_ratio = fig.subplots(1, 2)
    for k, v in enumerate(variants):
        found, colour = _detected(rows, v), f"C{k}"
        _cdf(ax_km, [r["launch_error_km"] for r in found], color=colour, label=f"{v} error")
        _cdf(ax_km, [r["launch_crlb_km"] for r in found], color=colour, ls="--", label=f"{v} CRLB")
        _cdf(
            ax_ratio,
            [
                r["launch_error_km"] / r["launch_crlb_km"]
                for r in found
                if r["launch_error_km"] is not None and r["launch_crlb_km"]
            ],
            color=colour,
            label=v,
        )
    x = np.linspace(0.0, 3.0, 200)
    ax_ratio.plot(x, 1.0 - np.exp(-x * x), color="k", ls=":", label="efficient, circular")
    ax_km.set(
        xlabel="launch-point error / bound (km)", ylabel="fraction of launches", title="Launch-point error"
    )
    ax_ratio.set(
        xlabel="error / CRLB", ylabel="fraction of launches", title="Error relative to the bound", xlim=(0, 3)
    )
    for ax in (ax_km, ax_ratio):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    return fig


def latency_figure(rows: Sequence[dict], variants: Sequence[str]) -> Figure:
    """CDFs of the first warning's latency after launch and after the first stereo-visible instant."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    for k, v in enumerate(variants):
        found = _detected(rows, v)
        _cdf(axes[0], [r["latency_s"] for r in found], color=f"C{k}", label=v)
        _cdf(axes[1], [r["latency_from_stereo_s"] for r in found], color=f"C{k}", label=v)
    axes[0].set(
        xlabel="first warning − launch (s)", ylabel="fraction of launches", title="Latency after launch"
    )
    axes[1].set(xlabel="first warning − first stereo instant (s)", title="Latency after stereo visibility")
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    return fig


def sharing_figure(summary: dict) -> Figure | None:
    """Per partner (rows) and metric (columns): shared − alone per variant with its 95 % interval."""
    variants = [v for v, s in summary["variants"].items() if s.get("sharing")]
    if not variants:
        return None
    partners = sorted({p for v in variants for p in summary["variants"][v]["sharing"]})
    fig = Figure(figsize=(12, 2.8 * len(partners) + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(partners), len(_SHARING_LABELS), squeeze=False))
    for i, pid in enumerate(partners):
        for j, (metric, label) in enumerate(_SHARING_LABELS.items()):
            ax = axes[i, j]
            for k, v in enumerate(variants):
                d = (
                    summary["variants"][v]["sharing"]
                    .get(pid, {})
                    .get("shared_minus_alone", {})
                    .get(metric, {})
                )
                if d.get("estimate") is not None:
                    ax.errorbar(
                        [k],
                        [d["estimate"]],
                        yerr=[[d["estimate"] - d["low"]], [d["high"] - d["estimate"]]],
                        fmt="o",
                        color=f"C{k}",
                        capsize=4,
                    )
            ax.axhline(0.0, color="k", lw=0.8)
            ax.set_xticks(range(len(variants)), variants, rotation=20, fontsize=7)
            ax.set_title(f"{pid}: Δ {label}", fontsize=9)
            ax.grid(alpha=0.3)
    return fig


def _fmt_interval(d: dict, spec: str = ".3g") -> str:
    if not d or d.get("estimate") is None:
        return "—"
    return f"{d['estimate']:{spec}} [{d['low']:{spec}}, {d['high']:{spec}}]"


def _warning_table(summary: dict) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for label in _WARNING_LABELS.values())
    body = ""
    for v, s in summary["variants"].items():
        cells = "".join(f"<td>{_fmt_interval(s['intervals'].get(m, {}))}</td>" for m in _WARNING_LABELS)
        body += f"<tr><td>{html.escape(v)}</td><td>{s['seeds']}</td>{cells}</tr>"
    return f"<table><tr><th>variant</th><th>seeds</th>{head}</tr>{body}</table>"


def _sharing_table(summary: dict) -> str:
    rows = ""
    for v, s in summary["variants"].items():
        for pid, block in s.get("sharing", {}).items():
            for view in ("alone", "shared", "shared_minus_alone"):
                cells = "".join(f"<td>{_fmt_interval(block[view][m])}</td>" for m in _SHARING_LABELS)
                rows += f"<tr><td>{html.escape(v)}</td><td>{html.escape(pid)}</td><td>{view}</td>{cells}</tr>"
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(x)}</th>" for x in _SHARING_LABELS.values())
    return f"<h2>Value of sharing</h2><table><tr><th>variant</th><th>partner</th><th>view</th>{head}</tr>{rows}</table>"


_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1300px}table{border-collapse:collapse;font-size:12px}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}img{max-width:100%}"
)


def render_report(summary: dict, launch_rows: Sequence[dict], sharing_rows: Sequence[dict]) -> str:
    """The report page as one HTML string."""
    variants = list(summary["variants"])
    figures = [
        ("Launch-point error against the Cramér–Rao bound", error_figure(launch_rows, variants)),
        ("First-warning latency", latency_figure(launch_rows, variants)),
    ]
    sharing = sharing_figure(summary) if sharing_rows else None
    if sharing is not None:
        figures.append(("Value of sharing: shared − alone (95 % interval over seeds)", sharing))
    failed = "".join(
        f"<li>{html.escape(f['key'])}: {html.escape(f['error'])}</li>" for f in summary["failed"]
    )
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(summary['campaign'])}</title>"
        f"<style>{_STYLE}</style></head><body><h1>Campaign {html.escape(summary['campaign'])}</h1>",
        f"<p>{summary['ok']} of {summary['tasks']} tasks ok, {len(summary['failed'])} failed, "
        f"{summary['missing']} missing. Medians (rates: means) with 95 % percentile bootstrap intervals over "
        f"seeds ({summary['bootstrap']['resamples']} resamples), stereo-visible launches.</p>",
        f"<ul>{failed}</ul>" if failed else "",
        _warning_table(summary),
        _sharing_table(summary),
    ]
    for title, fig in figures:
        parts.append(
            f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{_png(fig)}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    summary: dict, launch_rows: Sequence[dict], sharing_rows: Sequence[dict], path: Path
) -> Path:
    """Write :func:`render_report` to ``path``."""
    from ..outputs import write_text_atomic

    return write_text_atomic(path, render_report(summary, launch_rows, sharing_rows))
