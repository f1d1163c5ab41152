"""Cross-process NDJSON appender: each batch goes out in one write() under an exclusive file lock.

The lock lives in a sibling `<log>.lock` file so that it survives rotation; after taking it a
writer checks that its open descriptor still points at the file at `path` and reopens if the
log was rotated, so no event lands in an archive that is being compressed.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.errors import DiskFullError, InputError, is_disk_full
from engine.locking import lock_exclusive, unlock
from engine.logging_setup import mask_secrets
from engine.provenance.events import SCHEMA_VERSION, Event, utc_now_iso


def lock_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def not_a_log_file(path: Path | str) -> InputError:
    """The error for a log path that names a directory (or anything but a regular file)."""
    return InputError(f"{path}: the event log path is a directory, not a file; "
                      "move it aside or set another AIOS_DATA_DIR", code="LOG_PATH_INVALID")


def check_log_path(path: Path | str) -> None:
    """Raise InputError (exit 2) when `path` exists but is not a regular file; a missing log is fine."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except NotADirectoryError:  # a parent is a file: as unusable as a directory here
        raise not_a_log_file(path) from None
    if not stat.S_ISREG(st.st_mode):
        raise not_a_log_file(path)


# One reusable encoder: json.dumps would build a new JSONEncoder per call for non-default options,
# a measurable share of an append (bench/bench_provenance.py).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode_event(event: Event | dict[str, Any]) -> bytes:
    """One event as one NDJSON line (bytes, newline included), with every configured secret and
    `Bearer <token>` masked: the one place all event text passes (an upstream may echo a key)."""
    if isinstance(event, Event):
        return mask_secrets(event.to_json_line()).encode("utf-8")
    data = dict(event)
    data.setdefault("schema_version", SCHEMA_VERSION)
    data.setdefault("ts", utc_now_iso())
    if "event_type" not in data:
        raise ValueError("an event needs an event_type")
    return mask_secrets(_ENCODER.encode(data) + "\n").encode("utf-8")


class LogLock:
    """The exclusive lock shared by writers and rotation (a context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = lock_path_for(Path(path))
        self._fd: int | None = None

    def fileno(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._fd

    def __enter__(self) -> LogLock:
        lock_exclusive(self.fileno())
        return self

    def __exit__(self, *exc: object) -> None:
        unlock(self.fileno())

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class EventSink:
    """Appends events to one NDJSON log; keep one per process and reuse it (it holds two fds)."""

    def __new__(cls, path: Path | str) -> EventSink:
        # Pluggable backend: the settings' own log goes to PostgreSQL when AIOS_STORE_URL is set.
        if cls is EventSink:
            from engine.store.select import log_target

            if log_target(path) is not None:
                from engine.store.postgres import PostgresEventSink

                return super().__new__(PostgresEventSink)
        return super().__new__(cls)

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._where = os.fspath(self.path)  # str once: os.stat on a Path converts on every call
        self._lock = LogLock(self.path)
        self._fd: int | None = None
        self._ident: tuple[int, int] | None = None
        # flock is per open file description, so threads of one process sharing this sink
        # also need an in-process lock.
        self._thread_lock = threading.Lock()

    def _log_fd(self) -> int:
        """The descriptor of the file currently at `path`; call with the lock held."""
        if self._fd is not None:
            try:
                st = os.stat(self._where)
                if (st.st_dev, st.st_ino) == self._ident:
                    return self._fd
            except FileNotFoundError:
                pass
            os.close(self._fd)
            self._fd = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except (IsADirectoryError, NotADirectoryError):
            raise not_a_log_file(self.path) from None
        st = os.fstat(self._fd)
        self._ident = (st.st_dev, st.st_ino)
        return self._fd

    def append(self, events: Event | dict[str, Any] | Iterable[Event | dict[str, Any]]) -> int:
        """Append one event or a batch atomically; returns the number of events written."""
        if isinstance(events, (Event, dict)):
            data, count = encode_event(events), 1
        else:
            lines = [encode_event(e) for e in events]
            data, count = b"".join(lines), len(lines)
        if not count:
            return 0
        with self._thread_lock, self._lock:
            fd = self._log_fd()
            written = 0
            try:
                written = os.write(fd, data)
                if written < len(data):  # rare (signals, huge batches, a disk filling): finish under the lock
                    rest = memoryview(data)[written:]
                    while rest:
                        step = os.write(fd, rest)
                        written += step
                        rest = rest[step:]
            except OSError as exc:
                self._undo_partial(fd, written, exc)
                raise
        return count

    def _undo_partial(self, fd: int, written: int, exc: OSError) -> None:
        """A write failed part-way: cut the log back to its length before the batch (the bytes that
        did land are at its end, the lock kept everyone else out), so no half line is left for the
        next event to be glued onto; a full disk becomes DiskFullError naming the log."""
        if written:
            try:
                os.ftruncate(fd, os.fstat(fd).st_size - written)
            except OSError:
                pass  # the reader skips the half line and counts it
        if is_disk_full(exc):
            raise DiskFullError(self.path) from exc

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._lock.close()

    def __enter__(self) -> EventSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def append_events(path: Path | str, events: Event | dict[str, Any] | Iterable[Event | dict[str, Any]]) -> int:
    """One-shot append (opens and closes the log); prefer an EventSink in loops."""
    with EventSink(path) as sink:
        return sink.append(events)
