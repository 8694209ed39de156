"""``vigil warmup``: the manifest's types survive their text form, its kernels exist, and a warm-up really
fills numba's cache (checked in a fresh process on an empty ``NUMBA_CACHE_DIR``: the index file appears and a
later process loads the kernel without compiling)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest
from numba.core import types

from vigil import warmup
from vigil.fusion.boost.filter import FilterTuning
from vigil.fusion.geometry import lapack
from vigil.fusion.strings.poolarrays import DetectionRows

SRC = str(Path(warmup.__file__).resolve().parents[1])


@pytest.mark.parametrize(
    "ty",
    [
        types.float64,
        types.int64,
        types.int32,
        types.boolean,
        types.none,
        types.Array(types.float64, 2, "C"),
        types.Array(types.int64, 1, "A"),
        types.Array(types.float64, 3, "C", readonly=True),
        types.Array(types.bool_, 1, "C"),
        types.UniTuple(types.float64, 3),
        types.Tuple((types.int64, types.Array(types.float64, 1, "C"))),
        types.Dispatcher(lapack.solve),
        types.NamedUniTuple(types.float64, 3, FilterTuning),
        types.NamedTuple(
            (
                types.Array(types.float64, 1, "C"),
                types.Array(types.float64, 2, "C"),
                types.Array(types.float64, 2, "C"),
                types.Array(types.float64, 1, "C"),
                types.Array(types.int64, 1, "A"),
            ),
            DetectionRows,
        ),
    ],
)
def test_types_survive_their_text_form(ty):
    assert warmup.decode_types(warmup.encode_type(ty)) == (ty,)


def test_unknown_types_are_refused_by_name():
    with pytest.raises(ValueError, match="unicode_type"):
        warmup.encode_type(types.unicode_type)
    with pytest.raises(ValueError, match="__import__"):
        warmup.decode_types("__import__('os')")
    with pytest.raises(ValueError, match="not a named-tuple class"):
        warmup.decode_types("NamedTuple('vigil.fusion.geometry.lapack:pivots', float64)")


def test_every_manifest_kernel_is_a_cached_numba_kernel_with_decodable_signatures():
    kernels = warmup.read_manifest()
    assert len(kernels) >= 20  # a cold demo calls ~30 kernels from Python
    costs = [cost for _, cost, _ in kernels]
    assert costs == sorted(costs, reverse=True)
    for name, _, signatures in kernels:
        dispatcher = warmup._resolve(name)
        assert isinstance(dispatcher, numba.core.registry.CPUDispatcher), name
        assert dispatcher._cache.__class__.__name__ == "FunctionCache", f"{name}: not cache=True"
        for sig in signatures:
            assert all(isinstance(t, types.Type) for t in warmup.decode_types(sig)), (name, sig)


_CHILD = """
import sys, pathlib
from vigil import warmup
print(warmup.warm_up(jobs=1, path=pathlib.Path(sys.argv[1]))["kernels"])
"""
_LATER = """
from vigil.fusion.geometry import lapack
lapack.pivots(3)
print(sum(lapack.pivots.stats.cache_hits.values()), sum(lapack.pivots.stats.cache_misses.values()))
"""


def _child(code: str, cache: Path, *args: str) -> list[str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True
    ).stdout.split()


def test_warm_up_writes_numba_cache_that_a_later_process_loads(tmp_path):
    manifest = tmp_path / "manifest.txt"
    warmup.write_manifest([(lapack.pivots, (types.int64,), 0.1)], manifest)
    cache = tmp_path / "cache"
    assert _child(_LATER, tmp_path / "empty") == ["0", "1"]  # without a warm-up: a miss (it compiles)
    assert _child(_CHILD, cache, str(manifest)) == ["1"]
    assert list(cache.rglob("lapack.pivots-*.nbi")) and list(cache.rglob("lapack.pivots-*.nbc"))
    assert _child(_LATER, cache) == ["1", "0"]  # after it: loaded from the cache, nothing compiled


_SCATTER = """
import numpy as np
from vigil.fusion.strings.poolarrays import Blocks, DetectionRows
from vigil.fusion.strings.stringpool import _scatter
rows = DetectionRows(np.zeros(4), np.zeros((4, 3)), np.zeros((4, 3)), np.zeros(4), np.zeros(4, dtype=np.int64))
ids = np.zeros(1, dtype=np.int64)
blocks = Blocks(ids, ids.copy(), ids + 4, np.zeros(1), ids - 1)
_scatter(rows, blocks, ids, ids, rows, 1)
print(int(blocks.used[0]), sum(_scatter.stats.cache_hits.values()), sum(_scatter.stats.cache_misses.values()))
"""


def test_named_tuple_signature_of_the_manifest_is_the_one_a_call_loads(tmp_path):
    """The shipped manifest's line for a kernel taking named tuples (the string pool's scatter), warmed up,
    is what a later call with those named tuples loads from the cache."""
    name = "vigil.fusion.strings.stringpool:_scatter"
    (signature,) = dict((n, s) for n, _, s in warmup.read_manifest())[name]
    manifest = tmp_path / "manifest.txt"
    manifest.write_text(f"{name}\t0.3\t{signature}\n", encoding="utf-8")
    cache = tmp_path / "cache"
    assert _child(_CHILD, cache, str(manifest)) == ["1"]
    assert _child(_SCATTER, cache) == [
        "1",
        "1",
        "0",
    ]  # one row appended, loaded from the cache, none compiled
