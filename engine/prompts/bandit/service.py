"""The bandit service behind /choose, /feedback, /bandit_stats, /bandit_config, /bandit_backfill:
selections and rewards over the current recipes, counted in the store and logged as events."""

from __future__ import annotations

import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from engine.errors import InputError
from engine.prompts.bandit.policy import (
    ArmStats,
    BanditConfig,
    compute_estimate,
    compute_fixed_selection,
    compute_selection,
)
from engine.prompts.bandit.store import BanditStore
from engine.prompts.store import RecipeStore
from engine.provenance import BanditSelectionEvent, EventSink, FeedbackEvent, new_id
from engine.provenance.reader import read_log
from engine.settings import Settings

log = logging.getLogger(__name__)


class UnknownArmError(InputError):
    """No recipe of that id for that (assistant, category), or no recipe at all for the pair."""

    code = "UNKNOWN_ARM"


class RewardOutOfRangeError(InputError):
    code = "REWARD_OUT_OF_RANGE"


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
        arms: list[dict[str, Any]] = []
        pulls = explored = 0
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
            pulls += s.pulls
            explored += s.explored_pulls
        return {"enabled": self.enabled, "epsilon": config.epsilon,
                "min_initial_samples": config.min_initial_samples,
                "optimistic_initial_value": config.optimistic_initial_value,
                "cache_ttl_seconds": self.store.ttl_s,
                "totals": {"selections": pulls, "explored": explored,
                           "explored_share": round(explored / pulls, 4) if pulls else None},
                "arms": arms}

    def backfill(self, assistant: str, category: str, recipe_id: str | None = None) -> dict[str, Any]:
        """Rebuild arm statistics of a pair from the provenance log's bandit_selection and feedback
        events (the current log, the file or the PostgreSQL store in use; rotated archives are history
        that was already counted)."""
        ids = self.arm_ids(assistant, category)
        if recipe_id is not None and recipe_id not in ids:
            raise UnknownArmError(f"recipe {recipe_id!r} is not an arm of {assistant}/{category}")
        wanted = [recipe_id] if recipe_id else ids
        result = read_log(self.settings.paths.log, event_types={"bandit_selection", "feedback"})
        pulls = dict.fromkeys(wanted, 0)
        explored = dict.fromkeys(wanted, 0)
        reward_sum = dict.fromkeys(wanted, 0.0)
        reward_count = dict.fromkeys(wanted, 0)
        used = 0
        for event in result.events:
            rid = event.get("recipe_id")
            if event.get("assistant") != assistant or event.get("category") != category or rid not in pulls:
                continue
            if event["event_type"] == "bandit_selection":
                pulls[rid] += 1
                explored[rid] += 1 if event.get("explored") else 0
                used += 1
            else:
                reward = event.get("reward")
                if isinstance(reward, (int, float)) and not isinstance(reward, bool) and 0 <= reward <= 1:
                    reward_sum[rid] += float(reward)
                    reward_count[rid] += 1
                    used += 1
        stats = {rid: ArmStats(rid, pulls[rid], explored[rid], reward_sum[rid], reward_count[rid]) for rid in wanted}
        self.store.replace_arms(assistant, category, stats)
        return {"assistant": assistant, "category": category, "events_used": used,
                "events_scanned": len(result.events), "unreadable_lines": result.unreadable,
                "arms": [{"recipe_id": rid, "pulls": a.pulls, "explored_pulls": a.explored_pulls,
                          "reward_sum": a.reward_sum, "reward_count": a.reward_count} for rid, a in stats.items()]}


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
