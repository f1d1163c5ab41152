"""Atomic file writes: temp file in the same folder, fsync, os.replace. A reader (or a crash,
or Ctrl-C) never sees half a file: the target holds either its old or its new content.

A temp file's name carries its writer's pid (`.<name>.<pid>[.<tag>].<random>.tmp`), so one left
behind by a writer that was killed (kill -9 gives no chance to clean up) can be told from one still
being written: `dead_writer_temps` lists those whose writer is gone, with the tag their writer gave
them, and `remove_stale_temps` deletes them.

`stage_bytes_atomic` splits the write in two: the new content is written and fsynced beside the
target first, and put in place by `commit()` (one rename) only once something else has succeeded,
e.g. the log append that the new state counts.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from types import TracebackType

from engine.errors import DiskFullError, is_disk_full

log = logging.getLogger(__name__)

_TMP_SUFFIX = ".tmp"
_TAG = re.compile(r"[A-Za-z0-9_-]{1,120}")


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def _write_temp(path: Path, data: bytes, tag: str | None = None) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if tag is not None and not _TAG.fullmatch(tag):
        raise ValueError(f"a temp file tag is letters, digits, '_' and '-' only: {tag!r}")
    middle = f"{os.getpid()}.{tag}." if tag else f"{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(path)}{middle}", suffix=_TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        # Includes KeyboardInterrupt: the target keeps its previous content.
        _unlink(tmp)
        if is_disk_full(exc):
            raise DiskFullError(path) from exc
        raise
    return tmp


def _unlink(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


class StagedWrite:
    """New content written beside `path`, not yet in place: `commit()` renames it over the target,
    `discard()` (or leaving the `with` block without a commit) deletes it."""

    def __init__(self, path: Path, tmp: str) -> None:
        self.path = path
        self._tmp: str | None = tmp

    def commit(self) -> Path:
        if self._tmp is None:
            raise RuntimeError(f"staged write of {self.path} already committed or discarded")
        tmp, self._tmp = self._tmp, None
        try:
            os.replace(tmp, self.path)
        except BaseException:
            _unlink(tmp)
            raise
        return self.path

    def discard(self) -> None:
        if self._tmp is not None:
            tmp, self._tmp = self._tmp, None
            _unlink(tmp)

    def __enter__(self) -> StagedWrite:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.discard()


def stage_bytes_atomic(path: Path | str, data: bytes, tag: str | None = None) -> StagedWrite:
    """Write `data` beside `path` (fsynced); nothing changes at `path` until `commit()`. `tag`
    goes into the temp file's name, for whoever finds it left by a killed writer (`dead_writer_temps`)."""
    path = Path(path)
    return StagedWrite(path, _write_temp(path, data, tag))


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    path = Path(path)
    return stage_bytes_atomic(path, data).commit()


def write_text_atomic(path: Path | str, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return True  # cannot tell (e.g. Windows semantics): keep the file
    return True


def dead_writer_temps(path: Path | str) -> list[tuple[Path, str | None]]:
    """(temp file, its tag or None) of every temp file of `path` whose writer is no longer running.

    A temp file whose name carries no pid (written before pids were recorded) cannot be judged: it
    is named in a warning and left alone.
    """
    path = Path(path)
    prefix = _temp_prefix(path)
    found: list[tuple[Path, str | None]] = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return found
    for name in names:
        if not (name.startswith(prefix) and name.endswith(_TMP_SUFFIX)):
            continue
        parts = name[len(prefix):-len(_TMP_SUFFIX)].split(".")
        if not parts[0].isdigit():
            log.warning("temporary file %s has no writer pid; delete it by hand if no write is running", name)
            continue
        pid = int(parts[0])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        found.append((path.parent / name, parts[1] if len(parts) >= 3 else None))
    return found


def remove_stale_temps(path: Path | str) -> list[Path]:
    """Delete the temp files of `path` left by writers that are no longer running; returns them."""
    removed = []
    for tmp, _tag in dead_writer_temps(path):
        _unlink(os.fspath(tmp))
        removed.append(tmp)
    if removed:
        log.info("removed %d temporary file(s) of %s left by writers that were killed", len(removed), Path(path).name)
    return removed
