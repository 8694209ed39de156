"""Writing results at the edges: never over an existing output or an input, never half a file.

Every command that writes (``--out``, ``--json FILE``) goes through here:

* :func:`check_output` refuses, in one :class:`~vigil.errors.ConfigError` line, an output that already
  exists (a file, or a non-empty folder) unless ``force``; an output that is, contains or lies inside one
  of the command's inputs (even with ``force``); and a place that cannot be written (no such parent that
  can be created, read-only, a file where a folder is needed).
* :func:`write_text_atomic` writes a temporary sibling and renames it into place, and
  :func:`output_folder` does the same for a folder of results, so a failed or killed run leaves either
  the old state or the complete new output, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import ConfigError


def _related(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are the same path or one lies inside the other (resolved)."""
    a, b = a.resolve(), b.resolve()
    return a == b or a in b.parents or b in a.parents


def check_output(
    path: Path, option: str, inputs: Iterable[Path] = (), force: bool = False, folder: bool = False
) -> None:
    """Refuse an output ``path`` given as ``option`` that would clobber something (module docstring)."""
    path = Path(path)
    check_not_input(path, option, inputs)
    if path.exists() and not force:
        if path.is_dir() and not folder:
            raise ConfigError(f"{option}: {path} is a folder, a file is needed here")
        if not path.is_dir() and folder:
            raise ConfigError(f"{option}: {path} is an existing file, a folder is needed here")
        if not path.is_dir() or any(path.iterdir()):
            raise ConfigError(
                f"{option}: {path} already exists; refusing to overwrite it (give --force to replace)"
            )
    parent = _existing_parent(path.resolve().parent)
    if not parent.is_dir():
        raise ConfigError(f"{option}: cannot create {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{option}: cannot write {path}: {parent} is not writable")


def check_not_input(path: Path, option: str, inputs: Iterable[Path]) -> None:
    """Refuse an output that is, contains or lies inside one of ``inputs`` (``--force`` or not)."""
    for source in inputs:
        if _related(Path(path), Path(source)):
            raise ConfigError(f"{option}: {path} is or contains the input {source}; choose another place")


def check_resumable_folder(
    path: Path, option: str, inputs: Iterable[Path], is_own: Callable[[Path], bool], what: str
) -> None:
    """For a command that resumes into its own folder (``vigil campaign``): ``path`` must be new, empty, or
    an earlier output of the same work (``is_own(path)``); never a file, an input, or anything else."""
    path = Path(path)
    check_not_input(path, option, inputs)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option}: {path} is an existing file, a folder is needed here")
    if path.is_dir() and any(path.iterdir()) and not is_own(path):
        raise ConfigError(
            f"{option}: {path} is a non-empty folder that is not an earlier output of {what}; "
            "refusing to write into it (choose a new folder)"
        )
    check_output(path, option, (), force=True, folder=True)


@contextlib.contextmanager
def atomic_file(path: Path, option: str = "--out") -> Iterator[Path]:
    """A temporary sibling path (same suffix) for a writer that wants a file name (matplotlib, parquet);
    renamed over ``path`` when the block succeeds, removed when it fails."""
    path = Path(path)
    _make_parent(path, option)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
        os.close(fd)
    except OSError as err:
        raise ConfigError(f"{option}: cannot write in {path.parent} ({err.strerror or err})") from None
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{option}: cannot write {path} ({err.strerror or err})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _make_parent(path: Path, option: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"{option}: cannot create {path.parent} ({err.strerror or err})") from None


def write_text_atomic(path: Path, text: str, option: str = "--out") -> Path:
    """Write ``text`` (UTF-8) to a temporary sibling of ``path``, fsync it and rename it into place."""
    path = Path(path)
    _make_parent(path, option)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
        raise ConfigError(f"{option}: cannot write {path} ({err.strerror or err})") from None
    return path


@contextlib.contextmanager
def output_folder(path: Path, option: str = "--out") -> Iterator[Path]:
    """A temporary sibling folder to write into; on success it replaces ``path`` (checked before with
    :func:`check_output`), on failure it is removed and ``path`` is left as it was."""
    path = Path(path)
    _make_parent(path, option)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as err:
        raise ConfigError(f"{option}: cannot write in {path.parent} ({err.strerror or err})") from None
    try:
        yield tmp
        if path.is_dir():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if path.exists():
                path.unlink()
            tmp.rename(path)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConfigError(f"{option}: cannot write {path} ({err.strerror or err})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def ensure_writable_folder(path: Path, option: str) -> Path:
    """Create the folder ``path`` if needed and prove a file can be made in it; one ConfigError line if not."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        raise ConfigError(f"{option}: cannot write in {path} ({err.strerror or err})") from None
    return path


def cut_torn_tail(path: Path) -> int:
    """Make an append-only JSON-lines file end on a whole line again after a crash: a last line without
    its newline was being written when the process died (every writer here writes a line and its newline
    in one call), so it is moved, as it was, to ``<path>.torn`` and cut off. Returns the bytes cut (0 when
    the file is absent, empty or whole). Appending after a torn line would glue two records together."""
    path = Path(path)
    try:
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return 0
            keep = _after_last_newline(handle, size)
            handle.seek(keep)
            tail = handle.read()
            with open(path.with_name(path.name + ".torn"), "ab") as torn:
                torn.write(tail + b"\n")
                torn.flush()
                os.fsync(torn.fileno())
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
    except FileNotFoundError:
        return 0
    except OSError as err:
        raise ConfigError(f"{path}: cannot repair its torn last line ({err.strerror or err})") from None
    return len(tail)


def _after_last_newline(handle: BinaryIO, size: int, block: int = 1 << 16) -> int:
    """Offset just after the last ``\\n`` of an open binary file of ``size`` bytes (0 if none)."""
    end = size
    while end > 0:
        start = max(0, end - block)
        handle.seek(start)
        chunk = handle.read(end - start)
        at = chunk.rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0
