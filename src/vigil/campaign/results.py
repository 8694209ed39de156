"""A campaign's tables, from its stored task records (in task order, whatever order they finished in).

* ``launches.parquet``: one row per (variant, seed, launch): ``variant``, ``seed``, the ``score.json``
  launch fields (:data:`vigil.scoring.metrics.LAUNCH_KEYS`), ``stereo_visible`` (seen by two satellites at
  some instant) and ``duplicate_events`` (extra events tied to that launch);
  generated campaigns add what was drawn per launch (:data:`GENERATED_SCHEMA`: source, site, its
  latitude / longitude, time after the epoch, azimuth, loft, range);
* ``sharing.parquet`` (sharing campaigns): one row per (variant, seed, partner, view, launch) with
  :data:`vigil.campaign.work.SHARING_ROW_KEYS`, ``view`` being ``alone`` or ``shared``.

Timing (the processing split) is not in these tables: it differs run to run, the tables do not.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..scoring.metrics import LAUNCH_KEYS
from .work import SHARING_ROW_KEYS

_LAUNCH_TYPES = {
    "id": pa.string(),
    "detected": pa.bool_(),
    "class_true": pa.string(),
    "class_est": pa.string(),
    "latency_s": pa.float64(),
    "latency_from_stereo_s": pa.float64(),
    "launch_error_km": pa.float64(),
    "launch_crlb_km": pa.float64(),
    "azimuth_error_deg": pa.float64(),
    "impact_error_km": pa.float64(),
    "impact_crlb_km": pa.float64(),
    "notification": pa.string(),
}
LAUNCH_SCHEMA = pa.schema(
    [("variant", pa.string()), ("seed", pa.int64())]
    + [(k, _LAUNCH_TYPES[k]) for k in LAUNCH_KEYS]
    + [("stereo_visible", pa.bool_()), ("duplicate_events", pa.int64())]
)
# generated campaigns (vigil.campaign.generator): what was drawn for each launch, after the score fields
GENERATED_SCHEMA = LAUNCH_SCHEMA.append(pa.field("source", pa.string())).append(pa.field("site", pa.string()))
for _name in ("site_lat_deg", "site_lon_deg", "time_s", "azimuth_deg", "loft_deg", "range_km"):
    GENERATED_SCHEMA = GENERATED_SCHEMA.append(pa.field(_name, pa.float64()))
SHARING_SCHEMA = pa.schema(
    [
        ("variant", pa.string()),
        ("seed", pa.int64()),
        ("partner", pa.string()),
        ("view", pa.string()),
        ("id", pa.string()),
        ("seen", pa.bool_()),
        ("triangulated", pa.bool_()),
        ("latency_s", pa.float64()),
        ("launch_error_km", pa.float64()),
    ]
)


def launch_rows(records: Iterable[dict]) -> list[dict]:
    """Per-launch rows of the ``ok`` records."""
    rows = []
    for rec in records:
        if rec["status"] != "ok":
            continue
        score = rec["score"]
        stereo = set(score.get("stereo_visible", []))
        dups = score.get("duplicates", {})
        drawn = {d["id"]: {k: v for k, v in d.items() if k != "id"} for d in rec.get("launches") or ()}
        for launch in score["launches"]:
            row = {"variant": rec["variant"], "seed": rec["seed"]}
            row.update({k: launch.get(k) for k in LAUNCH_KEYS})
            row.update(
                stereo_visible=launch["id"] in stereo, duplicate_events=len(dups.get(launch["id"], []))
            )
            row.update(drawn.get(launch["id"], {}))
            rows.append(row)
    return rows


def sharing_rows(records: Iterable[dict]) -> list[dict]:
    """Per (partner, view, launch) rows of the ``ok`` records that ran the partners' nodes."""
    return [
        {"variant": rec["variant"], "seed": rec["seed"], **{k: r[k] for k in SHARING_ROW_KEYS}}
        for rec in records
        if rec["status"] == "ok" and rec.get("sharing")
        for r in rec["sharing"]
    ]


def write_table(rows: list[dict], schema: pa.Schema, path: Path) -> Path:
    """Write ``rows`` as a Parquet file of ``schema`` (atomically: temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
    tmp.replace(path)
    return path


def read_table(path: Path) -> list[dict]:
    """The rows of a table written by :func:`write_table`."""
    return pq.read_table(path).to_pylist()
