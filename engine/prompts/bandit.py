"""The epsilon-greedy recipe bandit (runbook 000's legacy section): a pure selection policy, its
SQLite statistics (WAL, busy timeout, a short TTL cache in front; safe with several worker
processes) and the service behind /choose, /feedback, /bandit_stats, /bandit_config, /bandit_backfill.
"""

from __future__ import annotations

import logging
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from engine import runbook
from engine.errors import InputError, StateError
from engine.prompts.recipes import RecipeStore
from engine.provenance import BanditSelectionEvent, EventSink, FeedbackEvent, new_id, read_events
from engine.settings import Settings

log = logging.getLogger(__name__)

# Latency histogram buckets in seconds (Prometheus base unit); +Inf is implied.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
HISTOGRAMS = ("selection", "feedback")
DEFAULT_TTL_S = 1.0
MAX_CACHE_ENTRIES = 1024
TIE_TOLERANCE = 1e-12


class UnknownArmError(InputError):
    """No recipe of that id for that (assistant, category), or no recipe at all for the pair."""

    code = "UNKNOWN_ARM"


class RewardOutOfRangeError(InputError):
    code = "REWARD_OUT_OF_RANGE"


# --------------------------------------------------------------------------- pure policy

@dataclass(frozen=True)
class BanditConfig:
    """Runtime tuning, shared by every worker through the database (POST /bandit_config)."""

    epsilon: float = runbook.BANDIT_EPSILON
    min_initial_samples: int = runbook.BANDIT_MIN_INITIAL_SAMPLES  # fewer rewards: valued at the prior
    optimistic_initial_value: float = runbook.BANDIT_OPTIMISTIC_INITIAL_VALUE

    def validated(self) -> BanditConfig:
        if isinstance(self.epsilon, bool) or not isinstance(self.epsilon, (int, float)) \
                or not 0.0 <= self.epsilon <= 1.0 or math.isnan(self.epsilon):
            raise InputError("field epsilon must be a number in [0, 1]")
        if isinstance(self.min_initial_samples, bool) or not isinstance(self.min_initial_samples, int) \
                or not 0 <= self.min_initial_samples <= 1_000_000:
            raise InputError("field min_initial_samples must be an integer >= 0")
        value = self.optimistic_initial_value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise InputError("field optimistic_initial_value must be a number in [0, 1]")
        return BanditConfig(float(self.epsilon), int(self.min_initial_samples), float(value))


@dataclass(frozen=True)
class ArmStats:
    recipe_id: str
    pulls: int = 0
    explored_pulls: int = 0
    reward_sum: float = 0.0
    reward_count: int = 0
    feedback_total: int = 0

    @property
    def mean_reward(self) -> float | None:
        return self.reward_sum / self.reward_count if self.reward_count else None


@dataclass(frozen=True)
class Selection:
    recipe_id: str
    policy: str  # "epsilon_greedy", or "fixed" when BANDIT_ENABLED=0
    explored: bool
    probability: float  # the probability this arm had of being chosen by this draw
    epsilon: float


def compute_estimate(arm: ArmStats, config: BanditConfig) -> float:
    """The value the policy exploits: the mean reward, or the prior while an arm has fewer than
    min_initial_samples rewards (or none at all)."""
    if arm.reward_count == 0 or arm.reward_count < config.min_initial_samples:
        return config.optimistic_initial_value
    return arm.reward_sum / arm.reward_count


def compute_selection(arms: Sequence[ArmStats], config: BanditConfig, rng: random.Random) -> Selection:
    """Epsilon-greedy: with probability epsilon a uniform pick (explored=True), else the best
    estimate, ties broken uniformly at random. Pure given `rng`."""
    if not arms:
        raise ValueError("compute_selection needs at least one arm")
    estimates = [compute_estimate(arm, config) for arm in arms]
    top = max(estimates)
    best = [arm for arm, value in zip(arms, estimates) if top - value <= TIE_TOLERANCE]
    explored = rng.random() < config.epsilon
    chosen = rng.choice(list(arms)) if explored else rng.choice(best)
    probability = config.epsilon / len(arms)
    if chosen in best:
        probability += (1.0 - config.epsilon) / len(best)
    return Selection(chosen.recipe_id, "epsilon_greedy", explored, probability, config.epsilon)


def compute_fixed_selection(recipe_id: str, config: BanditConfig) -> Selection:
    """BANDIT_ENABLED=0: always the default recipe."""
    return Selection(recipe_id, "fixed", False, 1.0, config.epsilon)


# --------------------------------------------------------------------------- SQLite store

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
        self._write([("INSERT INTO config(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                      (key, float(value))) for key, value in asdict(config).items()])
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
        if hit:
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
        return MetricsSnapshot(config, selections, [tuple(a) for a in arms], histograms, counters)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


# --------------------------------------------------------------------------- service

@dataclass
class ChooseResult:
    selection_id: str
    assistant: str
    category: str
    recipe_id: str
    policy: str
    explored: bool
    probability: float
    epsilon: float
    bandit_enabled: bool
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_reward(reward: Any) -> float:
    if isinstance(reward, bool) or not isinstance(reward, (int, float)) or math.isnan(float(reward)):
        raise RewardOutOfRangeError("field reward must be a number in [0, 1]")
    if not 0.0 <= float(reward) <= 1.0:
        raise RewardOutOfRangeError(f"field reward must be in [0, 1] (got {reward:g})")
    return float(reward)


class Bandit:
    """Selections, feedback, tuning and backfill over the current recipes, with events in the log."""

    def __init__(self, settings: Settings, recipes: RecipeStore, *, store: BanditStore | None = None,
                 sink: EventSink | None = None, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.recipes = recipes
        self.store = store or BanditStore(settings.paths.bandit_db)
        self.sink = sink or EventSink(settings.paths.log)
        self.rng = rng or random.Random(int.from_bytes(os.urandom(8), "big"))

    @property
    def enabled(self) -> bool:
        return self.settings.bandit_enabled

    def arm_ids(self, assistant: str, category: str) -> list[str]:
        recipes = self.recipes.get().for_pair(assistant, category)
        if not recipes:
            pairs = ", ".join(f"{a}/{c}" for a, c in self.recipes.get().pairs()) or "none"
            raise UnknownArmError(f"no recipes for assistant {assistant!r} and category {category!r} "
                                  f"(known pairs: {pairs})")
        return [r.id for r in recipes]

    def choose(self, assistant: str, category: str, *, session_id: str | None = None,
               message_id: str | None = None) -> ChooseResult:
        """Pick a recipe for the pair, count it and log a bandit_selection event."""
        started = time.perf_counter()
        ids = self.arm_ids(assistant, category)
        config = self.store.load_config()
        if self.enabled:
            arms, hit = self.store.load_arms(assistant, category, ids)
            selection = compute_selection(arms, config, self.rng)
        else:
            hit = None
            selection = compute_fixed_selection(ids[0], config)
        elapsed = self.store.record_selection(assistant, category, selection, started=started, cache_hit=hit)
        selection_id = message_id or new_id()
        self.sink.append(BanditSelectionEvent(
            message_id=selection_id, session_id=session_id, assistant=assistant, category=category,
            recipe_id=selection.recipe_id, policy=selection.policy, explored=selection.explored,
            probability=round(selection.probability, 6), epsilon=selection.epsilon))
        return ChooseResult(selection_id, assistant, category, selection.recipe_id, selection.policy,
                            selection.explored, selection.probability, selection.epsilon, self.enabled,
                            round(elapsed * 1000, 3))

    def feedback(self, assistant: str, category: str, recipe_id: str, reward: Any, *,
                 message_id: str | None = None, session_id: str | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        value = _check_reward(reward)
        if recipe_id not in self.arm_ids(assistant, category):
            raise UnknownArmError(f"recipe {recipe_id!r} is not an arm of {assistant}/{category} "
                                  f"(arms: {', '.join(self.arm_ids(assistant, category))})")
        elapsed = self.store.record_feedback(assistant, category, recipe_id, value, started=started)
        self.sink.append(FeedbackEvent(message_id=message_id, session_id=session_id, assistant=assistant,
                                       category=category, recipe_id=recipe_id, reward=value))
        return {"ok": True, "assistant": assistant, "category": category, "recipe_id": recipe_id,
                "reward": value, "latency_ms": round(elapsed * 1000, 3)}

    def configure(self, **changes: Any) -> BanditConfig:
        unknown = set(changes) - {"epsilon", "min_initial_samples", "optimistic_initial_value"}
        if unknown:
            raise InputError(f"unknown bandit_config field(s): {', '.join(sorted(unknown))}")
        current = self.store.load_config()
        updated = self.store.save_config(replace(current, **{k: v for k, v in changes.items() if v is not None}))
        log.info("bandit config: epsilon=%g min_initial_samples=%d optimistic_initial_value=%g",
                 updated.epsilon, updated.min_initial_samples, updated.optimistic_initial_value)
        return updated

    def stats(self, assistant: str | None = None, category: str | None = None) -> dict[str, Any]:
        """Per-arm pulls, explored share and mean reward, with the current epsilon and config."""
        config = self.store.load_config()
        recorded = {(a, c, s.recipe_id): s for a, c, s in self.store.load_all_arms()}
        keys = set(recorded)
        for recipe in self.recipes.get().recipes.values():
            keys.add((recipe.assistant, recipe.category, recipe.id))
        arms = []
        for a, c, rid in sorted(keys):
            if (assistant and a != assistant) or (category and c != category):
                continue
            s = recorded.get((a, c, rid), ArmStats(rid))
            arms.append({"assistant": a, "category": c, "recipe_id": rid, "pulls": s.pulls,
                         "explored_pulls": s.explored_pulls,
                         "explored_share": round(s.explored_pulls / s.pulls, 4) if s.pulls else None,
                         "reward_sum": round(s.reward_sum, 6), "reward_count": s.reward_count,
                         "mean_reward": round(s.mean_reward, 6) if s.mean_reward is not None else None,
                         "estimate": round(compute_estimate(s, config), 6),
                         "feedback_total": s.feedback_total})
        pulls = sum(a["pulls"] for a in arms)
        explored = sum(a["explored_pulls"] for a in arms)
        return {"enabled": self.enabled, "epsilon": config.epsilon,
                "min_initial_samples": config.min_initial_samples,
                "optimistic_initial_value": config.optimistic_initial_value,
                "cache_ttl_seconds": self.store.ttl_s,
                "totals": {"selections": pulls, "explored": explored,
                           "explored_share": round(explored / pulls, 4) if pulls else None},
                "arms": arms}

    def backfill(self, assistant: str, category: str, recipe_id: str | None = None) -> dict[str, Any]:
        """Rebuild arm statistics of a pair from the provenance log's bandit_selection and feedback
        events (the current log; rotated archives are history that was already counted)."""
        ids = self.arm_ids(assistant, category)
        if recipe_id is not None and recipe_id not in ids:
            raise UnknownArmError(f"recipe {recipe_id!r} is not an arm of {assistant}/{category}")
        wanted = [recipe_id] if recipe_id else ids
        result = read_events(self.settings.paths.log, event_types={"bandit_selection", "feedback"})
        acc = {rid: {"pulls": 0, "explored_pulls": 0, "reward_sum": 0.0, "reward_count": 0} for rid in wanted}
        used = 0
        for event in result.events:
            rid = event.get("recipe_id")
            if event.get("assistant") != assistant or event.get("category") != category or rid not in acc:
                continue
            if event["event_type"] == "bandit_selection":
                acc[rid]["pulls"] += 1
                acc[rid]["explored_pulls"] += 1 if event.get("explored") else 0
                used += 1
            else:
                reward = event.get("reward")
                if isinstance(reward, (int, float)) and not isinstance(reward, bool) and 0 <= reward <= 1:
                    acc[rid]["reward_sum"] += float(reward)
                    acc[rid]["reward_count"] += 1
                    used += 1
        self.store.replace_arms(assistant, category, {rid: ArmStats(rid, **v) for rid, v in acc.items()})
        return {"assistant": assistant, "category": category, "events_used": used,
                "events_scanned": len(result.events), "unreadable_lines": result.unreadable,
                "arms": [{"recipe_id": rid, **v} for rid, v in acc.items()]}


# --------------------------------------------------------------------------- read-only views

def load_bandit_stats(settings: Settings) -> dict[str, Any]:
    """The same view as GET /bandit_stats, read straight from the database (for the dashboard and
    the CLI: no server needed, nothing written)."""
    store = BanditStore(settings.paths.bandit_db, readonly=True)
    try:
        return Bandit(settings, RecipeStore(settings), store=store).stats()
    finally:
        store.close()


def compute_arm_table(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per arm for display: pulls, exploit pulls, mean reward and explored share next to
    epsilon (an arm's explored share is high when it is rarely the exploit pick)."""
    rows = []
    for arm in stats["arms"]:
        rows.append({"assistant": arm["assistant"], "category": arm["category"], "recipe_id": arm["recipe_id"],
                     "pulls": arm["pulls"], "explored_pulls": arm["explored_pulls"],
                     "exploit_pulls": arm["pulls"] - arm["explored_pulls"],
                     "mean_reward": arm["mean_reward"], "rewards": arm["reward_count"],
                     "explored_share": arm["explored_share"], "epsilon": stats["epsilon"]})
    return rows
