"""Tolerant NDJSON reader: skips and counts lines it cannot parse, resumes from a byte offset.

A final line without its newline is a write in progress or a crash's leftover: it is not
consumed (next_offset stops before it) and is reported as `truncated_tail`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.provenance.sink import not_a_log_file

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
    events were appended last, under the lock that writer held)."""
    event_type, _, message_id = tag.partition("_")
    if not event_type or not message_id:
        return False
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
