"""Atomic file writes: temp file in the same folder, fsync, os.replace. A reader (or a crash,
or Ctrl-C) never sees half a file: the target holds either its old or its new content.

A temp file's name carries its writer's pid (`.<name>.<pid>.<random>.tmp`), so one left behind by
a writer that was killed (kill -9 gives no chance to clean up) can be told from one still being
written: `remove_stale_temps` deletes those whose writer is gone.

`stage_bytes_atomic` splits the write in two: the new content is written and fsynced beside the
target first, and put in place by `commit()` (one rename) only once something else has succeeded,
e.g. the log append that the new state counts.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from types import TracebackType

from engine.errors import DiskFullError, is_disk_full

log = logging.getLogger(__name__)

_TMP_SUFFIX = ".tmp"


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def _write_temp(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=_TMP_SUFFIX, dir=path.parent)
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


def stage_bytes_atomic(path: Path | str, data: bytes) -> StagedWrite:
    """Write `data` beside `path` (fsynced); nothing changes at `path` until `commit()`."""
    path = Path(path)
    return StagedWrite(path, _write_temp(path, data))


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


def remove_stale_temps(path: Path | str) -> list[Path]:
    """Delete the temp files of `path` left by writers that are no longer running; returns them.

    A temp file whose name carries no pid (written before pids were recorded) is only removed when
    its writer cannot be asked, i.e. never here: it is listed by name in a warning instead.
    """
    path = Path(path)
    prefix = _temp_prefix(path)
    removed: list[Path] = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(_TMP_SUFFIX)):
            continue
        pid_text = name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit():
            log.warning("temporary file %s has no writer pid; delete it by hand if no write is running", name)
            continue
        pid = int(pid_text)
        if pid == os.getpid() or _pid_alive(pid):
            continue
        _unlink(os.path.join(path.parent, name))
        removed.append(path.parent / name)
    if removed:
        log.info("removed %d temporary file(s) of %s left by writers that were killed", len(removed), path.name)
    return removed
