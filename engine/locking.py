"""Exclusive whole-file locks shared by processes: flock on Linux and macOS, msvcrt on Windows.

Callers lock a dedicated `.lock` file (never the data file itself), so the lock survives the data
file being replaced or rotated. The Windows branch keeps the engine importable there; this
project's tests run on Linux only.
"""

from __future__ import annotations

import os

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt
    import time

    def lock_exclusive(fd: int) -> None:
        """Block until this process holds the lock on `fd`'s file."""
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                # LK_LOCK itself retries for about 10 s, then raises: keep waiting, like flock.
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]  # Windows only
                return
            except OSError:
                time.sleep(0.05)

    def unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]  # Windows only

else:
    import fcntl

    def lock_exclusive(fd: int) -> None:
        """Block until this process holds the lock on `fd`'s file."""
        fcntl.flock(fd, fcntl.LOCK_EX)

    def unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
