"""The bandit's statistics in SQLite (WAL, busy timeout, one BEGIN IMMEDIATE transaction per
update, so several worker processes never lose one), with a short per-process TTL cache in front
of arm statistics and the config, and the latency histograms /metrics serves."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.errors import StateError
from engine.prompts.bandit.policy import ArmStats, BanditConfig, Selection

# Latency histogram buckets in seconds (Prometheus base unit); +Inf is implied.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
HISTOGRAMS = ("selection", "feedback")
DEFAULT_TTL_S = 1.0
MAX_CACHE_ENTRIES = 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value REAL NOT NULL);
CREATE TABLE IF NOT EXISTS arms (
    assistant TEXT NOT NULL, category TEXT NOT NULL, recipe_id TEXT NOT NULL,
    pulls INTEGER NOT NULL DEFAULT 0, explored_pulls INTEGER NOT NULL DEFAULT 0,
    reward_sum REAL NOT NULL DEFAULT 0, reward_count INTEGER NOT NULL DEFAULT 0,
    feedback_total INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (assistant, category, recipe_id));
CREATE TABLE IF NOT EXISTS selections (
    assistant TEXT NOT NULL, category TEXT NOT NULL, recipe_id TEXT NOT NULL, policy TEXT NOT NULL,
    explored INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (assistant, category, recipe_id, policy, explored));
CREATE TABLE IF NOT EXISTS hist (
    name TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0,
    sum REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (name, bucket));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def bucket_index(seconds: float) -> int:
    """Index of the first bucket whose upper bound holds `seconds` (len(LATENCY_BUCKETS) = +Inf)."""
    for index, bound in enumerate(LATENCY_BUCKETS):
        if seconds <= bound:
            return index
    return len(LATENCY_BUCKETS)


@dataclass
class MetricsSnapshot:
    """Everything /metrics needs from the bandit database, read in one go."""

    config: BanditConfig
    selections: list[tuple[str, str, str, str, bool, int]]
    arms: list[tuple[str, str, str, float, int, int]]  # assistant, category, recipe, sum, count, feedback
    histograms: dict[str, tuple[list[int], float, int]]  # name -> (per-bucket counts incl. +Inf, sum, count)
    counters: dict[str, int]


class BanditStore:
    """The bandit's statistics in SQLite. One connection per thread; every write is one short
    BEGIN IMMEDIATE transaction of counter increments, so concurrent workers never lose an update.
    Reads of arm statistics and of the config go through a per-process TTL cache."""

    def __new__(cls, path: Path, **options: Any) -> BanditStore:
        # Pluggable backend: the settings' own database lives in PostgreSQL when AIOS_STORE_URL is set.
        if cls is BanditStore:
            from engine.store.select import bandit_target

            if bandit_target(path) is not None:
                from engine.store.postgres import PostgresBanditStore

                return super().__new__(PostgresBanditStore)
        return super().__new__(cls)

    def __init__(self, path: Path, *, ttl_s: float = DEFAULT_TTL_S,
                 clock: Callable[[], float] = time.monotonic, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly  # readers (dashboard) never create the database
        self.ttl_s = ttl_s
        self._clock = clock
        self._local = threading.local()
        self._cache: dict[tuple[str, str], tuple[float, dict[str, ArmStats]]] = {}
        self._config_cache: tuple[float, BanditConfig] | None = None
        self._cache_lock = threading.Lock()
        self._schema_ready = False

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            if not self._schema_ready and not self.readonly:
                conn.executescript(SCHEMA)
                self._schema_ready = True
        except sqlite3.Error as exc:
            raise StateError(f"{self.path}: cannot open the bandit database ({exc})") from None
        self._local.conn = conn
        return conn

    def _write(self, statements: list[tuple[str, tuple]], *, observe: str | None = None,
               started: float = 0.0) -> float:
        """Run the statements in one transaction. With `observe`, the time since `started`
        (lock wait and updates included, only the commit excluded) goes into that histogram in
        the same transaction; returns that time in seconds."""
        conn = self._conn()
        elapsed = 0.0
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    conn.execute(sql, params)
                if observe is not None:
                    elapsed = time.perf_counter() - started
                    for sql, params in self._observe(observe, elapsed):
                        conn.execute(sql, params)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StateError(f"{self.path}: bandit database write failed ({exc})") from None
        return elapsed

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.readonly and not self.path.exists():
            return []
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StateError(f"{self.path}: bandit database read failed ({exc})") from None

    # config
    def load_config(self) -> BanditConfig:
        now = self._clock()
        cached = self._config_cache
        if cached is not None and cached[0] > now:
            return cached[1]
        values = dict(self._read("SELECT key, value FROM config"))
        default = BanditConfig()
        config = BanditConfig(
            epsilon=float(values.get("epsilon", default.epsilon)),
            min_initial_samples=int(values.get("min_initial_samples", default.min_initial_samples)),
            optimistic_initial_value=float(values.get("optimistic_initial_value",
                                                      default.optimistic_initial_value)))
        self._config_cache = (now + self.ttl_s, config)
        return config

    def save_config(self, config: BanditConfig) -> BanditConfig:
        config = config.validated()
        upsert = "INSERT INTO config(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value"
        self._write([(upsert, (key, float(value))) for key, value in asdict(config).items()])
        self._config_cache = None
        return config

    # arms
    def load_arms(self, assistant: str, category: str, recipe_ids: Sequence[str]) -> tuple[list[ArmStats], bool]:
        """(stats for each recipe id in order, whether the TTL cache answered)."""
        key = (assistant, category)
        now = self._clock()
        with self._cache_lock:
            cached = self._cache.get(key)
        hit = cached is not None and cached[0] > now
        if cached is not None and hit:
            rows = cached[1]
        else:
            rows = {r[0]: ArmStats(*r) for r in self._read(
                "SELECT recipe_id, pulls, explored_pulls, reward_sum, reward_count, feedback_total "
                "FROM arms WHERE assistant=? AND category=?", key)}
            with self._cache_lock:
                if len(self._cache) >= MAX_CACHE_ENTRIES:
                    self._cache.clear()
                self._cache[key] = (now + self.ttl_s, rows)
        return [rows.get(rid, ArmStats(rid)) for rid in recipe_ids], hit

    def invalidate(self, assistant: str | None = None, category: str | None = None) -> None:
        with self._cache_lock:
            if assistant is None:
                self._cache.clear()
            else:
                self._cache.pop((assistant, category or ""), None)
        self._config_cache = None

    @staticmethod
    def _observe(name: str, seconds: float) -> list[tuple[str, tuple]]:
        # One row per bucket holds its count and the sum of its observations: one upsert per
        # observation; the histogram's _sum is the total over the rows.
        return [("INSERT INTO hist(name, bucket, count, sum) VALUES (?, ?, 1, ?) "
                 "ON CONFLICT(name, bucket) DO UPDATE SET count=count+1, sum=sum+excluded.sum",
                 (name, bucket_index(seconds), seconds))]

    def record_selection(self, assistant: str, category: str, selection: Selection, *,
                         started: float, cache_hit: bool | None) -> float:
        """Count one selection; returns the selection latency (s) that was recorded with it."""
        explored = int(selection.explored)
        statements = [
            ("INSERT INTO selections(assistant, category, recipe_id, policy, explored, count) "
             "VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT(assistant, category, recipe_id, policy, explored) "
             "DO UPDATE SET count=count+1",
             (assistant, category, selection.recipe_id, selection.policy, explored)),
            ("INSERT INTO arms(assistant, category, recipe_id, pulls, explored_pulls) VALUES (?, ?, ?, 1, ?) "
             "ON CONFLICT(assistant, category, recipe_id) DO UPDATE SET pulls=pulls+1, "
             "explored_pulls=explored_pulls+excluded.explored_pulls",
             (assistant, category, selection.recipe_id, explored)),
        ]
        if cache_hit is not None:
            statements.append(("INSERT INTO counters(name, value) VALUES (?, 1) "
                               "ON CONFLICT(name) DO UPDATE SET value=value+1",
                               ("cache_hit" if cache_hit else "cache_miss",)))
        return self._write(statements, observe="selection", started=started)

    def record_feedback(self, assistant: str, category: str, recipe_id: str, reward: float, *,
                        started: float) -> float:
        elapsed = self._write([
            ("INSERT INTO arms(assistant, category, recipe_id, reward_sum, reward_count, feedback_total) "
             "VALUES (?, ?, ?, ?, 1, 1) ON CONFLICT(assistant, category, recipe_id) DO UPDATE SET "
             "reward_sum=reward_sum+excluded.reward_sum, reward_count=reward_count+1, "
             "feedback_total=feedback_total+1", (assistant, category, recipe_id, reward))],
            observe="feedback", started=started)
        self.invalidate(assistant, category)
        return elapsed

    def replace_arms(self, assistant: str, category: str, stats: dict[str, ArmStats]) -> None:
        """Backfill: overwrite pulls and rewards (not the monotonic feedback and selection counters)."""
        self._write([
            ("INSERT INTO arms(assistant, category, recipe_id, pulls, explored_pulls, reward_sum, reward_count) "
             "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(assistant, category, recipe_id) DO UPDATE SET "
             "pulls=excluded.pulls, explored_pulls=excluded.explored_pulls, reward_sum=excluded.reward_sum, "
             "reward_count=excluded.reward_count",
             (assistant, category, rid, a.pulls, a.explored_pulls, a.reward_sum, a.reward_count))
            for rid, a in stats.items()])
        self.invalidate(assistant, category)

    def load_all_arms(self) -> list[tuple[str, str, ArmStats]]:
        return [(r[0], r[1], ArmStats(*r[2:])) for r in self._read(
            "SELECT assistant, category, recipe_id, pulls, explored_pulls, reward_sum, reward_count, "
            "feedback_total FROM arms ORDER BY assistant, category, recipe_id")]

    def load_snapshot(self) -> MetricsSnapshot:
        """Read every counter for /metrics (not cached: a scrape must see the current totals)."""
        config = self.load_config()
        selections = [(a, c, r, p, bool(e), n) for a, c, r, p, e, n in self._read(
            "SELECT assistant, category, recipe_id, policy, explored, count FROM selections")]
        arms = self._read("SELECT assistant, category, recipe_id, reward_sum, reward_count, feedback_total "
                          "FROM arms")
        histograms: dict[str, tuple[list[int], float, int]] = {}
        for name in HISTOGRAMS:
            counts = [0] * (len(LATENCY_BUCKETS) + 1)
            total = 0.0
            for bucket, count, bucket_sum in self._read("SELECT bucket, count, sum FROM hist WHERE name=?", (name,)):
                if 0 <= bucket < len(counts):
                    counts[bucket] = count
                    total += bucket_sum
            histograms[name] = (counts, total, sum(counts))
        counters = dict(self._read("SELECT name, value FROM counters"))
        return MetricsSnapshot(config, selections, [(a, c, r, float(t), int(n), int(f)) for a, c, r, t, n, f in arms],
                               histograms, counters)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
