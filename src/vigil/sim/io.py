"""Observation files (Parquet or JSON lines), truth associations, truth and summary JSON.

Schema (docs/observations.md): one row per observation with the columns of
:data:`vigil.records.OBSERVATION_FIELDS`; vectors are fixed-size lists of 3 float64 in Parquet and arrays of
3 numbers in JSON lines. Parquet carries the epoch in the schema metadata (``vigil.epoch``); each JSON line
carries it as ``epoch``. The reader rejects a file with a wrong schema, NaN or infinite values, a
non-unit LOS (``|1 - ‖u‖| > 1e-6``) or times out of order, with one :class:`~vigil.errors.DataError` line.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ConfigError, DataError
from ..records import (
    MAX_LOS_SIGMA_RAD,
    MAX_SENSOR_RADIUS_M,
    OBSERVATION_FIELDS,
    OBSERVATION_LOWER_BOUNDS,
    ObservationBatch,
)
from ..timescale import parse_utc

SCHEMA_VERSION = "vigil.observations/1"
UNIT_TOLERANCE = 1e-6  # allowed |1 - ‖los‖| in a file
OBSERVATIONS_PARQUET = "observations.parquet"
OBSERVATIONS_JSONL = "observations.jsonl"
VECTOR_FIELDS = ("sensor_pos_ecef_m", "los_ecef")
_TYPES = {
    "obs_id": pa.int64(),
    "sensor_id": pa.string(),
    "partner_id": pa.string(),
    "time_s": pa.float64(),
    "sensor_pos_ecef_m": pa.list_(pa.float64(), 3),
    "los_ecef": pa.list_(pa.float64(), 3),
    "los_sigma_rad": pa.float64(),
    "snr": pa.float64(),
    "intensity_w_sr": pa.float64(),
    "frame_id": pa.int64(),
}
OBSERVATION_SCHEMA = pa.schema([(f, _TYPES[f]) for f in OBSERVATION_FIELDS])


def _table(batch: ObservationBatch) -> pa.Table:
    arrays = []
    for f in OBSERVATION_FIELDS:
        v = getattr(batch, f)
        if f in VECTOR_FIELDS:
            flat = pa.array(np.ascontiguousarray(v, dtype=float).reshape(-1))
            arrays.append(pa.FixedSizeListArray.from_arrays(flat, 3))
        elif f in ("sensor_id", "partner_id"):
            arrays.append(pa.array([str(x) for x in v], pa.string()))
        else:
            arrays.append(pa.array(np.asarray(v), _TYPES[f]))
    meta = {"vigil.epoch": batch.epoch, "vigil.schema": SCHEMA_VERSION}
    return pa.Table.from_arrays(arrays, schema=OBSERVATION_SCHEMA.with_metadata(meta))


def write_observations(batch: ObservationBatch, path: str | Path, fmt: str = "parquet") -> Path:
    """Write ``batch`` to ``path`` (a file) as ``parquet`` or ``jsonl``; returns the path."""
    path = Path(path)
    if fmt == "parquet":
        pq.write_table(_table(batch), path)
    elif fmt == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for row in _table(batch).to_pylist():
                fh.write(json.dumps({"epoch": batch.epoch, **row}, allow_nan=False) + "\n")
    else:
        raise DataError(f"{path}: unknown observation format {fmt!r} (parquet or jsonl)")
    return path


def read_observations(path: str | Path) -> ObservationBatch:
    """Read and check an observation file, or the observations file of a simulation folder."""
    path = Path(path)
    if path.is_dir():
        candidates = [path / OBSERVATIONS_PARQUET, path / OBSERVATIONS_JSONL]
        path = next((p for p in candidates if p.is_file()), candidates[0])
    if not path.is_file():
        raise DataError(f"{path}: no such observation file")
    table, epoch = _read_jsonl(path) if path.suffix == ".jsonl" else _read_parquet(path)
    if epoch:
        try:
            parse_utc(epoch, "epoch")
        except ConfigError:
            raise DataError(f"{path}: epoch {epoch[:40]!r} is not an ISO 8601 UTC time") from None
    batch = _from_table(table, epoch, path)
    check_observations(batch, path)
    return batch


def _read_parquet(path: Path) -> tuple[pa.Table, str]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"{path}: not a readable Parquet file ({str(err).splitlines()[0]})") from None
    meta = table.schema.metadata or {}
    epoch = meta.get(b"vigil.epoch")
    if epoch is None:
        raise DataError(f"{path}: schema metadata lacks vigil.epoch (not a Vigil observation file)")
    return table, epoch.decode()


def _read_jsonl(path: Path) -> tuple[pa.Table, str]:
    rows, epochs = [], set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path}: not UTF-8 text at byte {err.start} (observation files are UTF-8 only)"
        ) from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{n}: not valid JSON ({err.msg})") from None
        except RecursionError:
            raise DataError(f"{path}:{n}: nested too deeply to be an observation record") from None
        if not isinstance(row, dict) or set(row) != {"epoch", *OBSERVATION_FIELDS}:
            got = sorted(row) if isinstance(row, dict) else type(row).__name__
            raise DataError(f"{path}:{n}: expected the keys epoch + {list(OBSERVATION_FIELDS)}, got {got}")
        for key, value in row.items():  # Arrow would read true as 1.0: a boolean is not a number
            if isinstance(value, bool) or (
                isinstance(value, list) and any(isinstance(x, bool) for x in value)
            ):
                raise DataError(f"{path}:{n}: {key} is a boolean, not a number")
        epoch = row.pop("epoch")
        if not isinstance(epoch, str):
            raise DataError(f"{path}:{n}: epoch must be an ISO 8601 UTC string, got {type(epoch).__name__}")
        epochs.add(epoch)
        rows.append(row)
    if len(epochs) > 1:
        raise DataError(f"{path}: observations carry several epochs {sorted(map(str, epochs))}")
    try:
        table = pa.Table.from_pylist(rows, schema=OBSERVATION_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as err:
        raise DataError(f"{path}: a value has the wrong type ({str(err).splitlines()[0]})") from None
    return table, str(epochs.pop()) if epochs else ""


def _from_table(table: pa.Table, epoch: str, path: Path) -> ObservationBatch:
    for f in OBSERVATION_FIELDS:
        if f not in table.column_names:
            raise DataError(f"{path}: column {f!r} is missing")
        if not table.schema.field(f).type.equals(_TYPES[f]):
            raise DataError(
                f"{path}: column {f!r} has type {table.schema.field(f).type}, expected {_TYPES[f]}"
            )
        if table.column(f).null_count:
            raise DataError(f"{path}: column {f!r} has null values")
    extra = sorted(set(table.column_names) - set(OBSERVATION_FIELDS))
    if extra:
        raise DataError(f"{path}: unknown columns {extra}")
    cols = {}
    for f in OBSERVATION_FIELDS:
        col = table.column(f).combine_chunks()
        if f in VECTOR_FIELDS:
            cols[f] = col.flatten().to_numpy(zero_copy_only=False).reshape(-1, 3).copy()
        elif f in ("sensor_id", "partner_id"):
            cols[f] = np.array(col.to_pylist(), dtype=object)
        else:
            cols[f] = col.to_numpy(zero_copy_only=False).copy()
    return ObservationBatch(epoch, *(cols[f] for f in OBSERVATION_FIELDS))


def check_observations(batch: ObservationBatch, path: object = "<observations>") -> None:
    """Raise one DataError line for the first non-finite value, non-unit LOS or time out of order."""
    for f in ("time_s", "sensor_pos_ecef_m", "los_ecef", "los_sigma_rad", "snr", "intensity_w_sr"):
        bad = ~np.isfinite(getattr(batch, f))
        if bad.any():
            row = int(np.nonzero(bad.reshape(len(batch), -1).any(axis=1))[0][0])
            raise DataError(f"{path} record {row}: {f} is not finite")
    for f, (low, low_allowed) in OBSERVATION_LOWER_BOUNDS.items():
        values = getattr(batch, f)
        bad = values < low if low_allowed else values <= low
        if bad.any():
            row = int(np.argmax(bad))
            allowed = f">= {low:g}" if low_allowed else f"> {low:g}"
            raise DataError(f"{path} record {row}: {f} = {values[row]:g}, must be {allowed}")
    too_wide = batch.los_sigma_rad > MAX_LOS_SIGMA_RAD
    if too_wide.any():
        row = int(np.argmax(too_wide))
        raise DataError(
            f"{path} record {row}: los_sigma_rad = {batch.los_sigma_rad[row]:g}, "
            f"must be <= {MAX_LOS_SIGMA_RAD:g}"
        )
    far = np.linalg.norm(batch.sensor_pos_ecef_m, axis=-1) > MAX_SENSOR_RADIUS_M
    if far.any():
        row = int(np.argmax(far))
        raise DataError(
            f"{path} record {row}: sensor_pos_ecef_m is farther than {MAX_SENSOR_RADIUS_M:g} m "
            "from the Earth's centre"
        )
    norm_err = np.abs(1.0 - np.linalg.norm(batch.los_ecef, axis=-1))
    if (norm_err > UNIT_TOLERANCE).any():
        row = int(np.argmax(norm_err > UNIT_TOLERANCE))
        raise DataError(
            f"{path} record {row}: los_ecef is not a unit vector (|1 - norm| = {norm_err[row]:.3g})"
        )
    back = np.diff(batch.time_s) < 0
    if back.any():
        row = int(np.argmax(back)) + 1
        raise DataError(f"{path} record {row}: time_s {batch.time_s[row]} is before the previous record's")
    if len(np.unique(batch.obs_id)) != len(batch):
        raise DataError(f"{path}: obs_id values are not unique")


def write_associations(
    obs_id: np.ndarray, truth_launch: np.ndarray, t_emit_s: np.ndarray, path: str | Path
) -> Path:
    """Truth association per observation (``obs_id``, ``launch_id`` or ``clutter``, ``t_emit_s``) as Parquet."""
    table = pa.table(
        {
            "obs_id": pa.array(np.asarray(obs_id), pa.int64()),
            "launch_id": pa.array([str(x) for x in truth_launch], pa.string()),
            "t_emit_s": pa.array(np.asarray(t_emit_s, float), pa.float64()),
        }
    )
    pq.write_table(table, Path(path))
    return Path(path)


def read_associations(path: str | Path) -> dict[str, np.ndarray]:
    """The columns of a truth association file as arrays."""
    t = pq.read_table(Path(path))
    return {
        c: np.asarray(t.column(c).to_pylist(), dtype=object if c == "launch_id" else None)
        for c in t.column_names
    }


def write_json(data: object, path: str | Path) -> Path:
    """Write ``data`` as indented JSON (no NaN: fails loudly if any slipped in)."""
    Path(path).write_text(json.dumps(data, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return Path(path)
