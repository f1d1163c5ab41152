"""PostgreSQL as the shared store of several gateway replicas (AIOS_STORE_URL), behind the same
interfaces as the files: `PostgresEventSink` is an EventSink, `PostgresStateCache` a StateCache,
`PostgresBanditStore` a BanditStore and `PostgresEventStore` an EventStore, each chosen by its base
class's constructor when the path is the settings' own (engine.store.select).

- Events: one table, typed columns for what analytics filter on, the event's log line as JSON; the key is the
  sha256 of the event's NDJSON line, so a retried insert or a re-imported log adds nothing; batches go
  in one round trip (psycopg's pipelined executemany).
- Adaptive state: one row per experiment holding the state file's exact text. The state lock is a
  transaction holding that row `FOR UPDATE`; the sink inserts the answer's events in the same
  transaction, so the state and the events commit together and N replicas lose no update.
- Bandit: the SQLite store's tables in schema `aios_bandit`, the same statements (placeholders
  translated), each write one transaction of atomic upserts; the TTL cache is the base class's.
- Readers page the events by (writing transaction, id) below the oldest running transaction, so an
  insert that commits late is never skipped by an incremental refresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from engine.analysis.store import EventStore, RefreshStats
from engine.errors import StateError
from engine.prompts.bandit.store import DEFAULT_TTL_S, BanditStore
from engine.provenance.events import Event
from engine.provenance.sink import EventSink, encode_event
from engine.providers.egress import safe_url
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState
from engine.routing.state import (
    StagedCacheWrite,
    StateCache,
    StateFormatError,
    StateRead,
    encode_state,
    fresh_state,
    parse_state,
)
from engine.store.migrations import LATEST, MIGRATIONS
from engine.store.select import StoreTarget, bandit_target, log_target, state_target

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key for migrations: replicas starting together apply each migration once.
MIGRATION_LOCK = 0x41494F53  # "AIOS"
CONNECT_TIMEOUT_S = 10
POOL_WAIT_S = 30.0
PAGE_ROWS = 5000
MAX_POOLS = 4

EVENT_COLUMNS = ("event_key", "ts", "event_type", "message_id", "session_id", "bucket", "route", "trait",
                 "origin", "error_code", "body")
INSERT_EVENT = (f"INSERT INTO aios_events ({', '.join(EVENT_COLUMNS)}) VALUES "
                f"({', '.join(['%s'] * (len(EVENT_COLUMNS) - 1))}, %s::json) ON CONFLICT (event_key) DO NOTHING")


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return safe_url(url)


# ---- connection pools and schema ----------------------------------------------------------------

class _Pools:
    """One pool per URL in a process (a handful at most), each migrated once when opened."""

    def __init__(self) -> None:
        self._pools: dict[str, ConnectionPool] = {}
        self._lock = threading.Lock()

    def get(self, target: StoreTarget) -> ConnectionPool:
        with self._lock:
            pool = self._pools.get(target.url)
            if pool is not None:
                return pool
            if len(self._pools) >= MAX_POOLS:
                self._pools.pop(next(iter(self._pools))).close()
            pool = ConnectionPool(target.url, min_size=1, max_size=target.pool_size, open=False,
                                  kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                                  timeout=POOL_WAIT_S, name="aios-store")
            try:
                pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
                with pool.connection() as conn:
                    migrate(conn)
            except (psycopg.Error, psycopg_pool_errors()) as exc:
                pool.close()
                raise StateError(f"PostgreSQL store {describe(target.url)} unavailable: {_reason(exc)}",
                                 code="STORE_UNAVAILABLE") from None
            self._pools[target.url] = pool
            return pool

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


def psycopg_pool_errors() -> type[Exception]:
    from psycopg_pool import PoolTimeout

    return PoolTimeout


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


_POOLS = _Pools()


def pool_for(target: StoreTarget) -> ConnectionPool:
    """The process's pool for this store (opened and migrated on first use). Raises StateError."""
    return _POOLS.get(target)


def close_pools() -> None:
    """Close every pool of this process (tests, shutdown)."""
    _POOLS.close()


@contextmanager
def connection(target: StoreTarget) -> Iterator[psycopg.Connection[Any]]:
    """A pooled autocommit connection; database errors become StateError naming the store."""
    pool = pool_for(target)
    try:
        with pool.connection() as conn:
            yield conn
    except psycopg.Error as exc:
        raise StateError(f"PostgreSQL store {describe(target.url)}: {_reason(exc)}", code="STORE_ERROR") from None
    except psycopg_pool_errors() as exc:
        raise StateError(f"PostgreSQL store {describe(target.url)}: no connection within {POOL_WAIT_S:.0f} s "
                         f"({_reason(exc)})", code="STORE_UNAVAILABLE") from None


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply the migrations this database lacks, in order; returns the versions applied.
    Raises StateError when the database holds a newer schema than this engine knows."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS aios_schema_version (version INTEGER PRIMARY KEY, "
                     "description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        done = {row[0] for row in conn.execute("SELECT version FROM aios_schema_version")}
        newer = [v for v in done if v > LATEST]
        if newer:
            raise StateError(f"the store's schema is version {max(newer)}, newer than this engine's {LATEST}: "
                             "upgrade the engine", code="STORE_SCHEMA")
        for version, description, sql in MIGRATIONS:
            if version in done:
                continue
            conn.execute(sql.encode("utf-8"))
            conn.execute("INSERT INTO aios_schema_version (version, description) VALUES (%s, %s)",
                         (version, description))
            applied.append(version)
    if applied:
        log.info("PostgreSQL store migrated to schema version %s", applied[-1])
    return applied


@dataclass(frozen=True)
class StoreStatus:
    """What `python -m engine store status` shows."""

    url: str
    schema_version: int | None
    latest: int
    events: int
    events_by_type: dict[str, int]
    experiments: list[str]
    bandit_arms: int

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "schema_version": self.schema_version, "latest": self.latest,
                "events": self.events, "events_by_type": self.events_by_type, "experiments": self.experiments,
                "bandit_arms": self.bandit_arms}


def load_status(target: StoreTarget) -> StoreStatus:
    with connection(target) as conn:
        version = conn.execute("SELECT max(version) FROM aios_schema_version").fetchone()
        by_type = dict(conn.execute("SELECT event_type, count(*) FROM aios_events GROUP BY event_type "
                                    "ORDER BY event_type").fetchall())
        experiments = [r[0] for r in conn.execute(
            "SELECT experiment FROM aios_adaptive_state WHERE document IS NOT NULL ORDER BY experiment")]
        arms = conn.execute("SELECT count(*) FROM aios_bandit.arms").fetchone()
    return StoreStatus(describe(target.url), version[0] if version else None, LATEST, sum(by_type.values()),
                       {str(k): int(v) for k, v in by_type.items()}, experiments, int(arms[0]) if arms else 0)


def count_events(target: StoreTarget) -> tuple[int, int]:
    """(events, bytes of their log lines) in the store: what `status` shows for a log file."""
    with connection(target) as conn:
        row = conn.execute("SELECT count(*), coalesce(sum(octet_length(body::text)) + count(*), 0) "
                           "FROM aios_events").fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


# ---- events ---------------------------------------------------------------------------------------

def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def compute_event_row(line: bytes) -> tuple[Any, ...] | None:
    """The table row for one NDJSON line (None for a line that is no JSON object with an event_type)."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("event_type"), str):
        return None
    text = line.rstrip(b"\n")
    return (hashlib.sha256(text).hexdigest(), _timestamp(data.get("ts")), data["event_type"],
            _text(data.get("message_id")), _text(data.get("session_id")), _text(data.get("bucket")),
            _text(data.get("route")), _text(data.get("trait")), _text(data.get("origin")),
            _text(data.get("error_code")), text.decode("utf-8"))


def insert_rows(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> int:
    """Insert rows (one pipelined round trip); returns how many were new (not already stored)."""
    if not rows:
        return 0
    with conn.cursor() as cur:
        cur.executemany(INSERT_EVENT, rows, returning=False)
        return max(cur.rowcount, 0)


# The state lock's transaction on this thread: (url, connection), so the sink's insert and the state's
# update commit together.
_AMBIENT = threading.local()


def _ambient(url: str) -> psycopg.Connection[Any] | None:
    current = getattr(_AMBIENT, "current", None)
    return current[1] if current is not None and current[0] == url else None


class PostgresEventSink(EventSink):
    """Appends events to the store's events table; inside a state lock, in the lock's transaction."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path)
        target = log_target(path)
        if target is None:
            raise StateError("PostgresEventSink needs AIOS_STORE_URL and the settings' log path")
        self.target = target

    def append(self, events: Event | dict[str, Any] | Iterable[Event | dict[str, Any]]) -> int:
        batch = [events] if isinstance(events, (Event, dict)) else list(events)
        rows = [row for row in (compute_event_row(encode_event(e)) for e in batch) if row is not None]
        if not rows:
            return 0
        conn = _ambient(self.target.url)
        if conn is not None:
            insert_rows(conn, rows)
        else:
            with connection(self.target) as own, own.transaction():
                insert_rows(own, rows)
        return len(rows)

    def close(self) -> None:
        super().close()  # the pool is the process's, shared by every sink


def import_lines(target: StoreTarget, lines: Iterable[bytes], *, batch: int = 1000) -> tuple[int, int, int]:
    """Load NDJSON lines into the events table; returns (read, inserted, skipped). Idempotent: a line
    already stored (same bytes) is not inserted again."""
    read = inserted = skipped = 0
    rows: list[tuple[Any, ...]] = []
    with connection(target) as conn:
        for line in lines:
            if not line.strip():
                continue
            read += 1
            row = compute_event_row(line)
            if row is None:
                skipped += 1
                continue
            rows.append(row)
            if len(rows) >= batch:
                with conn.transaction():
                    inserted += insert_rows(conn, rows)
                rows = []
        if rows:
            with conn.transaction():
                inserted += insert_rows(conn, rows)
    return read, inserted, skipped


def insert_events(target: StoreTarget, events: Iterable[Event | dict[str, Any]]) -> int:
    """One batched insert outside any state lock (bench, import); returns how many were new."""
    rows = [row for row in (compute_event_row(encode_event(e)) for e in events) if row is not None]
    with connection(target) as conn, conn.transaction():
        return insert_rows(conn, rows)


PAGE_SQL = ("SELECT xid::text::bigint, id, body::text FROM aios_events "
            "WHERE (xid, id) > (%s::text::xid8, %s) AND xid < pg_snapshot_xmin(pg_current_snapshot()) "
            "{types}ORDER BY xid, id LIMIT %s")


def read_event_page(target: StoreTarget, after: tuple[int, int], event_types: set[str] | None = None,
                    limit: int = PAGE_ROWS) -> tuple[list[dict[str, Any]], tuple[int, int], int]:
    """Events committed after the cursor `after` ((0, 0) = from the start), in commit order as far as
    is safe: only rows whose writing transaction is older than every running one, so a later call never
    finds an older row it skipped. Returns (events, the cursor to resume from, bytes read)."""
    types = "AND event_type = ANY(%s) " if event_types else ""
    params: list[Any] = [str(after[0]), after[1]]
    if event_types:
        params.append(sorted(event_types))
    params.append(limit)
    with connection(target) as conn:
        rows = conn.execute(PAGE_SQL.format(types=types).encode("utf-8"), params).fetchall()
    if not rows:
        return [], after, 0
    return ([json.loads(body) for _, _, body in rows], (int(rows[-1][0]), int(rows[-1][1])),
            sum(len(body) for _, _, body in rows))


# Columns a whole read can narrow by equality (the typed text columns of the events table).
NARROWING_COLUMNS = frozenset({"message_id", "session_id", "bucket", "route", "trait", "origin", "error_code"})
# A time bound is widened by this much: the table's ts is Python's reading of the event's text and a
# scan's may differ (an offset, a naive time), so narrowing by it never drops a row the scan keeps.
TS_MARGIN = timedelta(days=1)


def _where(event_types: Iterable[str] | None, equal: Mapping[str, str] | None, since: datetime | None,
           until: datetime | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if event_types is not None:
        clauses.append("event_type = ANY(%s)")
        params.append(sorted(event_types))
    for name, value in sorted((equal or {}).items()):
        if name not in NARROWING_COLUMNS:
            raise KeyError(f"{name!r} is not a column the events table narrows by")
        clauses.append(f"{name} = %s")
        params.append(value)
    if since is not None:
        clauses.append("(ts IS NULL OR ts >= %s)")
        params.append(since - TS_MARGIN)
    if until is not None:
        clauses.append("(ts IS NULL OR ts < %s)")
        params.append(until + TS_MARGIN)
    return ("WHERE " + " AND ".join(clauses) + " ") if clauses else "", params


def iter_event_lines(target: StoreTarget, *, event_types: Iterable[str] | None = None,
                     equal: Mapping[str, str] | None = None, since: datetime | None = None,
                     until: datetime | None = None) -> Iterator[tuple[str, str]]:
    """(event key, log line without its newline) of every stored event matching, in commit order,
    streamed from one snapshot (a whole read: unlike `read_event_page`, nothing is held back for a
    later call). `equal` narrows by the typed columns of NARROWING_COLUMNS; `since`/`until` narrow by
    time with a margin (TS_MARGIN), so the result is a superset for a scan that applies the exact
    filters. Raises StateError when the store cannot be read."""
    where, params = _where(event_types, equal, since, until)
    sql = f"SELECT event_key, body::text FROM aios_events {where}ORDER BY xid, id"
    with connection(target) as conn, conn.cursor() as cur:
        yield from cur.stream(sql.encode("utf-8"), params, size=PAGE_ROWS)


def read_event_tail(target: StoreTarget, n: int) -> list[dict[str, Any]]:
    """The last `n` stored events in commit order (the file's `tail_events`)."""
    if n <= 0:
        return []
    with connection(target) as conn:
        rows = conn.execute("SELECT body::text FROM aios_events ORDER BY xid DESC, id DESC LIMIT %s",
                            (n,)).fetchall()
    return [json.loads(body) for (body,) in reversed(rows)]


def event_stored(target: StoreTarget, event_type: str, message_id: str) -> bool:
    """Whether an event of this type and message is stored (the file's `event_logged`)."""
    with connection(target) as conn:
        row = conn.execute("SELECT 1 FROM aios_events WHERE message_id = %s AND event_type = %s LIMIT 1",
                           (message_id, event_type)).fetchone()
    return row is not None


class PostgresEventStore(EventStore):
    """The analytics' EventStore filled from the events table instead of the file: the same rows go
    through the same decode and cast (`_insert_dicts`), so every figure is the one the file gives."""

    def __init__(self, path: Path | str, **options: Any) -> None:
        super().__init__(path, **options)
        target = log_target(path)
        if target is None:
            raise StateError("PostgresEventStore needs AIOS_STORE_URL and the settings' log path")
        self.target = target
        self._after: tuple[int, int] = (0, 0)  # (xid, id) of the last row read

    def refresh(self) -> RefreshStats:
        with self._lock:
            stats = RefreshStats(method="postgres")
            while True:
                events, self._after, size = read_event_page(self.target, self._after)
                if not events:
                    break
                unreadable = self._insert_dicts(events)
                stats.events_added += len(events) - unreadable
                stats.skipped += unreadable
                stats.bytes_read += size
                self.offset += len(events)
                if len(events) < PAGE_ROWS:
                    break
            self.file_id = self._after
            self._count(stats)
            return stats


# ---- adaptive state -------------------------------------------------------------------------------

def _lock_row(conn: psycopg.Connection[Any], experiment: str) -> str | None:
    row = conn.execute("SELECT document FROM aios_adaptive_state WHERE experiment = %s FOR UPDATE",
                       (experiment,)).fetchone()
    if row is None:
        conn.execute("INSERT INTO aios_adaptive_state (experiment) VALUES (%s) ON CONFLICT DO NOTHING",
                     (experiment,))
        row = conn.execute("SELECT document FROM aios_adaptive_state WHERE experiment = %s FOR UPDATE",
                           (experiment,)).fetchone()
    return row[0] if row else None


@contextmanager
def state_transaction(target: StoreTarget) -> Iterator[None]:
    """The state lock on PostgreSQL: a transaction holding the experiment's row FOR UPDATE; the
    events appended and the state saved inside it commit together when the block ends."""
    if _ambient(target.url) is not None:  # re-entered on this thread: the row is already ours
        yield
        return
    with connection(target) as conn, conn.transaction():
        _lock_row(conn, target.experiment)
        _AMBIENT.current = (target.url, conn)
        try:
            yield
        finally:
            _AMBIENT.current = None


def read_document(target: StoreTarget) -> str | None:
    conn = _ambient(target.url)
    sql = "SELECT document FROM aios_adaptive_state WHERE experiment = %s"
    if conn is not None:
        row = conn.execute(sql, (target.experiment,)).fetchone()
    else:
        with connection(target) as own:
            row = own.execute(sql, (target.experiment,)).fetchone()
    return row[0] if row else None


def write_document(target: StoreTarget, document: str | None) -> bool:
    """Store (or with None clear) the experiment's state; returns whether a state was there before."""
    sql = ("INSERT INTO aios_adaptive_state AS s (experiment, document, updated_at) VALUES (%s, %s, now()) "
           "ON CONFLICT (experiment) DO UPDATE SET document = excluded.document, updated_at = now() "
           "RETURNING (SELECT document IS NOT NULL FROM aios_adaptive_state WHERE experiment = %s)")
    params = (target.experiment, document, target.experiment)
    conn = _ambient(target.url)
    if conn is not None:
        row = conn.execute(sql, params).fetchone()
    else:
        with connection(target) as own:
            row = own.execute(sql, params).fetchone()
    return bool(row and row[0])


def read_state_target(target: StoreTarget, path: Path) -> StateRead:
    """The typed reader's answer from the store (never raises: a problem is reported like a bad file)."""
    where = f"{describe(target.url)} experiment {target.experiment}"
    try:
        document = read_document(target)
    except StateError as exc:
        log.warning("adaptive state unusable, read as none: %s", exc)
        return StateRead(path, problem=str(exc))
    if document is None:
        return StateRead(path)
    try:
        data = json.loads(document)
        state = parse_state(data, experiment_seed="")
    except (ValueError, StateFormatError) as exc:
        message = f"{where}: {exc}"
        log.warning("adaptive state unusable, read as none: %s", message)
        return StateRead(path, problem=message)
    return StateRead(path, state, data)


class PostgresStateCache(StateCache):
    """The adaptive state in the store's row for this experiment, loaded and staged like the file."""

    def __init__(self, path: Path, experiment_seed: str, config: AdaptiveConfig) -> None:
        super().__init__(path, experiment_seed, config)
        target = state_target(path)
        if target is None:
            raise StateError("PostgresStateCache needs AIOS_STORE_URL and the settings' state path")
        self.target = StoreTarget(target.url, target.pool_size, experiment_seed)
        self._last_text: tuple[str, AdaptiveState] | None = None

    def load_for_update(self, tag: str | None = None, logged: Callable[[str], bool] | None = None) -> AdaptiveState:
        # No killed writer's staged file to settle: the row and the events commit in one transaction.
        return self.load()

    def load(self) -> AdaptiveState:
        document = read_document(self.target)
        if document is None:
            return fresh_state(self.experiment_seed, self.config)
        last = self._last_text
        if last is not None and last[0] == document:
            return last[1]
        try:
            state = parse_state(json.loads(document), self.experiment_seed, self.config)
        except (ValueError, StateFormatError) as exc:
            # Like a corrupt file: warn and start fresh; the next save replaces the row.
            log.warning("adaptive state in %s experiment %s is corrupt (%s); starting a fresh experiment",
                        describe(self.target.url), self.experiment_seed, exc)
            return fresh_state(self.experiment_seed, self.config)
        self._last_text = (document, state)
        return state

    def save(self, state: AdaptiveState) -> None:
        text = encode_state(state).decode("utf-8")
        write_document(self.target, text)
        self._last_text = (text, state)

    def stage(self, state: AdaptiveState) -> StagedCacheWrite:
        return _StagedRow(self, state)


class _StagedRow(StagedCacheWrite):
    """A state to be written by `commit()`; in the state lock's transaction it commits with the events."""

    def __init__(self, cache: PostgresStateCache, state: AdaptiveState) -> None:  # noqa: D107
        self._row_cache, self._row_state, self._done = cache, state, False

    def commit(self) -> None:
        self._done = True
        self._row_cache.save(self._row_state)

    def discard(self) -> None:
        self._done = True

    def __enter__(self) -> _StagedRow:
        return self

    def __exit__(self, *exc: object) -> None:
        self._done = True


# ---- bandit ---------------------------------------------------------------------------------------

_INSERT_TABLE = re.compile(r"INSERT INTO (\w+)")
_SELF_INCREMENT = re.compile(r"\b(\w+)=\1\+")


def compute_pg_statement(sql: str) -> str:
    """A SQLite statement of the bandit store for PostgreSQL: `%s` placeholders, and in an upsert the
    existing row's columns qualified (`count=count+1` is ambiguous to PostgreSQL, not to SQLite)."""
    sql = sql.replace("?", "%s")
    table = _INSERT_TABLE.search(sql)
    if table is not None and "DO UPDATE SET" in sql:
        head, tail = sql.split("DO UPDATE SET", 1)
        sql = head + "DO UPDATE SET" + _SELF_INCREMENT.sub(lambda m: f"{m[1]}={table[1]}.{m[1]}+", tail)
    return sql


class PostgresBanditStore(BanditStore):
    """The bandit's statistics in the store: the SQLite store's statements on schema aios_bandit."""

    def __init__(self, path: Path, *, ttl_s: float = DEFAULT_TTL_S,
                 clock: Callable[[], float] = time.monotonic, readonly: bool = False) -> None:
        super().__init__(path, ttl_s=ttl_s, clock=clock, readonly=readonly)
        target = bandit_target(path)
        if target is None:
            raise StateError("PostgresBanditStore needs AIOS_STORE_URL and the settings' bandit path")
        self.target = target
        self._sql: dict[str, str] = {}

    def _pg(self, sql: str) -> str:
        found = self._sql.get(sql)
        if found is None:
            found = self._sql[sql] = compute_pg_statement(sql)
        return found

    def _write(self, statements: list[tuple[str, tuple]], *, observe: str | None = None,
               started: float = 0.0) -> float:
        elapsed = 0.0
        with connection(self.target) as conn, conn.transaction():
            conn.execute("SET LOCAL search_path TO aios_bandit")
            for sql, params in statements:
                conn.execute(self._pg(sql), params)
            if observe is not None:
                elapsed = time.perf_counter() - started
                for sql, params in self._observe(observe, elapsed):
                    conn.execute(self._pg(sql), params)
        return elapsed

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with connection(self.target) as conn, conn.transaction():
            conn.execute("SET LOCAL search_path TO aios_bandit")
            return conn.execute(self._pg(sql), params).fetchall()

    def close(self) -> None:
        pass  # the pool is the process's
