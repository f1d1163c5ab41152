"""Every figure the dashboard shows, computed from the provenance log with DuckDB.

`EventStore` keeps a compact, typed copy of the log in an in-memory DuckDB table and ingests
only the bytes appended since its last refresh; the `compute_*` functions query it under `Filters`.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from engine.errors import InputError
from engine.provenance.reader import ReadResult, parse_lines
from engine.provenance.sink import LogLock
from engine.runbook import CONTROL_BOUNDARY, MAX_BOUNDARY_DRIFT, PASS_QUALITY, RED_FLAG_DRIFT

# Runbook 004: boundary drift SLO (one definition, the SLO check's) and the "runaway
# adaptation" red flag.
DRIFT_SLO = MAX_BOUNDARY_DRIFT
DRIFT_RED_FLAG = RED_FLAG_DRIFT

# Time windows offered by the dashboard, in seconds (None = the whole log).
WINDOWS: dict[str, int | None] = {
    "All time": None,
    "Last 15 minutes": 15 * 60,
    "Last hour": 3600,
    "Last 24 hours": 24 * 3600,
    "Last 7 days": 7 * 24 * 3600,
}
# Trend bin widths in seconds; the smallest that gives at most MAX_BINS bins is used.
BIN_CHOICES = (1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)
MAX_BINS = 60

# The log fields the store keeps, with their types. DuckDB's reader converts them in place (an
# odd value becomes NULL, ignore_errors); the incremental path gets the same result with TRY_CAST.
FIELD_TYPES: dict[str, str] = {
    "ts": "TIMESTAMPTZ", "event_type": "VARCHAR", "trait": "VARCHAR", "bucket": "VARCHAR",
    "complexity": "DOUBLE", "boundary": "DOUBLE", "route": "VARCHAR", "source": "VARCHAR",
    "simulated": "BOOLEAN", "latency_ms": "DOUBLE", "quality": "DOUBLE", "error_code": "VARCHAR",
    "origin": "VARCHAR", "old_boundary": "DOUBLE", "new_boundary": "DOUBLE",
    "quality_delta": "DOUBLE", "latency_delta_ms": "DOUBLE", "reason": "VARCHAR", "samples": "VARCHAR",
    "hypothesis_id": "VARCHAR", "passed": "BOOLEAN", "value": "DOUBLE", "threshold": "DOUBLE",
}
RAW_FIELDS = tuple(FIELD_TYPES)
CAST_SELECT = ", ".join(f"TRY_CAST({name} AS {kind}) AS {name}" for name, kind in FIELD_TYPES.items())
# A row with no field but (perhaps) event_type came from a line that is no JSON object (DuckDB
# yields an all-NULL row under ignore_errors) or from an empty object, which the engine's reader
# turns into {"event_type": "response"}: stored with event_type NULL, counted unreadable, deleted.
ALL_NULL = " AND ".join(f"{name} IS NULL" for name in RAW_FIELDS if name != "event_type")
STORED_SELECT = f"""
    ts,
    CASE WHEN {ALL_NULL} THEN NULL ELSE COALESCE(event_type, 'response') END AS event_type,
    trait, bucket, complexity, boundary, route,
    CASE WHEN source IS NULL OR source = 'unknown' OR error_code IS NOT NULL THEN 'unknown'
         WHEN route IN ('main', 'embedder') THEN route ELSE 'unknown' END AS source_kind,
    simulated, latency_ms, quality, error_code, origin, old_boundary, new_boundary, quality_delta,
    latency_delta_ms, reason, samples, hypothesis_id, passed, value, threshold
"""
TABLE_DDL = """
CREATE TABLE IF NOT EXISTS events (
    ts TIMESTAMPTZ, event_type VARCHAR, trait VARCHAR, bucket VARCHAR, complexity DOUBLE,
    boundary DOUBLE, route VARCHAR, source_kind VARCHAR, simulated BOOLEAN, latency_ms DOUBLE,
    quality DOUBLE, error_code VARCHAR, origin VARCHAR, old_boundary DOUBLE, new_boundary DOUBLE,
    quality_delta DOUBLE, latency_delta_ms DOUBLE, reason VARCHAR, samples VARCHAR,
    hypothesis_id VARCHAR, passed BOOLEAN, value DOUBLE, threshold DOUBLE)
"""
# The Drill-down reads these straight from the log (text fields are not kept in the store).
DRILLDOWN_COLUMNS: dict[str, str] = {
    "ts": "TIMESTAMPTZ", "event_type": "VARCHAR", "message_id": "VARCHAR", "trait": "VARCHAR",
    "bucket": "VARCHAR", "route": "VARCHAR", "source": "VARCHAR", "complexity": "DOUBLE",
    "boundary": "DOUBLE", "quality": "DOUBLE", "latency_ms": "DOUBLE", "error_code": "VARCHAR",
    "question": "VARCHAR", "answer": "VARCHAR",
}
SORTABLE = ("ts", "quality", "latency_ms", "complexity", "boundary", "bucket", "route", "trait")


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


class EventStore:
    """An incremental, typed copy of one provenance log in an in-memory DuckDB database.

    `refresh()` ingests only the bytes appended since the last call: it remembers the log's
    file id (device, inode) and the byte offset after the last complete line. A rotated or
    truncated log (other file id, or shorter than the offset) is read again from the start.
    A first read of a large log goes to DuckDB's NDJSON reader under the writers' lock (so
    the file cannot grow mid-read); small increments are parsed by the engine's own reader.
    Thread-safe: Streamlit sessions share one store.
    """

    def __init__(self, path: Path | str, *, bulk_threshold: int = 8 << 20, chunk_bytes: int = 16 << 20) -> None:
        self.path = Path(path)
        self.bulk_threshold = bulk_threshold
        self.chunk_bytes = chunk_bytes
        self.offset = 0
        self.file_id: tuple[int, int] | None = None
        self.counters = StoreCounters()
        self._lock = threading.RLock()
        self._con = _connect()
        self._run(TABLE_DDL)

    # ---- ingestion -------------------------------------------------------------------------

    def refresh(self) -> RefreshStats:
        """Ingest what was appended since the last refresh; returns what this call read."""
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
            if self.file_id is not None and (ident != self.file_id or st.st_size < self.offset):
                self._reset()
                stats.restarted = True
            self.file_id = ident
            pending = st.st_size - self.offset
            if pending > 0:
                if not (self.offset == 0 and pending >= self.bulk_threshold and self._ingest_duckdb(stats)):
                    self._ingest_python(stats)
            self._count(stats)
            return stats

    def _reset(self) -> None:
        self._run("DELETE FROM events")
        self.offset = 0
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
        """Parse the new complete lines with the engine's reader, a bounded chunk at a time."""
        stats.method = "python"
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            carry = b""
            while True:
                block = handle.read(self.chunk_bytes)
                if not block:
                    break
                data = carry + block
                result = ReadResult()
                consumed = parse_lines(data, result)
                stats.bytes_read += len(block)
                unreadable = self._insert_dicts(result.events)
                stats.skipped += result.skipped + unreadable
                stats.events_added += len(result.events) - unreadable
                self.offset += consumed
                carry = data[consumed:]
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

    def _ingest_duckdb(self, stats: RefreshStats) -> bool:
        """First read of a large log: DuckDB parses the file in place, writers held off meanwhile.

        Returns False, having read nothing, when the writers' lock cannot be taken (a read-only
        log folder): without it the end of DuckDB's read is unknown, so the caller parses instead.
        """
        columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in FIELD_TYPES.items()) + "}"
        lock = LogLock(self.path)
        try:
            lock.fileno()
        except OSError:
            return False
        stats.method = "duckdb"
        try:
            with lock:
                size = os.stat(self.path).st_size
                end = _last_newline_end(self.path, size)
                added = self._run(
                    f"INSERT INTO events SELECT {STORED_SELECT} FROM read_ndjson(?, columns = {columns}, "
                    "ignore_errors = true, maximum_object_size = 16777216)", [str(self.path)])[0][0]
        finally:
            lock.close()
        bad = self._drop_unreadable()
        tail = end < size
        self.counters.truncated_tail = tail
        stats.bytes_read = size
        stats.events_added = int(added) - bad
        # A torn last line is reported as truncated_tail, not as a skipped line.
        stats.skipped = max(bad - (1 if tail else 0), 0)
        self.offset = end
        return True

    # ---- queries ---------------------------------------------------------------------------

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read-only query against the `events` table and return a DataFrame."""
        with self._lock:
            return self._con.execute(sql, params or []).df()

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


def _as_text(value: Any) -> str | None:
    """A decoded JSON value as the text DuckDB's reader would give for a VARCHAR column."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


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


# ---- figures ---------------------------------------------------------------------------------

def _where(filters: Filters, event_type: str, **kwargs: bool) -> tuple[str, list[Any]]:
    sql, params = filters.clauses(**kwargs)
    return " AND ".join([f"event_type = '{event_type}'", *sql]), params


def compute_bin_seconds(store: EventStore, filters: Filters) -> int:
    """The trend bin width for the filtered responses: at most MAX_BINS bins over their span."""
    where, params = _where(filters, "response")
    row = store.query(f"SELECT min(ts) AS lo, max(ts) AS hi FROM events WHERE {where}", params)
    lo, hi = row["lo"].iloc[0], row["hi"].iloc[0]
    if pd.isna(lo) or pd.isna(hi):
        return BIN_CHOICES[0]
    span = (hi - lo).total_seconds()
    for width in BIN_CHOICES:
        if span / width <= MAX_BINS:
            return width
    return BIN_CHOICES[-1]


def _bin_expr(seconds: int) -> str:
    return f"time_bucket(INTERVAL '{int(seconds)} seconds', ts)"


def compute_filter_options(store: EventStore) -> dict[str, list[str]]:
    """The traits, buckets and routes present in the log, for the sidebar's filter choices."""
    out = {}
    for column in ("trait", "bucket", "route"):
        frame = store.query(f"SELECT DISTINCT {column} AS v FROM events WHERE event_type = 'response' "
                            f"AND {column} IS NOT NULL ORDER BY 1")
        out[column] = [str(v) for v in frame["v"]]
    return out


def compute_response_count(store: EventStore) -> int:
    """Answers (response events) in the whole log."""
    return int(store.scalar("SELECT count(*) FROM events WHERE event_type = 'response'") or 0)


def compute_event_counts(store: EventStore) -> pd.DataFrame:
    """Events per type in the whole log: columns event_type, events."""
    return store.query("SELECT event_type, count(*) AS events FROM events GROUP BY 1 ORDER BY 2 DESC, 1")


def compute_bucket_split(store: EventStore, filters: Filters) -> pd.DataFrame:
    """A/B split of responses: columns bucket, events, share (of the filtered total)."""
    where, params = _where(filters, "response")
    return store.query(
        f"""SELECT bucket, count(*) AS events,
                   count(*) / sum(count(*)) OVER () AS share
            FROM events WHERE {where} GROUP BY bucket ORDER BY bucket""", params)


def compute_routing_sources(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Who answered (main / embedder / unknown), overall (bucket "all") and per bucket.

    Columns bucket, source, events, share (within the bucket).
    """
    where, params = _where(filters, "response")
    return store.query(
        f"""WITH counted AS (
                SELECT COALESCE(bucket, 'all') AS bucket, source_kind AS source, count(*) AS events
                FROM events WHERE {where}
                GROUP BY GROUPING SETS ((bucket, source_kind), (source_kind)))
            SELECT bucket, source, events,
                   events / sum(events) OVER (PARTITION BY bucket) AS share
            FROM counted
            ORDER BY CASE WHEN bucket = 'all' THEN 0 ELSE 1 END, bucket,
                     CASE source WHEN 'main' THEN 0 WHEN 'embedder' THEN 1 ELSE 2 END""", params)


HEADLINE_SQL = f"""
    count(*) AS events,
    avg(CASE WHEN source_kind <> 'unknown' AND quality >= {PASS_QUALITY} THEN 1.0 ELSE 0.0 END) AS pass_rate,
    avg(quality) AS mean_quality,
    quantile_cont(latency_ms, 0.5) AS p50_latency_ms,
    quantile_cont(latency_ms, 0.95) AS p95_latency_ms
"""


@dataclass
class Headline:
    """Overview's headline figures with a per-bin trend of each (DataFrame with column t)."""

    events: int
    pass_rate: float | None
    mean_quality: float | None
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    bin_seconds: int
    trend: pd.DataFrame = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "pass_rate": self.pass_rate, "mean_quality": self.mean_quality,
                "p50_latency_ms": self.p50_latency_ms, "p95_latency_ms": self.p95_latency_ms}


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return float(value)


def compute_headline(store: EventStore, filters: Filters) -> Headline:
    """Events, pass rate, mean quality, p50/p95 latency of the filtered responses, with trends."""
    where, params = _where(filters, "response")
    total = store.query(f"SELECT {HEADLINE_SQL} FROM events WHERE {where}", params).iloc[0]
    width = compute_bin_seconds(store, filters)
    trend = store.query(
        f"SELECT {_bin_expr(width)} AS t, {HEADLINE_SQL} FROM events "
        f"WHERE {where} AND ts IS NOT NULL GROUP BY t ORDER BY t", params)
    return Headline(events=int(total["events"]), pass_rate=_num(total["pass_rate"]),
                    mean_quality=_num(total["mean_quality"]),
                    p50_latency_ms=_num(total["p50_latency_ms"]),
                    p95_latency_ms=_num(total["p95_latency_ms"]), bin_seconds=width, trend=trend)


def compute_pass_rate_over_time(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Pass rate and mean quality per time bin and bucket: columns t, bucket, events, pass_rate, mean_quality."""
    where, params = _where(filters, "response")
    width = compute_bin_seconds(store, filters)
    return store.query(
        f"""SELECT {_bin_expr(width)} AS t, bucket, {HEADLINE_SQL}
            FROM events WHERE {where} AND ts IS NOT NULL GROUP BY t, bucket ORDER BY t, bucket""", params)


def compute_quality_by_bucket_route(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Quality metrics per bucket and route: events, pass_rate, mean/p10/p50 quality, latency."""
    where, params = _where(filters, "response")
    return store.query(
        f"""SELECT bucket, route, {HEADLINE_SQL},
                   quantile_cont(quality, 0.1) AS p10_quality,
                   quantile_cont(quality, 0.5) AS median_quality,
                   avg(latency_ms) AS mean_latency_ms
            FROM events WHERE {where} GROUP BY bucket, route ORDER BY bucket, route""", params)


def compute_boundary_over_time(store: EventStore, filters: Filters) -> pd.DataFrame:
    """The boundary each bucket routed with, per time bin (its last value in the bin).

    Columns t, bucket, boundary, drift (|boundary - control boundary in the same bin|, NaN if
    control has no event in that bin).
    """
    where, params = _where(filters, "response", route=False)
    width = compute_bin_seconds(store, replace(filters, route=None))
    return store.query(
        f"""WITH b AS (
                SELECT {_bin_expr(width)} AS t, bucket, arg_max(boundary, ts) AS boundary
                FROM events WHERE {where} AND ts IS NOT NULL AND boundary IS NOT NULL
                GROUP BY t, bucket)
            SELECT b.t, b.bucket, b.boundary, abs(b.boundary - c.boundary) AS drift
            FROM b LEFT JOIN b AS c ON c.t = b.t AND c.bucket = 'control'
            ORDER BY b.t, b.bucket""", params)


def compute_complexity_quality(store: EventStore, filters: Filters, limit: int = 5000) -> pd.DataFrame:
    """Complexity against quality per response (a reproducible sample of at most `limit`).

    Columns complexity, quality, route, bucket.
    """
    where, params = _where(filters, "response")
    total = store.scalar(f"SELECT count(*) FROM events WHERE {where}", params) or 0
    sample = f"USING SAMPLE reservoir({int(limit)} ROWS) REPEATABLE (7)" if total > limit else ""
    return store.query(
        f"""SELECT complexity, quality, route, bucket FROM
              (SELECT complexity, quality, route, bucket FROM events
               WHERE {where} AND complexity IS NOT NULL AND quality IS NOT NULL) {sample}""", params)


def compute_current_boundaries(store: EventStore, filters: Filters) -> dict[str, float]:
    """The latest boundary each bucket routed with (within the filters), by bucket."""
    where, params = _where(filters, "response", route=False)
    frame = store.query(
        f"SELECT bucket, arg_max(boundary, ts) AS boundary FROM events "
        f"WHERE {where} AND boundary IS NOT NULL AND bucket IS NOT NULL GROUP BY bucket ORDER BY bucket",
        params)
    return {str(row.bucket): float(row.boundary) for row in frame.itertuples()}


def compute_routing_split_over_time(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Share of responses per route, per time bin and bucket: columns t, bucket, route, events, share."""
    where, params = _where(filters, "response")
    width = compute_bin_seconds(store, filters)
    return store.query(
        f"""SELECT t, bucket, route, events, events / sum(events) OVER (PARTITION BY t, bucket) AS share
            FROM (SELECT {_bin_expr(width)} AS t, bucket, route, count(*) AS events
                  FROM events WHERE {where} AND ts IS NOT NULL GROUP BY ALL)
            ORDER BY t, bucket, route""", params)


def compute_adaptations(store: EventStore, filters: Filters, limit: int = 500) -> pd.DataFrame:
    """The latest adaptation events, newest first, with their reasons."""
    where, params = _where(filters, "adaptation", trait=False, route=False)
    return store.query(
        f"""SELECT ts, bucket, old_boundary, new_boundary, new_boundary - old_boundary AS change,
                   reason, quality_delta, latency_delta_ms, samples
            FROM events WHERE {where} ORDER BY ts DESC NULLS LAST LIMIT {int(limit)}""", params)


def compute_hypothesis_pass_rates(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Per hypothesis: checks, passed, failed, errors (passed is null) and pass_rate."""
    where, params = _where(filters, "hypothesis", trait=False)
    return store.query(
        f"""SELECT hypothesis_id, count(*) AS checks,
                   count(*) FILTER (WHERE passed) AS passed,
                   count(*) FILTER (WHERE NOT passed) AS failed,
                   count(*) FILTER (WHERE passed IS NULL) AS errors,
                   avg(CASE WHEN passed THEN 1.0 WHEN NOT passed THEN 0.0 END) AS pass_rate
            FROM events WHERE {where} GROUP BY hypothesis_id ORDER BY hypothesis_id""", params)


# ---- adaptive state, drill-down -------------------------------------------------------------

def load_adaptive_state(path: Path) -> dict[str, Any] | None:
    """The adaptive state file as stored (None when missing); raises InputError when unreadable."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object with a 'buckets' field")
    return data


def compute_state_boundaries(state: dict[str, Any] | None) -> dict[str, float]:
    """Boundary per bucket from an adaptive state dict (empty when absent or malformed)."""
    out: dict[str, float] = {}
    buckets = (state or {}).get("buckets")
    if isinstance(buckets, dict):
        for name, bucket in buckets.items():
            if isinstance(bucket, dict) and isinstance(bucket.get("boundary"), (int, float)):
                out[str(name)] = float(bucket["boundary"])
    return out


@dataclass(frozen=True)
class DriftBand:
    """Where the Routing page draws the drift SLO band and the red-flag lines."""

    center: float
    slo: float = DRIFT_SLO
    red_flag: float = DRIFT_RED_FLAG


def compute_drift_band(boundaries: dict[str, float]) -> DriftBand:
    """Drift is measured from the control boundary (0.5 unless the state or log says otherwise)."""
    return DriftBand(center=boundaries.get("control", CONTROL_BOUNDARY))


@dataclass
class EventPage:
    """One page of the Drill-down table."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int
    page_size: int


def _log_source(path: Path) -> str:
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in DRILLDOWN_COLUMNS.items()) + "}"
    return (f"read_ndjson('{_sql_string(str(path))}', columns = {columns}, ignore_errors = true, "
            "maximum_object_size = 16777216)")


def _connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB connection: UTC times, no progress bar on the console."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'").fetchall()
    con.execute("SET enable_progress_bar = false").fetchall()
    return con


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


def load_event_page(path: Path, filters: Filters, *, search: str = "", sort_by: str = "ts",
                    descending: bool = True, page: int = 1, page_size: int = 50) -> EventPage:
    """Response events of the log matching `filters` and a text search, one page of them.

    The search is a case-insensitive substring match over question and answer. Sorting and
    paging run inside DuckDB over the log file, so a large log is never loaded whole.
    Raises InputError for an unknown sort column or a page size outside 1..1000.
    """
    if sort_by not in SORTABLE:
        raise InputError(f"sort column {sort_by!r} is not one of {list(SORTABLE)}")
    if not 1 <= page_size <= 1000:
        raise InputError(f"page size {page_size} is outside 1..1000")
    empty = pd.DataFrame(columns=[name for name in DRILLDOWN_COLUMNS if name != "event_type"])
    if not Path(path).exists() or Path(path).stat().st_size == 0:
        return EventPage(empty, 0, 1, 1, page_size)
    clauses, params = filters.clauses()
    conditions = ["COALESCE(event_type, 'response') = 'response'", "message_id IS NOT NULL", *clauses]
    if search:
        # The search is literal text: escape LIKE's wildcards.
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append("(question ILIKE ? ESCAPE '\\' OR answer ILIKE ? ESCAPE '\\')")
        params += [pattern, pattern]
    shown = ", ".join(name for name in DRILLDOWN_COLUMNS if name != "event_type")
    base = f"FROM {_log_source(Path(path))} WHERE {' AND '.join(conditions)}"
    order = f"{sort_by} {'DESC' if descending else 'ASC'} NULLS LAST, message_id"
    con = _connect()
    try:
        def fetch(number: int) -> pd.DataFrame:
            # One scan: the page's rows with the total count of matches alongside.
            return con.execute(
                f"SELECT {shown}, count(*) OVER () AS total {base} ORDER BY {order} "
                f"LIMIT {int(page_size)} OFFSET {int((number - 1) * page_size)}", params).df()

        page = max(1, page)
        rows = fetch(page)
        if rows.empty and page > 1:  # past the end: show the last page
            total = con.execute(f"SELECT count(*) {base}", params).fetchall()[0][0]
            page = max(1, math.ceil(total / page_size))
            rows = fetch(page)
        total = int(rows["total"].iloc[0]) if not rows.empty else 0
        rows = rows.drop(columns=["total"])
    finally:
        con.close()
    pages = max(1, math.ceil(total / page_size))
    return EventPage(rows, int(total), page, pages, page_size)


def load_message_events(path: Path, message_id: str) -> list[dict[str, Any]]:
    """Every event of the log that carries `message_id` (the response and its hypotheses), whole."""
    if not message_id or not Path(path).exists():
        return []
    con = _connect()
    try:
        rows = con.execute(
            "SELECT json FROM read_json_objects(?, format = 'newline_delimited', ignore_errors = true, "
            "maximum_object_size = 16777216) WHERE json IS NOT NULL "
            "AND json_extract_string(json, '$.message_id') = ?",
            [str(path), message_id]).fetchall()
    finally:
        con.close()
    out = []
    for (text,) in rows:
        item = json.loads(text)
        if isinstance(item, dict):
            out.append(item)
    return out
