"""Terminal form of a score: a rich table per launch, then false events and the processing split.

``format_*`` functions return renderables or strings and are tested without a terminal.
"""

from __future__ import annotations

from rich import box
from rich.table import Table

MISSING = "-"


def _num(value, fmt: str = "{:.1f}") -> str:
    return MISSING if value is None else fmt.format(value)


CLASS_SHORT = {"ballistic": "BM", "space_launch": "SL", "unknown": "?"}  # keeps the table within 80 columns
COLUMNS = (
    ("launch", "left"),
    ("latency\ns", "right"),
    ("stereo+\ns", "right"),
    ("launch\nkm", "right"),
    ("/CRLB", "right"),
    ("az\n°", "right"),
    ("impact\nkm", "right"),
    ("class", "left"),
    ("notification", "left"),
)
CAPTION = (
    "latency from launch and from the first instant two satellites could see the plume; "
    "class true/estimated (BM ballistic, SL space launch)"
)


def _class(rec: dict) -> str:
    est = CLASS_SHORT.get(rec["class_est"], MISSING) if rec["class_est"] else MISSING
    return f"{CLASS_SHORT.get(rec['class_true'], rec['class_true'])}/{est}"


def _ratio(error, bound) -> str:
    return MISSING if error is None or not bound else f"{error / bound:.2f}"


def format_score_table(scored: dict, title: str = "Warnings against truth") -> Table:
    """One row per launch: latency, latency from stereo, launch error and error/CRLB, azimuth and impact
    errors, class true/estimated, notification status; an undetected launch reads ``MISSED``."""
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True)
    for name, justify in COLUMNS:
        table.add_column(name, justify=justify, no_wrap=True)
    for rec in scored["launches"]:
        if not rec["detected"]:
            table.add_row(rec["id"], "MISSED", *[MISSING] * 5, _class(rec), MISSING)
            continue
        table.add_row(
            rec["id"],
            _num(rec["latency_s"]),
            _num(rec["latency_from_stereo_s"]),
            _num(rec["launch_error_km"], "{:.2f}"),
            _ratio(rec["launch_error_km"], rec["launch_crlb_km"]),
            _num(rec["azimuth_error_deg"], "{:.2f}"),
            _num(rec["impact_error_km"], "{:.1f}"),
            _class(rec),
            rec["notification"] or MISSING,
        )
    return table


def format_score_footer(scored: dict) -> str:
    """False events, duplicates, notifications not observed and the processing split, as lines."""
    lines = [
        CAPTION,
        f"false events: {scored['false_events']} (of which duplicates of a detected launch: "
        f"{scored.get('duplicate_events', 0)}); events: {scored.get('events', '?')}",
    ]
    missed = [n["notification_id"] for n in scored.get("notifications", []) if n["status"] == "not observed"]
    if missed:
        lines.append(f"notifications not observed: {', '.join(missed)}")
    p = scored.get("processing")
    if p:
        lines.append(
            f"processing: fusion {p['fusion_wall_s']:.2f} s wall for {p['simulated_s']:.0f} s simulated "
            f"({_num(p['realtime_factor'], '{:.0f}')}× real time, longest step {p['max_step_wall_s']:.3f} s, "
            f"{p['observations']} observations)"
        )
    return "\n".join(lines)
