"""``vigil warmup``: compile the numba kernels a first run needs into numba's on-disk cache, in parallel.

The kernels are ``@numba.njit(cache=True)``: compiled lazily on their first call, then loaded from the
cache files numba writes next to their sources (``__pycache__/*.nbi``, ``*.nbc``). A first ``vigil demo``
on a fresh clone would spend most of its time compiling them one after the other; ``make install`` runs this
command instead, which compiles the same signatures without running anything, spread over one process per
core (numba compiles in one thread per process).

What to compile comes from :data:`MANIFEST`: the kernels a cold ``vigil demo`` calls from Python (its
entry points; their callees are compiled with them), one signature per line, with the CPU seconds each took,
written by ``bench/bench_compile.py --record``. A signature missing from it is only compiled later, on first
use, as without a warm-up; one no longer used costs install time and nothing else. Processes take whole
kernels (all of a kernel's signatures), the most expensive first.
"""

from __future__ import annotations

import ast
import importlib
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

MANIFEST = Path(__file__).parent / "data" / "warmup-kernels.txt"
_HEADER = (
    "# Entry kernels of a cold `vigil demo`: module:function <TAB> compile CPU s <TAB> argument types.\n"
    "# Written by `bench/bench_compile.py --record`; read by `vigil warmup` (src/vigil/warmup.py).\n"
)


def encode_type(ty) -> str:
    """A numba argument type as the expression :func:`decode_types` reads (arrays, scalars, tuples, named
    tuples, None, other kernels passed as arguments); ``ValueError`` for any other type."""
    from numba.core import types

    if isinstance(ty, types.Array):
        ro = ", readonly=True" if not ty.mutable else ""
        return f"Array({encode_type(ty.dtype)}, {ty.ndim}, {ty.layout!r}{ro})"
    if isinstance(ty, types.Boolean | types.Integer | types.Float) and not isinstance(ty, types.Literal):
        return "boolean" if isinstance(ty, types.Boolean) else ty.name
    if isinstance(ty, types.BaseNamedTuple):  # (homogeneous or not: decoded by their class and field types)
        return (
            f"NamedTuple({_qualified(ty.instance_class)!r}, "
            + ", ".join(encode_type(t) for t in ty.types)
            + ")"
        )
    if isinstance(ty, types.UniTuple):
        return f"UniTuple({encode_type(ty.dtype)}, {ty.count})"
    if isinstance(ty, types.Tuple):
        return "Tuple(" + ", ".join(encode_type(t) for t in ty.types) + ")"
    if isinstance(ty, types.NoneType):
        return "none"
    if isinstance(ty, types.Dispatcher):
        return f"Dispatcher({_qualified(ty.dispatcher.py_func)!r})"
    raise ValueError(f"{ty}: no manifest form for numba type {type(ty).__name__}")


def _qualified(obj) -> str:
    """``module:qualname`` of a function or class (read back by :func:`_resolve`)."""
    return f"{obj.__module__}:{obj.__qualname__}"


def decode_types(text: str) -> tuple:
    """The argument types of a manifest line (the inverse of :func:`encode_type` over a comma list)."""
    tree = ast.parse(f"({text},)", mode="eval").body
    return tuple(_decode(node) for node in tree.elts)


def _decode(node):
    from numba.core import types

    if isinstance(node, ast.Name):
        ty = getattr(types, node.id, None)
        if not isinstance(ty, types.Type):
            raise ValueError(f"{node.id}: not a numba type")
        return ty
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_decode(a) for a in node.args]
        kwargs = {k.arg: _decode(k.value) for k in node.keywords}
        if node.func.id == "Dispatcher":
            return types.Dispatcher(_resolve(args[0]))
        if node.func.id == "Tuple":
            return types.Tuple(args)
        if node.func.id == "NamedTuple":
            cls = _resolve(args[0])
            if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")):
                raise ValueError(f"{args[0]}: not a named-tuple class")
            return types.BaseTuple.from_types(args[1:], cls)
        if node.func.id in ("Array", "UniTuple"):
            return getattr(types, node.func.id)(*args, **kwargs)
    raise ValueError(f"{ast.unparse(node)}: not a manifest type")


def _resolve(name: str):
    """The dispatcher (or named-tuple class) ``module:qualname``."""
    module, qualname = name.split(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def write_manifest(entries: Iterable[tuple[object, tuple, float]], path: Path = MANIFEST) -> Path:
    """Write ``(dispatcher, argument types, CPU s)`` entries (one per signature, in call order) to ``path``."""
    lines = []
    for dispatcher, args, seconds in entries:
        lines.append(
            f"{_qualified(dispatcher.py_func)}\t{seconds:.2f}\t"
            + ", ".join(encode_type(t) for t in args)
            + "\n"
        )
    path.write_text(_HEADER + "".join(lines), encoding="utf-8")
    return path


def read_manifest(path: Path = MANIFEST) -> list[tuple[str, float, list[str]]]:
    """``(module:qualname, CPU s, [argument types, one string per signature])`` per kernel, the most expensive
    (all its signatures together) first."""
    kernels: dict[str, tuple[float, list[str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, seconds, args = line.split("\t")
            cost, sigs = kernels.get(name, (0.0, []))
            kernels[name] = (cost + float(seconds), [*sigs, args])
    return sorted(((n, c, s) for n, (c, s) in kernels.items()), key=lambda k: -k[1])


def compile_kernel(name: str, signatures: list[str]) -> tuple[str, float, str | None]:
    """Compile (or load from the cache) the signatures of kernel ``name``: ``(name, CPU s, error or None)``; a
    kernel that fails here (renamed since the manifest was written, …) is only left to compile on first use."""
    t0 = time.process_time()
    try:
        dispatcher = _resolve(name)
        for sig in signatures:
            dispatcher.compile(decode_types(sig))
    except Exception as err:  # noqa: BLE001 - reported in one line; the run compiles it lazily as without warm-up
        return name, time.process_time() - t0, " ".join(f"{type(err).__name__}: {err}".split())[:200]
    return name, time.process_time() - t0, None


def warm_up(jobs: int | None = None, path: Path = MANIFEST, progress=None) -> dict:
    """Compile the manifest's kernels in ``jobs`` processes (default: one per core the process may use);
    ``progress(done, total)`` after each kernel. Returns ``{"kernels", "jobs", "wall_s", "cpu_s", "errors"}``
    (errors: ``{kernel: one line}``)."""
    kernels = read_manifest(path)
    jobs = jobs or len(os.sched_getaffinity(0))
    t0 = time.perf_counter()
    cpu, errors = 0.0, {}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(compile_kernel, name, sigs) for name, _, sigs in kernels]
        for done, future in enumerate(as_completed(futures), 1):
            name, seconds, error = future.result()
            cpu += seconds
            if error is not None:
                errors[name] = error
            if progress is not None:
                progress(done, len(kernels))
    return {
        "kernels": len(kernels),
        "jobs": jobs,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": cpu,
        "errors": errors,
    }


def warmup(jobs: int = 0) -> None:
    """Compile the numba kernels of a first run into numba's cache (``make install`` runs this once)."""
    import typer

    from .progress import progress_bar

    typer.echo(
        f"compiling the numba kernels of {MANIFEST.name} in {jobs or len(os.sched_getaffinity(0))} "
        "processes (once per install; numba's cache files, reused by every run)"
    )
    with progress_bar("compiling numba kernels") as advance:
        out = warm_up(jobs or None, progress=advance)
    for name, error in out["errors"].items():
        typer.echo(f"warning: {name} not compiled ({error}); it compiles on first use", err=True)
    typer.echo(
        f"compiled {out['kernels'] - len(out['errors'])} of {out['kernels']} kernels in {out['jobs']} "
        f"processes: {out['wall_s']:.1f} s wall, {out['cpu_s']:.1f} s CPU"
    )


def register(app) -> None:
    import typer

    def command(jobs: int = typer.Option(0, "--jobs", min=0, help="processes (0: one per core)")) -> None:
        warmup(jobs)

    command.__doc__ = warmup.__doc__
    app.command("warmup")(command)


if __name__ == "__main__":
    warmup()
