"""``vigil report RUN_DIR --out report.html``: one self-contained HTML page of a scored run.

Everything is inside the file (figures as base64 PNG, CSS inline), so it can be mailed, archived and
printed to PDF (``@media print`` keeps figures whole on a page). Sections: the scored table, the map of
launch points and impact ellipses, the latency timeline, error against the Cramér–Rao bound, the value of
sharing, and any coverage maps (``coverage*.png``) found beside the run.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from ..errors import ConfigError, DataError
from .runfigures import crlb_figure, latency_figure, map_figure, sharing_figure

REQUIRED = ("score.json", "warnings.json", "truth.json")
CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f0f0f0} td:first-child{text-align:left} .missed{color:#b00;font-weight:bold}
img{max-width:100%} figure{margin:0;page-break-inside:avoid;break-inside:avoid}
@media print{body{margin:0} h2{page-break-after:avoid}}
"""
COLUMNS = (
    ("id", "launch"),
    ("class_true", "class"),
    ("class_est", "est. class"),
    ("latency_s", "latency s"),
    ("latency_from_stereo_s", "from stereo s"),
    ("launch_error_km", "launch err km"),
    ("launch_crlb_km", "CRLB km"),
    ("azimuth_error_deg", "azimuth err °"),
    ("impact_error_km", "impact err km"),
    ("impact_crlb_km", "impact CRLB km"),
    ("notification", "notification"),
)


def _load(run_dir: Path, name: str) -> Any:
    path = run_dir / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(
            f"{path}: cannot read ({err.strerror or err}); is {run_dir} a vigil run folder?"
        ) from None
    except ValueError as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None


def png_data_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,…`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return html.escape(str(value))


def score_table(score: dict[str, Any]) -> str:
    """The scored table as HTML: one row per launch, ``MISSED`` for undetected ones."""
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in COLUMNS)
    rows = []
    for rec in score.get("launches", []):
        if not rec.get("detected"):
            rows.append(
                f"<tr><td>{html.escape(rec['id'])}</td><td class='missed' colspan='{len(COLUMNS) - 1}'>"
                "MISSED</td></tr>"
            )
            continue
        rows.append("<tr>" + "".join(f"<td>{_cell(rec.get(key))}</td>" for key, _ in COLUMNS) + "</tr>")
    foot = (
        f"<p>events: {score.get('events', '?')}; false events: {score.get('false_events', '?')}; "
        f"matches: {html.escape(json.dumps(score.get('matches', {})))}</p>"
    )
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{foot}"


def _figure_html(title: str, fig: Figure) -> str:
    return f"<h2>{html.escape(title)}</h2><figure><img alt='{html.escape(title)}' src='{png_data_uri(fig)}'></figure>"


def build_report(run_dir: str | Path) -> str:
    """The report page of the run folder ``run_dir`` (module docstring) as HTML text."""
    run_dir = Path(run_dir)
    score, warnings, truth = (_load(run_dir, name) for name in REQUIRED)
    launches = score.get("launches", [])
    truths = truth.get("launches", [])
    name = score.get("scenario", run_dir.name)
    parts = [
        f"<h1>Vigil run report: {html.escape(str(name))}</h1>",
        f"<p>epoch {html.escape(str(truth.get('epoch', '')))}; seed {score.get('seed', '?')}; "
        f"{len(truths)} launches; {len(warnings.get('warnings', []))} events (final versions)</p>",
        "<h2>Scored warnings</h2>",
        score_table(score),
        _figure_html("Launch points and impact ellipses", map_figure(warnings.get("warnings", []), truths)),
        _figure_html("Latency timeline", latency_figure(launches, truths)),
        _figure_html("Error against the Cramér–Rao bound", crlb_figure(launches)),
    ]
    if score.get("sharing"):
        parts.append(_figure_html("Value of sharing", sharing_figure(score["sharing"])))
    for png in sorted({*run_dir.glob("coverage*.png"), *run_dir.parent.glob("coverage*.png")}):
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        parts.append(
            f"<h2>Coverage: {html.escape(png.name)}</h2><figure><img alt='{html.escape(png.name)}' "
            f"src='data:image/png;base64,{data}'></figure>"
        )
    body = "\n".join(parts)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Vigil report {html.escape(str(name))}"
        f"</title><style>{CSS}</style></head><body>{body}</body></html>"
    )


def write_report(run_dir: str | Path, out: str | Path) -> Path:
    """Write :func:`build_report` to ``out`` (folders created); returns the path."""
    from ..outputs import write_text_atomic

    return write_text_atomic(Path(out), build_report(run_dir))
