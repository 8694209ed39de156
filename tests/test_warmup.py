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
from vigil.fusion.geometry import lapack

SRC = str(Path(warmup.__file__).resolve().parents[1])


@pytest.mark.parametrize("ty", [
    types.float64, types.int64, types.int32, types.boolean, types.none,
    types.Array(types.float64, 2, "C"), types.Array(types.int64, 1, "A"),
    types.Array(types.float64, 3, "C", readonly=True), types.Array(types.bool_, 1, "C"),
    types.UniTuple(types.float64, 3), types.Tuple((types.int64, types.Array(types.float64, 1, "C"))),
    types.Dispatcher(lapack.solve),
])
def test_types_survive_their_text_form(ty):
    assert warmup.decode_types(warmup.encode_type(ty)) == (ty,)


def test_unknown_types_are_refused_by_name():
    with pytest.raises(ValueError, match="unicode_type"):
        warmup.encode_type(types.unicode_type)
    with pytest.raises(ValueError, match="__import__"):
        warmup.decode_types("__import__('os')")


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
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          check=True).stdout.split()


def test_warm_up_writes_numba_cache_that_a_later_process_loads(tmp_path):
    manifest = tmp_path / "manifest.txt"
    warmup.write_manifest([(lapack.pivots, (types.int64,), 0.1)], manifest)
    cache = tmp_path / "cache"
    assert _child(_LATER, tmp_path / "empty") == ["0", "1"]  # without a warm-up: a miss (it compiles)
    assert _child(_CHILD, cache, str(manifest)) == ["1"]
    assert list(cache.rglob("lapack.pivots-*.nbi")) and list(cache.rglob("lapack.pivots-*.nbc"))
    assert _child(_LATER, cache) == ["1", "0"]  # after it: loaded from the cache, nothing compiled
