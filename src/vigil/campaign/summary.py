"""``summary.json``: per variant, the reference figures, medians with 95 % bootstrap intervals, and per
partner alone vs shared (with the paired change shared − alone).

Intervals (:mod:`vigil.campaign.bootstrap`) resample seeds. Warning figures are over stereo-visible launches
(as the reference figures are); sharing figures are over every launch of the scenario, as ``score.json``'s
``sharing`` block counts them. Timing (wall seconds) is kept apart under ``processing``: it is the only part
of a summary that differs between two runs of the same campaign.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np

from . import bootstrap
from .figures import summarize

_TIMING_KEYS = ("fusion_wall_s", "simulated_s", "max_step_wall_s")
_MEDIANS = (
    "latency_s",
    "latency_from_stereo_s",
    "launch_error_km",
    "launch_error_over_crlb",
    "azimuth_error_deg",
    "impact_error_km",
    "impact_error_over_crlb",
)
SHARING_METRICS = {
    "seen_rate": np.nanmean,
    "triangulated_rate": np.nanmean,
    "latency_s": np.nanmedian,
    "launch_error_km": np.nanmedian,
}


def _value(row: dict, metric: str) -> float:
    """One launch's value of a warning metric (NaN where it does not apply)."""
    if not row["stereo_visible"]:
        return np.nan
    if metric == "detection_rate":
        return float(row["detected"])
    if not row["detected"]:
        return np.nan
    if metric == "classification_rate":
        return float(row["class_est"] == row["class_true"])
    if metric.endswith("_over_crlb"):
        what = metric.removesuffix("_error_over_crlb")
        err, bound = row[f"{what}_error_km"], row[f"{what}_crlb_km"]
        return err / bound if err is not None and bound else np.nan
    value = row[metric]
    return np.nan if value is None else float(value)


def _matrix(rows: Sequence[dict], seeds: list[int], ids: list[str], value) -> np.ndarray:
    """(seeds × launch ids) of ``value(row)``; NaN where no row."""
    out = np.full((len(seeds), len(ids)), np.nan)
    si, li = {s: i for i, s in enumerate(seeds)}, {x: j for j, x in enumerate(ids)}
    for r in rows:
        out[si[r["seed"]], li[r["id"]]] = value(r)
    return out


def warning_intervals(rows: Sequence[dict], idx: np.ndarray, seeds: list[int]) -> dict:
    """Medians (rates: means) with intervals of the warning metrics of one variant's launch rows."""
    ids = sorted({r["id"] for r in rows})
    out = {}
    for metric in ("detection_rate", "classification_rate", *_MEDIANS):
        reducer = np.nanmean if metric.endswith("_rate") else np.nanmedian
        out[metric] = bootstrap.interval(
            _matrix(rows, seeds, ids, lambda r, m=metric: _value(r, m)), reducer, idx
        )
    return out


def _sharing_value(row: dict, metric: str) -> float:
    if metric == "seen_rate":
        return float(row["seen"])
    if metric == "triangulated_rate":
        return float(row["triangulated"])
    value = row[metric]
    return np.nan if value is None else float(value)


def sharing_intervals(rows: Sequence[dict], idx: np.ndarray, seeds: list[int]) -> dict:
    """Per partner: ``alone``, ``shared`` and ``shared_minus_alone`` (paired) for :data:`SHARING_METRICS`."""
    out: dict = {}
    ids = sorted({r["id"] for r in rows})
    for pid in sorted({r["partner"] for r in rows}):
        views = {}
        for view in ("alone", "shared"):
            mine = [r for r in rows if r["partner"] == pid and r["view"] == view]
            views[view] = {
                m: _matrix(mine, seeds, ids, lambda r, m=m: _sharing_value(r, m)) for m in SHARING_METRICS
            }
        out[pid] = {
            view: {m: bootstrap.interval(mat, SHARING_METRICS[m], idx) for m, mat in views[view].items()}
            for view in views
        }
        out[pid]["shared_minus_alone"] = {
            m: bootstrap.difference(views["shared"][m], views["alone"][m], red, idx)
            for m, red in SHARING_METRICS.items()
        }
    return out


def variant_summary(
    records: Sequence[dict], launch_rows: Sequence[dict], sharing_rows: Sequence[dict]
) -> dict:
    """The summary of one variant from its ok records and its table rows."""
    runs = [r["score"] for r in records]
    seeds = sorted(r["seed"] for r in records)
    figures = summarize(runs)
    processing = {k: figures.pop(k) for k in _TIMING_KEYS}
    processing["task_wall_s"] = statistics.median(r["wall_s"] for r in records) if records else None
    idx = bootstrap.draws(len(seeds)) if seeds else np.zeros((bootstrap.RESAMPLES, 0), dtype=np.int64)
    out = {
        "seeds": len(seeds),
        "figures": figures,
        "intervals": warning_intervals(launch_rows, idx, seeds) if seeds else {},
        "processing": processing,
    }
    if sharing_rows:
        out["sharing"] = sharing_intervals(sharing_rows, idx, seeds)
    return out


def campaign_summary(
    name: str,
    variants: Sequence[str],
    records: Sequence[dict],
    launch_rows: Sequence[dict],
    sharing_rows: Sequence[dict],
    n_tasks: int,
) -> dict:
    """``summary.json``: the campaign's counts, its failed tasks (key and one-line error) and each variant."""
    ok = [r for r in records if r["status"] == "ok"]
    return {
        "campaign": name,
        "tasks": n_tasks,
        "ok": len(ok),
        "failed": [{"key": r["key"], "error": r["error"]} for r in records if r["status"] != "ok"],
        "missing": n_tasks - len(records),
        "bootstrap": {
            "resamples": bootstrap.RESAMPLES,
            "level": bootstrap.LEVEL,
            "unit": "seed",
            "method": "percentile",
            "seed": bootstrap.BOOTSTRAP_SEED,
        },
        "variants": {
            v: variant_summary(
                [r for r in ok if r["variant"] == v],
                [r for r in launch_rows if r["variant"] == v],
                [r for r in sharing_rows if r["variant"] == v],
            )
            for v in variants
        },
    }
