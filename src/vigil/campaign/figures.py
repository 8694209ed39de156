"""The reference figures of a warning campaign, from the per-seed scores (``score.json`` of each seed).

These are the acceptance figures of issue 4 (docs/benchmarks.md): medians over the stereo-visible launches
× seeds of the launch-point, azimuth and impact errors and their ratios to the Cramér–Rao bound, detection,
exactly-one-event and classification rates, first-warning latency, false events, and the fusion's
processing split. ``runs`` are score dicts each with a ``seed``.
"""

from __future__ import annotations

import statistics


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _records(runs: list[dict], stereo_only: bool = True) -> list[dict]:
    out = []
    for run in runs:
        stereo = set(run["stereo_visible"])
        out += [r | {"seed": run["seed"]} for r in run["launches"] if not stereo_only or r["id"] in stereo]
    return out


def _ratio(rec: dict, error: str, bound: str) -> float | None:
    return rec[error] / rec[bound] if rec[error] is not None and rec[bound] else None


def _rms_ratio(recs: list[dict], error: str, bound: str) -> float | None:
    """RMS error / RMS bound over records with both: 1 for an efficient unbiased estimator (the median of
    error / RMS bound is 0.67-0.83 then, from a 1-D to a circular error)."""
    pairs = [(r[error], r[bound]) for r in recs if r[error] is not None and r[bound]]
    if not pairs:
        return None
    return (sum(e * e for e, _ in pairs) / sum(b * b for _, b in pairs)) ** 0.5


def by_class(runs: list[dict]) -> dict:
    """Launch-point and azimuth figures per true class (medians; RMS ratios)."""
    out = {}
    for cls in ("ballistic", "space_launch"):
        found = [r for r in _records(runs) if r["detected"] and r["class_true"] == cls]
        out[cls] = {
            "launches": len(found),
            "launch_error_km": _median([r["launch_error_km"] for r in found]),
            "launch_crlb_km": _median([r["launch_crlb_km"] for r in found]),
            "launch_error_over_crlb": _median(
                [_ratio(r, "launch_error_km", "launch_crlb_km") for r in found]
            ),
            "launch_rms_ratio": _rms_ratio(found, "launch_error_km", "launch_crlb_km"),
            "azimuth_error_deg": _median([r["azimuth_error_deg"] for r in found]),
            "impact_error_over_crlb": _median(
                [_ratio(r, "impact_error_km", "impact_crlb_km") for r in found]
            ),
            "impact_rms_ratio": _rms_ratio(found, "impact_error_km", "impact_crlb_km"),
        }
    return out


def summarize(runs: list[dict]) -> dict:
    """The campaign's acceptance figures (medians over launches × seeds; counts over everything)."""
    recs = _records(runs)
    found = [r for r in recs if r["detected"]]
    dup = {(run["seed"], lid): len(ids) for run in runs for lid, ids in run.get("duplicates", {}).items()}
    events_per_launch = [int(r["detected"]) + dup.get((r["seed"], r["id"]), 0) for r in recs]
    proc = [run["processing"] for run in runs]
    return {
        "seeds": len(runs),
        "stereo_launches": len(recs),
        "detection_rate": len(found) / len(recs) if recs else None,
        "exactly_one_event_rate": sum(n == 1 for n in events_per_launch) / len(recs) if recs else None,
        "events_per_stereo_launch_mean": statistics.fmean(events_per_launch) if recs else None,
        "latency_s": _median([r["latency_s"] for r in found]),
        "latency_from_stereo_s": _median([r["latency_from_stereo_s"] for r in found]),
        "launch_error_km": _median([r["launch_error_km"] for r in found]),
        "launch_crlb_km": _median([r["launch_crlb_km"] for r in found]),
        "launch_error_over_crlb": _median([_ratio(r, "launch_error_km", "launch_crlb_km") for r in found]),
        "launch_rms_ratio": _rms_ratio(found, "launch_error_km", "launch_crlb_km"),
        "azimuth_error_deg": _median([r["azimuth_error_deg"] for r in found]),
        "impact_error_km": _median([r["impact_error_km"] for r in found]),
        "impact_error_over_crlb": _median([_ratio(r, "impact_error_km", "impact_crlb_km") for r in found]),
        "impact_rms_ratio": _rms_ratio(found, "impact_error_km", "impact_crlb_km"),
        "by_class": by_class(runs),
        "classification_rate": (sum(r["class_est"] == r["class_true"] for r in found) / len(found))
        if found
        else None,
        "false_events_total": sum(run["false_events"] for run in runs),
        "runs_with_false_events": sum(run["false_events"] > 0 for run in runs),
        "fusion_wall_s": _median([p["fusion_wall_s"] for p in proc]),
        "simulated_s": _median([p["simulated_s"] for p in proc]),
        "max_step_wall_s": max((p["max_step_wall_s"] for p in proc), default=None),
        "observations": _median([p["observations"] for p in proc]),
    }


def per_launch(runs: list[dict]) -> list[dict]:
    """Per launch id: detection rate, median latency from stereo, launch / azimuth error, class rate."""
    ids = [r["id"] for r in runs[0]["launches"]] if runs else []
    rows = []
    for lid in ids:
        recs = [r for run in runs for r in run["launches"] if r["id"] == lid]
        found = [r for r in recs if r["detected"]]
        rows.append(
            {
                "id": lid,
                "class_true": recs[0]["class_true"],
                "detected": len(found) / len(recs),
                "latency_from_stereo_s": _median([r["latency_from_stereo_s"] for r in found]),
                "launch_error_km": _median([r["launch_error_km"] for r in found]),
                "launch_crlb_km": _median([r["launch_crlb_km"] for r in found]),
                "launch_rms_ratio": _rms_ratio(found, "launch_error_km", "launch_crlb_km"),
                "azimuth_error_deg": _median([r["azimuth_error_deg"] for r in found]),
                "impact_error_km": _median([r["impact_error_km"] for r in found]),
                "impact_rms_ratio": _rms_ratio(found, "impact_error_km", "impact_crlb_km"),
                "classified": (sum(r["class_est"] == r["class_true"] for r in found) / len(found))
                if found
                else None,
            }
        )
    return rows
