"""Log rotation: move the log aside under the writers' lock, then gzip it to a dated archive.

Writers hold the same lock and reopen the log when its inode changes, so an event appended
during rotation lands either in the archive (before the rename) or in the new log (after).
A crash mid-compression leaves a `.rotating` file that the next rotation finishes first;
concurrent rotations are serialised on a lock of their own.
"""

from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from engine.provenance.sink import LogLock, check_log_path


@dataclass
class RotationResult:
    archive: Path | None
    lines: int
    bytes: int
    message: str


def _compress(pending: Path) -> Path:
    archive = pending.with_name(pending.name.removesuffix(".rotating") + ".gz")
    tmp = archive.with_name(archive.name + ".tmp")
    with open(pending, "rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, archive)
    pending.unlink()
    return archive


def rotate_log(path: Path | str, now: datetime | None = None) -> RotationResult:
    """Rotate `path` to `<stem>_<UTC timestamp>.ndjson.gz` beside it; a no-op on an empty log."""
    path = Path(path)
    check_log_path(path)  # a directory there: InputError, nothing renamed
    # Rotations (CLI, dashboard button, two at once) exclude each other on their own lock
    # (`<log>.rotate.lock`), so two never compress the same leftover into one .tmp; writers
    # wait only for the short rename under the writers' lock.
    serial = LogLock(path.with_name(path.name + ".rotate"))
    try:
        with serial:
            return _rotate(path, now)
    finally:
        serial.close()


def _rotate(path: Path, now: datetime | None) -> RotationResult:
    for leftover in sorted(path.parent.glob(f"{path.stem}_*.ndjson.rotating")):
        _compress(leftover)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    pending = path.with_name(f"{path.stem}_{stamp}.ndjson.rotating")
    suffix = 1
    while pending.exists() or pending.with_name(pending.name.removesuffix(".rotating") + ".gz").exists():
        pending = path.with_name(f"{path.stem}_{stamp}-{suffix}.ndjson.rotating")
        suffix += 1
    lock = LogLock(path)
    try:
        with lock:
            check_log_path(path)
            if not path.exists() or path.stat().st_size == 0:
                return RotationResult(None, 0, 0, f"nothing to rotate: {path} is missing or empty")
            os.rename(path, pending)
            path.touch()
    finally:
        lock.close()
    size = pending.stat().st_size
    with open(pending, "rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    archive = _compress(pending)
    return RotationResult(archive, lines, size, f"rotated {lines} events ({size} bytes) to {archive}")
