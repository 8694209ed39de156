"""Observation files: exact round trips (Parquet, JSON lines) and one DataError line for each bad file."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vigil.errors import DataError
from vigil.records import ObservationBatch
from vigil.sim.io import read_observations, write_observations


def _batch(n=50, seed=0) -> ObservationBatch:
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n, 3))
    return ObservationBatch(
        "2026-03-01T12:00:00Z",
        np.arange(n, dtype=np.int64),
        np.array([f"north-{i % 3 + 1}" for i in range(n)], object),
        np.array(["north"] * n, object),
        np.sort(rng.uniform(0, 100, n)),
        rng.standard_normal((n, 3)) * 4e7,
        u / np.linalg.norm(u, axis=-1, keepdims=True),
        np.full(n, 2e-5),
        rng.uniform(6, 50, n),
        rng.uniform(1e5, 1e7, n),
        rng.integers(0, 100, n),
    )


def _same(a: ObservationBatch, b: ObservationBatch) -> bool:
    from vigil.records import OBSERVATION_FIELDS

    return a.epoch == b.epoch and all(
        np.array_equal(getattr(a, f), getattr(b, f)) for f in OBSERVATION_FIELDS
    )


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_round_trip_is_exact(tmp_path, fmt):
    b = _batch()
    path = write_observations(b, tmp_path / f"obs.{fmt}", fmt)
    assert _same(read_observations(path), b)


def test_reader_finds_the_file_in_a_simulation_folder(tmp_path):
    b = _batch()
    write_observations(b, tmp_path / "observations.parquet")
    assert _same(read_observations(tmp_path), b)


def _corrupt(b: ObservationBatch, field: str, row: int, value) -> ObservationBatch:
    arr = getattr(b, field).copy()
    arr[row] = value
    setattr(b, field, arr)
    return b


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("snr", np.nan, "record 7: snr is not finite"),
        ("sensor_pos_ecef_m", [np.inf, 0, 0], "record 7: sensor_pos_ecef_m is not finite"),
        ("los_ecef", [1.0, 2e-3, 0.0], "record 7: los_ecef is not a unit vector"),
        ("time_s", -1.0, "record 7: time_s -1.0 is before the previous record's"),
    ],
)
@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_bad_values_are_one_line(tmp_path, fmt, field, value, expected):
    b = _corrupt(_batch(), field, 7, value)
    if fmt == "parquet":
        path = write_observations(b, tmp_path / "o.parquet")
    else:  # JSON has no NaN/inf: write them as a careless producer would
        path = tmp_path / "o.jsonl"
        rows = pq.read_table(write_observations(b, tmp_path / "tmp.parquet")).to_pylist()
        path.write_text("".join(json.dumps({"epoch": b.epoch, **r}) + "\n" for r in rows))
    with pytest.raises(DataError) as err:
        read_observations(path)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_wrong_schema_missing_column_and_foreign_files_are_rejected(tmp_path):
    path = write_observations(_batch(), tmp_path / "o.parquet")
    table = pq.read_table(path)
    pq.write_table(table.drop_columns(["snr"]), tmp_path / "missing.parquet")
    with pytest.raises(DataError, match="column 'snr' is missing"):
        read_observations(tmp_path / "missing.parquet")
    cast = table.set_column(
        table.column_names.index("frame_id"), "frame_id", table.column("frame_id").cast(pa.float64())
    )
    pq.write_table(cast, tmp_path / "cast.parquet")
    with pytest.raises(DataError, match="column 'frame_id' has type double, expected int64"):
        read_observations(tmp_path / "cast.parquet")
    pq.write_table(pa.table({"x": [1]}), tmp_path / "foreign.parquet")
    with pytest.raises(DataError, match="lacks vigil.epoch"):
        read_observations(tmp_path / "foreign.parquet")
    (tmp_path / "text.parquet").write_text("hello")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_observations(tmp_path / "text.parquet")
    (tmp_path / "o.jsonl").write_text('{"epoch": "x", "obs_id": 1}\n')
    with pytest.raises(DataError, match="o.jsonl:1: expected the keys"):
        read_observations(tmp_path / "o.jsonl")
    with pytest.raises(DataError, match="no such observation file"):
        read_observations(tmp_path / "absent.parquet")
