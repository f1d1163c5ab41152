"""Tolerant NDJSON reader: skips and counts lines it cannot parse, resumes from a byte offset.

A final line without its newline is a write in progress or a crash's leftover: it is not
consumed (next_offset stops before it) and is reported as `truncated_tail`.

`read_log`, `tail_log`, `log_scan_file` and `event_logged` read the events of the log in use: the
file, or the PostgreSQL store when AIOS_STORE_URL is set and the path is the settings' log
(`log_store` is the one place that chooses).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.provenance.sink import not_a_log_file

if TYPE_CHECKING:
    from engine.store.select import StoreTarget

MAX_REPORTED_LINES = 100


@dataclass
class ReadResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    next_offset: int = 0
    skipped: int = 0
    skipped_lines: list[int] = field(default_factory=list)  # 1-based, relative to the start offset
    truncated_tail: bool = False
    file_id: tuple[int, int] | None = None
    restarted: bool = False  # the file was rotated or truncated since the given offset
    bytes_read: int = 0

    @property
    def unreadable(self) -> int:
        """Lines that could not be read, a truncated tail included."""
        return self.skipped + (1 if self.truncated_tail else 0)


def parse_lines(data: bytes, result: ReadResult, event_types: set[str] | None = None,
                max_line_bytes: int | None = None) -> int:
    """Parse complete lines of `data` into `result`; returns the bytes consumed. A line longer than
    `max_line_bytes` is skipped and counted like one that does not parse."""
    end = data.rfind(b"\n") + 1
    complete = data[:end]
    if end < len(data) and data[end:].strip():
        result.truncated_tail = True
    for number, raw in enumerate(complete.split(b"\n")[:-1], start=1):
        if not raw.strip():
            continue
        if max_line_bytes is not None and len(raw) > max_line_bytes:
            item = None
        else:
            try:
                item = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                item = None
        if not isinstance(item, dict):
            result.skipped += 1
            if len(result.skipped_lines) < MAX_REPORTED_LINES:
                result.skipped_lines.append(number)
            continue
        # Events written before event_type existed were responses (runbook 004's default).
        item.setdefault("event_type", "response")
        if event_types is None or item["event_type"] in event_types:
            result.events.append(item)
    return end


def read_events(
    path: Path | str,
    offset: int = 0,
    *,
    file_id: tuple[int, int] | None = None,
    event_types: set[str] | None = None,
) -> ReadResult:
    """Read the events after `offset`; pass back `next_offset` and `file_id` to read only new ones.

    A missing file reads as empty. If the file was rotated (other file_id) or truncated (offset
    past its end), reading restarts at 0 and `restarted` is set.
    """
    path = Path(path)
    result = ReadResult(next_offset=offset)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        result.restarted = offset > 0
        result.next_offset = 0
        return result
    except (IsADirectoryError, NotADirectoryError):
        raise not_a_log_file(path) from None
    with handle:
        st = os.fstat(handle.fileno())
        result.file_id = (st.st_dev, st.st_ino)
        if (file_id is not None and tuple(file_id) != result.file_id) or offset > st.st_size:
            offset, result.restarted = 0, True
        handle.seek(offset)
        data = handle.read()
    result.bytes_read = len(data)
    result.next_offset = offset + parse_lines(data, result, event_types)
    return result


def tail_events(path: Path | str, n: int, *, chunk: int = 1 << 20) -> ReadResult:
    """The last `n` complete events, read by seeking back from the end of the file."""
    path = Path(path)
    result = ReadResult()
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return result
    except (IsADirectoryError, NotADirectoryError):
        raise not_a_log_file(path) from None
    with handle:
        st = os.fstat(handle.fileno())
        size = st.st_size
        result.file_id = (st.st_dev, st.st_ino)
        # Step back one chunk at a time and read each byte once (re-reading the growing tail on
        # every step made a 10,000-event tail cost more than reading from an offset).
        start, pieces, newlines = size, [], 0
        while start > 0 and newlines <= n:
            step = min(chunk, start)
            start -= step
            handle.seek(start)
            piece = handle.read(step)
            pieces.append(piece)
            newlines += piece.count(b"\n")
        data = b"".join(reversed(pieces))
    if start > 0:
        data = data[data.find(b"\n") + 1:]
    result.bytes_read = len(data)
    result.next_offset = size - len(data) + parse_lines(data, result)
    result.events = result.events[-n:] if n else []
    return result


def event_logged(path: Path | str, tag: str, *, window: int = 1 << 20) -> bool:
    """Whether the event named by `tag` ("<event_type>_<message_id>", e.g. "response_3f2a...") is
    among the log's last `window` bytes: how a state update left by a killed writer is judged (its
    events were appended last, under the lock that writer held). On the store (see `log_store`), whether
    the store holds it at all. Raises StateError when the store cannot be read."""
    event_type, _, message_id = tag.partition("_")
    if not event_type or not message_id:
        return False
    if (target := log_store(path)) is not None:
        from engine.store.postgres import event_stored

        return event_stored(target, event_type, message_id)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - window))
            data = handle.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return False
    needle = message_id.encode("utf-8")
    at = data.find(needle)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        if end >= 0:  # a complete line only
            try:
                item = json.loads(data[start:end])
            except (ValueError, RecursionError):
                item = None
            if isinstance(item, dict) and item.get("message_id") == message_id and \
                    item.get("event_type", "response") == event_type:
                return True
        at = data.find(needle, at + len(needle))
    return False


# ---- the log in use: the file, or the PostgreSQL store ---------------------------------------------

def log_store(path: Path | str) -> StoreTarget | None:
    """The PostgreSQL store holding the log at `path` (AIOS_STORE_URL set and `path` the settings' own
    log), or None when the log is the file: the one place a reader of the log chooses."""
    from engine.store.select import log_target

    return log_target(path)


def _archives(path: Path) -> list[Path]:
    """The rotated gzip archives beside a log, oldest first (their names carry the UTC time)."""
    return sorted(path.parent.glob(f"{path.stem}_*.ndjson.gz"))


def read_log(path: Path | str, *, event_types: set[str] | None = None,
             include_archives: bool = False) -> ReadResult:
    """Every event of the log in use (filtered by `event_types`), whole: the file as `read_events`
    reads it, or the store's events in commit order. With `include_archives`, the rotated gzip archives
    beside the log come first, oldest first; on the store, an archive line already imported into it
    (the same bytes) is read once. Raises StateError when the store cannot be read."""
    path = Path(path)
    result = ReadResult()
    target = log_store(path)
    stored_keys: set[str] = set()
    archives = _archives(path) if include_archives else []
    if target is not None:
        from engine.store.postgres import iter_event_lines

        events: list[dict[str, Any]] = []
        for key, body in iter_event_lines(target, event_types=event_types):
            events.append(json.loads(body))
            result.bytes_read += len(body) + 1
            if archives:
                stored_keys.add(key)
    for archive in archives:
        with gzip.open(archive, "rb") as handle:
            data = handle.read()
        if stored_keys:
            data = b"".join(line + b"\n" for line in data.split(b"\n")[:-1]
                            if hashlib.sha256(line).hexdigest() not in stored_keys) + data[data.rfind(b"\n") + 1:]
        result.bytes_read += len(data)
        parse_lines(data, result, event_types)
    if target is not None:
        result.events.extend(events)
        return result
    live = read_events(path, event_types=event_types)
    result.events.extend(live.events)
    result.skipped += live.skipped
    result.skipped_lines.extend(live.skipped_lines)
    result.truncated_tail = live.truncated_tail
    result.file_id, result.next_offset = live.file_id, live.next_offset
    result.bytes_read += live.bytes_read
    return result


def tail_log(path: Path | str, n: int) -> ReadResult:
    """The last `n` events of the log in use (the file's `tail_events`, or the store's latest commits).
    Raises StateError when the store cannot be read."""
    target = log_store(path)
    if target is None:
        return tail_events(path, n)
    from engine.store.postgres import read_event_tail

    return ReadResult(events=read_event_tail(target, n))


@contextmanager
def log_scan_file(path: Path | str, *, event_types: Iterable[str] | None = None,
                  equal: Mapping[str, str] | None = None, since: datetime | None = None,
                  until: datetime | None = None) -> Iterator[Path]:
    """A file holding the log in use, for a scan (DuckDB's NDJSON reader) that applies its own exact
    filters: the log file itself, or a temporary NDJSON file of the store's events, deleted on exit.
    The store's events are narrowed first by `event_types`, the typed columns in `equal` and a time
    window widened by a margin, so the file holds every event the scan could keep, in commit order.
    Raises StateError when the store cannot be read."""
    target = log_store(path)
    if target is None:
        yield Path(path)
        return
    from engine.store.postgres import iter_event_lines

    handle, name = tempfile.mkstemp(prefix="aios-store-", suffix=".ndjson")
    try:
        with os.fdopen(handle, "wb") as out:
            for _, body in iter_event_lines(target, event_types=event_types, equal=equal, since=since,
                                            until=until):
                out.write(body.encode("utf-8") + b"\n")
        yield Path(name)
    finally:
        os.unlink(name)
