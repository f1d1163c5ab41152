"""The event store: a compact, typed copy of the provenance log in an in-memory DuckDB table, ingesting
only the bytes appended since its last refresh, and `scan_log`, the one DuckDB scan of the NDJSON file
(typed by engine.provenance.schema). Every figure, the A/B report and the drill-down read through here.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from engine.errors import InputError
from engine.provenance.reader import ReadResult, parse_lines
from engine.provenance.schema import LOG_COLUMNS
from engine.provenance.sink import LogLock
from engine.runbook import EMBEDDER, MAIN, UNKNOWN_SOURCE

# Time windows offered by the dashboard, in seconds (None = the whole log).
WINDOWS: dict[str, int | None] = {
    "All time": None,
    "Last 15 minutes": 15 * 60,
    "Last hour": 3600,
    "Last 24 hours": 24 * 3600,
    "Last 7 days": 7 * 24 * 3600,
}

# A single event line larger than this is unreadable (DuckDB's reader needs a bound).
MAX_OBJECT_BYTES = 16 << 20

# The log fields the store keeps (their types come from the schema): what the figures, the A/B
# report (sessions, golden origin) and the hypothesis summary (last error) need. Question and
# answer text stay in the file; the drill-down scans it for them.
RAW_FIELDS: tuple[str, ...] = (
    "ts", "event_type", "message_id", "session_id", "trait", "bucket", "complexity", "boundary", "route",
    "source", "simulated", "latency_ms", "quality", "error_code", "origin", "old_boundary", "new_boundary",
    "quality_delta", "latency_delta_ms", "reason", "samples", "hypothesis_id", "passed", "value",
    "threshold", "error",
    # Correctness where it is known: the quality method, the simulator's truth, shadow comparisons.
    "quality_method", "sim_correct", "served_route", "agreement", "evidence",
)
FIELD_TYPES: dict[str, str] = {name: LOG_COLUMNS[name] for name in RAW_FIELDS}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# DuckDB's reader converts the fields in place (an odd value becomes NULL, ignore_errors); the
# incremental path gets the same result by casting the engine reader's text with TRY_CAST.
CAST_SELECT = ", ".join(f"TRY_CAST({_quoted(name)} AS {kind}) AS {_quoted(name)}"
                        for name, kind in FIELD_TYPES.items())
# A row with no field but (perhaps) event_type came from a line that is no JSON object (DuckDB
# yields an all-NULL row under ignore_errors) or from an empty object, which the engine's reader
# turns into {"event_type": "response"}: stored with event_type NULL, counted unreadable, deleted.
ALL_NULL = " AND ".join(f"{_quoted(name)} IS NULL" for name in RAW_FIELDS if name != "event_type")
# Who answered: the route's model, or "unknown" when no model did (runbook 004's source "unknown").
SOURCE_KIND_SQL = (f"CASE WHEN source IS NULL OR source = '{UNKNOWN_SOURCE}' OR error_code IS NOT NULL "
                   f"THEN '{UNKNOWN_SOURCE}' WHEN route IN ('{MAIN}', '{EMBEDDER}') THEN route "
                   f"ELSE '{UNKNOWN_SOURCE}' END")
# The stored table: every raw field but `source`, which is kept as source_kind.
STORED_COLUMNS: dict[str, str] = {
    **{name: kind for name, kind in FIELD_TYPES.items() if name != "source"}, "source_kind": "VARCHAR"}
_STORED_EXPRESSIONS = {
    "event_type": f"CASE WHEN {ALL_NULL} THEN NULL ELSE COALESCE(event_type, 'response') END",
    "source_kind": SOURCE_KIND_SQL,
}
STORED_SELECT = ", ".join(f"{_STORED_EXPRESSIONS.get(name, _quoted(name))} AS {_quoted(name)}"
                          for name in STORED_COLUMNS)
TABLE_DDL = ("CREATE TABLE IF NOT EXISTS events ("
             + ", ".join(f"{_quoted(name)} {kind}" for name, kind in STORED_COLUMNS.items()) + ")")


def scan_log(path: Path | str, columns: Iterable[str] | None = None) -> str:
    """SQL for the one DuckDB scan of an NDJSON log (or of a rotated gzip archive of one).

    With `columns`, each is typed as the log schema says (a value of another type reads as NULL, a
    line that is no JSON object as an all-NULL row). With None, one column `json` holds each line's
    whole object (NULL for a line that is no JSON). Raises KeyError for a column not in the schema.
    """
    if columns is None:
        shape = "records = false, columns = {'json': 'JSON'}"
    else:
        shape = "columns = {" + ", ".join(f"'{name}': '{LOG_COLUMNS[name]}'" for name in columns) + "}"
    literal = str(path).replace("'", "''")
    return (f"read_json('{literal}', format = 'newline_delimited', {shape}, ignore_errors = true, "
            f"maximum_object_size = {MAX_OBJECT_BYTES})")


def connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB connection: UTC times, no progress bar on the console."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'").fetchall()
    con.execute("SET enable_progress_bar = false").fetchall()
    return con


@dataclass(frozen=True)
class Filters:
    """What the dashboard's sidebar selects; None means "any". Times are UTC."""

    since: datetime | None = None
    until: datetime | None = None
    trait: str | None = None
    bucket: str | None = None
    route: str | None = None

    def clauses(self, *, trait: bool = True, route: bool = True) -> tuple[list[str], list[Any]]:
        """SQL conditions and their parameters; `trait`/`route` off for events that lack them."""
        sql: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            sql.append("ts >= ?")
            params.append(self.since)
        if self.until is not None:
            sql.append("ts < ?")
            params.append(self.until)
        if trait and self.trait:
            sql.append("trait = ?")
            params.append(self.trait)
        if self.bucket:
            sql.append("bucket = ?")
            params.append(self.bucket)
        if route and self.route:
            sql.append("route = ?")
            params.append(self.route)
        return sql, params


def compute_filters(window: str = "All time", trait: str | None = None, bucket: str | None = None,
                    route: str | None = None, now: datetime | None = None) -> Filters:
    """Filters for a named window of WINDOWS ending at `now`; raises InputError on an unknown window."""
    if window not in WINDOWS:
        raise InputError(f"time window {window!r} is not one of {list(WINDOWS)}")
    seconds = WINDOWS[window]
    since = None
    if seconds is not None:
        since = (now or datetime.now(timezone.utc)) - timedelta(seconds=seconds)
    return Filters(since=since, trait=trait or None, bucket=bucket or None, route=route or None)


@dataclass
class RefreshStats:
    """What one `EventStore.refresh()` did."""

    bytes_read: int = 0
    events_added: int = 0
    skipped: int = 0
    restarted: bool = False
    method: str = "none"  # "none" | "python" | "duckdb"


@dataclass
class StoreCounters:
    """Running totals, so tests and the Settings page can see that a refresh read only new bytes."""

    refreshes: int = 0
    restarts: int = 0
    bytes_read_total: int = 0
    last_bytes_read: int = 0
    events: int = 0
    skipped_lines: int = 0
    truncated_tail: bool = False
    last_method: str = "none"

    @property
    def unreadable(self) -> int:
        """Lines the store could not read, a torn last line included."""
        return self.skipped_lines + (1 if self.truncated_tail else 0)


class EventStore:
    """An incremental, typed copy of one provenance log in an in-memory DuckDB database.

    `refresh()` ingests only the bytes appended since the last call: it remembers the log's
    file id (device, inode) and the byte offset after the last complete line. A rotated or
    truncated log (other file id, or shorter than the offset) is read again from the start.
    A first read of a large log goes to DuckDB's NDJSON reader under the writers' lock (so
    the file cannot grow mid-read); small increments are parsed by the engine's own reader.
    A gzip archive (`*.gz`, never appended to) is read whole by DuckDB, again only if replaced.
    Thread-safe: Streamlit sessions share one store.
    """

    def __new__(cls, path: Path | str, **options: Any) -> EventStore:
        # Pluggable backend: the settings' own log is read from PostgreSQL when AIOS_STORE_URL is set.
        if cls is EventStore:
            from engine.store.select import log_target

            if log_target(path) is not None:
                from engine.store.postgres import PostgresEventStore

                return super().__new__(PostgresEventStore)
        return super().__new__(cls)

    def __init__(self, path: Path | str, *, bulk_threshold: int = 8 << 20, chunk_bytes: int = 16 << 20) -> None:
        self.path = Path(path)
        self.bulk_threshold = bulk_threshold
        self.chunk_bytes = chunk_bytes
        self.archive = self.path.name.endswith(".gz")
        self.offset = 0
        self.file_id: tuple[int, int] | None = None
        self._passing_over = False  # inside a line over MAX_OBJECT_BYTES, already counted: skip to its newline
        self.counters = StoreCounters()
        self._lock = threading.RLock()
        self._con = connect()
        self._run(TABLE_DDL)

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # ---- ingestion -------------------------------------------------------------------------

    def refresh(self) -> RefreshStats:
        """Ingest what was appended since the last refresh; returns what this call read.

        Raises InputError only for a gzip archive DuckDB cannot read (a live log never raises:
        what cannot be parsed is skipped and counted).
        """
        with self._lock:
            stats = RefreshStats()
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                if self.offset or self.file_id is not None:
                    self._reset()
                    stats.restarted = True
                self._count(stats)
                return stats
            ident = (st.st_dev, st.st_ino)
            changed = st.st_size != self.offset if self.archive else st.st_size < self.offset
            if self.file_id is not None and (ident != self.file_id or changed):
                self._reset()
                stats.restarted = True
            self.file_id = ident
            pending = st.st_size - self.offset
            if self.archive:
                if self.offset == 0 and st.st_size > 0:
                    self._ingest_archive(stats, st.st_size)
            elif pending > 0:
                if not (self.offset == 0 and pending >= self.bulk_threshold and self._ingest_duckdb(stats)):
                    self._ingest_python(stats)
            self._count(stats)
            return stats

    def _reset(self) -> None:
        self._run("DELETE FROM events")
        self.offset = 0
        self._passing_over = False
        self.file_id = None
        self.counters.events = 0
        self.counters.skipped_lines = 0
        self.counters.truncated_tail = False
        self.counters.restarts += 1

    def _count(self, stats: RefreshStats) -> None:
        c = self.counters
        c.refreshes += 1
        c.last_bytes_read = stats.bytes_read
        c.bytes_read_total += stats.bytes_read
        c.events += stats.events_added
        c.skipped_lines += stats.skipped
        c.last_method = stats.method

    def _ingest_python(self, stats: RefreshStats) -> None:
        """Parse the new complete lines with the engine's reader, a bounded chunk at a time.

        A line over MAX_OBJECT_BYTES (what DuckDB's scan can read) is skipped and counted like a line
        that does not parse, without ever being held whole: once the unfinished line outgrows the
        bound, its bytes are passed over up to its newline (in this or a later refresh)."""
        stats.method = "python"
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            carry = b""
            while True:
                block = handle.read(self.chunk_bytes)
                if not block:
                    break
                stats.bytes_read += len(block)
                if self._passing_over:
                    newline = block.find(b"\n")
                    if newline < 0:
                        self.offset += len(block)
                        continue
                    self.offset += newline + 1
                    block = block[newline + 1:]
                    self._passing_over = False
                data = carry + block
                result = ReadResult()
                consumed = parse_lines(data, result, max_line_bytes=MAX_OBJECT_BYTES)
                unreadable = self._insert_dicts(result.events)
                stats.skipped += result.skipped + unreadable
                stats.events_added += len(result.events) - unreadable
                self.offset += consumed
                carry = data[consumed:]
                if len(carry) > MAX_OBJECT_BYTES:  # already too long to be read: count it, pass it over
                    stats.skipped += 1
                    self.offset += len(carry)
                    carry = b""
                    self._passing_over = True
            # An unterminated last line is a write in progress: it is read again next time.
            self.counters.truncated_tail = bool(carry.strip())

    def _insert_dicts(self, events: list[dict[str, Any]]) -> int:
        """Insert decoded events; returns how many were unreadable (no field the store knows)."""
        if not events:
            return 0
        rows = [[_as_text(event.get(name)) for name in RAW_FIELDS] for event in events]
        frame = pd.DataFrame(rows, columns=list(RAW_FIELDS), dtype=object)
        self._con.register("incoming", frame)
        try:
            self._run(f"INSERT INTO events SELECT {STORED_SELECT} FROM (SELECT {CAST_SELECT} FROM incoming)")
        finally:
            self._con.unregister("incoming")
        return self._drop_unreadable()

    def _drop_unreadable(self) -> int:
        return int(self._run("DELETE FROM events WHERE event_type IS NULL")[0][0])

    def _insert_scan(self) -> int:
        return int(self._run(f"INSERT INTO events SELECT {STORED_SELECT} FROM {scan_log(self.path, RAW_FIELDS)}")[0][0])

    def _ingest_duckdb(self, stats: RefreshStats) -> bool:
        """First read of a large log: DuckDB parses the file in place, writers held off meanwhile.

        Returns False, having read nothing, when the writers' lock cannot be taken (a read-only
        log folder) or DuckDB fails on the file: the caller then parses it with the engine's reader.
        """
        lock = LogLock(self.path)
        try:
            lock.fileno()
        except OSError:
            return False
        try:
            with lock:
                size = os.stat(self.path).st_size
                end = _last_newline_end(self.path, size)
                if _has_line_over(self.path, end, MAX_OBJECT_BYTES):
                    return False  # the engine's reader skips and counts it; DuckDB would fail or keep it
                added = self._insert_scan()
        except duckdb.Error:
            self._run("DELETE FROM events")
            return False
        finally:
            lock.close()
        stats.method = "duckdb"
        bad = self._drop_unreadable()
        tail = end < size
        self.counters.truncated_tail = tail
        stats.bytes_read = size
        stats.events_added = added - bad
        # A torn last line is reported as truncated_tail, not as a skipped line.
        stats.skipped = max(bad - (1 if tail else 0), 0)
        self.offset = end
        return True

    def _ingest_archive(self, stats: RefreshStats, size: int) -> None:
        """A rotated gzip archive: read whole by DuckDB (it decompresses); no writer appends to it."""
        stats.method = "duckdb"
        try:
            added = self._insert_scan()
        except duckdb.Error as exc:
            raise InputError(f"{self.path}: cannot be read as an NDJSON log ({exc})") from None
        bad = self._drop_unreadable()
        stats.bytes_read = size
        stats.events_added = added - bad
        stats.skipped = bad
        self.offset = size

    # ---- queries ---------------------------------------------------------------------------

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read-only query against the `events` table and return a DataFrame."""
        with self._lock:
            return self._con.execute(sql, params or []).df()

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Run a read-only query against the `events` table and return its rows as tuples."""
        return self._run(sql, params)

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self._run(sql, params)
        return rows[0][0] if rows else None

    def _run(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        # DuckDB 2 refuses new work on a connection while a result is unconsumed: always drain.
        with self._lock:
            return self._con.execute(sql, params or []).fetchall()

    @property
    def version(self) -> tuple[Any, ...]:
        """Changes whenever the store's content may have changed (a cache key for results)."""
        return (str(self.path), self.file_id, self.offset, self.counters.restarts)

    def close(self) -> None:
        with self._lock:
            self._con.close()


def load_event_store(path: Path | str) -> EventStore:
    """A store over the log or archive at `path`, read up to now (the caller closes it)."""
    store = EventStore(path)
    try:
        store.refresh()
    except BaseException:
        store.close()
        raise
    return store


def _as_text(value: Any) -> str | None:
    """A decoded JSON value as the text DuckDB's reader would give for a VARCHAR column."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _has_line_over(path: Path, end: int, limit: int) -> bool:
    """Whether a line in the first `end` bytes is longer than `limit`. Read in blocks of `limit`
    bytes, a line within one block is shorter than that: only the run of bytes between newlines
    across block edges needs counting (a memchr per block, not a Python step per line)."""
    run = 0
    with open(path, "rb") as handle:
        left = end
        while left > 0:
            block = handle.read(min(limit, left))
            if not block:
                break
            left -= len(block)
            first = block.find(b"\n")
            if first < 0:
                run += len(block)
                if run > limit:
                    return True
                continue
            if run + first > limit:
                return True
            run = len(block) - block.rfind(b"\n") - 1
    return run > limit


def _last_newline_end(path: Path, size: int) -> int:
    """The byte offset just after the last newline of the first `size` bytes."""
    with open(path, "rb") as handle:
        pos = size
        while pos > 0:
            start = max(0, pos - 65536)
            handle.seek(start)
            block = handle.read(pos - start)
            index = block.rfind(b"\n")
            if index >= 0:
                return start + index + 1
            pos = start
    return 0
