"""The recipe bandit: the pure epsilon-greedy policy, its SQLite statistics shared by processes,
tuning, backfill from the log, and the BANDIT_ENABLED=0 default."""

from __future__ import annotations

import json
import multiprocessing
import random
from collections import Counter

import pytest

from engine.errors import InputError
from engine.prompts.bandit import (
    LATENCY_BUCKETS,
    ArmStats,
    Bandit,
    BanditConfig,
    BanditStore,
    RewardOutOfRangeError,
    UnknownArmError,
    bucket_index,
    compute_estimate,
    compute_selection,
)
from engine.prompts.store import RecipeStore
from engine.provenance import read_events
from engine.settings import build_settings

CODING = ("chatgpt", "coding")
CODING_ARMS = ["chatgpt.coding.baseline", "chatgpt.coding.assisted", "chatgpt.coding.stepwise"]


def make_bandit(monkeypatch, enabled: bool = True, seed: int = 7, ttl_s: float = 1.0) -> Bandit:
    monkeypatch.setenv("BANDIT_ENABLED", "1" if enabled else "0")
    settings = build_settings()
    store = BanditStore(settings.paths.bandit_db, ttl_s=ttl_s)
    return Bandit(settings, RecipeStore(settings), store=store, rng=random.Random(seed))


# ----------------------------------------------------------------------------- pure policy

def test_explored_share_tracks_epsilon_over_10000_pure_selections():
    arms = [ArmStats("a", reward_sum=5, reward_count=10), ArmStats("b"), ArmStats("c", reward_sum=9, reward_count=10)]
    rng = random.Random(1)
    picks = [compute_selection(arms, BanditConfig(epsilon=0.2), rng) for _ in range(10_000)]
    share = sum(p.explored for p in picks) / len(picks)
    assert 0.18 <= share <= 0.22
    exploit = Counter(p.recipe_id for p in picks if not p.explored)
    assert set(exploit) == {"c"}  # mean 0.9 beats the 0.5 prior of "b" and the 0.5 mean of "a"


def test_probability_is_the_chance_the_draw_had():
    arms = [ArmStats("a", reward_sum=9, reward_count=10), ArmStats("b", reward_sum=1, reward_count=10)]
    rng = random.Random(3)
    config = BanditConfig(epsilon=0.2)
    seen = {(s.recipe_id, round(s.probability, 6)) for s in (compute_selection(arms, config, rng) for _ in range(500))}
    # best arm: 0.2/2 + 0.8 = 0.9; the other is only reachable by exploring: 0.2/2 = 0.1
    assert seen == {("a", 0.9), ("b", 0.1)}


def test_ties_are_broken_at_random():
    arms = [ArmStats(name) for name in "xyz"]  # all valued at the prior
    rng = random.Random(5)
    picks = Counter(compute_selection(arms, BanditConfig(epsilon=0.0), rng).recipe_id for _ in range(3000))
    assert set(picks) == {"x", "y", "z"}
    assert all(800 <= n <= 1200 for n in picks.values()), picks


def test_prior_holds_until_min_initial_samples():
    config = BanditConfig(min_initial_samples=5, optimistic_initial_value=0.7)
    assert compute_estimate(ArmStats("a", reward_sum=0.4, reward_count=4), config) == 0.7
    assert compute_estimate(ArmStats("a", reward_sum=0.5, reward_count=5), config) == pytest.approx(0.1)
    assert compute_estimate(ArmStats("a"), BanditConfig(min_initial_samples=0, optimistic_initial_value=0.3)) == 0.3


@pytest.mark.parametrize("bad", [{"epsilon": 1.5}, {"epsilon": -0.1}, {"epsilon": True},
                                 {"min_initial_samples": -1}, {"min_initial_samples": 2.5},
                                 {"optimistic_initial_value": 3}])
def test_config_validation(bad):
    with pytest.raises(InputError):
        BanditConfig(**{**BanditConfig().__dict__, **bad}).validated()


def test_bucket_index_edges():
    assert bucket_index(0.0) == 0
    assert bucket_index(LATENCY_BUCKETS[0]) == 0
    assert bucket_index(LATENCY_BUCKETS[-1] * 10) == len(LATENCY_BUCKETS)


# ----------------------------------------------------------------------------- the service

def test_10000_selections_through_the_service_explore_at_epsilon(monkeypatch):
    bandit = make_bandit(monkeypatch)
    bandit.configure(epsilon=0.2)
    results = [bandit.choose(*CODING) for _ in range(10_000)]
    share = sum(r.explored for r in results) / len(results)
    assert 0.18 <= share <= 0.22
    stats = bandit.stats(*CODING)
    assert stats["epsilon"] == 0.2
    assert stats["totals"]["selections"] == 10_000
    assert stats["totals"]["explored_share"] == pytest.approx(share, abs=1e-4)
    events = read_events(bandit.settings.paths.log, event_types={"bandit_selection"}).events
    assert len(events) == 10_000
    assert all(e["policy"] == "epsilon_greedy" and 0 < e["probability"] <= 1 for e in events)
    assert sum(e["explored"] for e in events) == sum(r.explored for r in results)


def test_a_clearly_better_recipe_gets_over_90_percent_of_exploit_picks(monkeypatch):
    bandit = make_bandit(monkeypatch, seed=11)
    bandit.configure(epsilon=0.2)
    truth = {"chatgpt.coding.baseline": 0.35, "chatgpt.coding.assisted": 0.4, "chatgpt.coding.stepwise": 0.8}
    rewards = random.Random(2)
    for _ in range(300):  # a few hundred feedbacks
        pick = bandit.choose(*CODING)
        bandit.feedback(*CODING, pick.recipe_id, 1.0 if rewards.random() < truth[pick.recipe_id] else 0.0)
    later = [bandit.choose(*CODING) for _ in range(1000)]
    exploit = [r.recipe_id for r in later if not r.explored]
    assert exploit.count("chatgpt.coding.stepwise") / len(exploit) > 0.9


def test_disabled_bandit_serves_the_fixed_default_and_still_counts(monkeypatch):
    bandit = make_bandit(monkeypatch, enabled=False)
    picks = {bandit.choose(*CODING).recipe_id for _ in range(50)}
    assert picks == {"chatgpt.coding.baseline"}  # the recipe marked "default": true
    result = bandit.choose(*CODING)
    assert (result.policy, result.explored, result.probability, result.bandit_enabled) == ("fixed", False, 1.0, False)
    snapshot = bandit.store.load_snapshot()
    assert snapshot.selections == [("chatgpt", "coding", "chatgpt.coding.baseline", "fixed", False, 51)]


def test_feedback_validation(monkeypatch):
    bandit = make_bandit(monkeypatch)
    for bad in (7, -0.1, True, "0.5", float("nan")):
        with pytest.raises(RewardOutOfRangeError):
            bandit.feedback(*CODING, "chatgpt.coding.baseline", bad)
    with pytest.raises(UnknownArmError):
        bandit.feedback(*CODING, "chatgpt.general.baseline", 0.5)  # a recipe, but of another pair
    with pytest.raises(UnknownArmError):
        bandit.choose("chatgpt", "astrology")
    bandit.feedback(*CODING, "chatgpt.coding.baseline", 1)
    arm = next(a for a in bandit.stats(*CODING)["arms"] if a["recipe_id"] == "chatgpt.coding.baseline")
    assert (arm["reward_count"], arm["mean_reward"], arm["feedback_total"]) == (1, 1.0, 1)


def test_config_is_shared_with_another_store_after_the_ttl(monkeypatch):
    bandit = make_bandit(monkeypatch)
    now = [0.0]
    other = BanditStore(bandit.settings.paths.bandit_db, ttl_s=1.0, clock=lambda: now[0])
    assert other.load_config().epsilon == 0.1
    bandit.configure(epsilon=0.3, optimistic_initial_value=0.9)
    assert other.load_config().epsilon == 0.1  # still cached
    now[0] = 1.5
    assert (other.load_config().epsilon, other.load_config().optimistic_initial_value) == (0.3, 0.9)
    with pytest.raises(InputError):
        bandit.configure(epsilon=2)
    with pytest.raises(InputError):
        bandit.configure(temperature=1)


def test_ttl_cache_answers_repeated_reads_and_is_counted(monkeypatch):
    bandit = make_bandit(monkeypatch, ttl_s=60)
    for _ in range(20):
        bandit.choose(*CODING)
    counters = bandit.store.load_snapshot().counters
    assert counters == {"cache_miss": 1, "cache_hit": 19}


def test_backfill_rebuilds_stats_from_the_log(monkeypatch):
    bandit = make_bandit(monkeypatch)
    for reward in (1.0, 0.0, 1.0):
        pick = bandit.choose(*CODING)
        bandit.feedback(*CODING, pick.recipe_id, reward)
    before = {a["recipe_id"]: (a["pulls"], a["reward_count"], a["reward_sum"]) for a in bandit.stats(*CODING)["arms"]}
    bandit.store.close()
    bandit.settings.paths.bandit_db.unlink()
    for suffix in ("-wal", "-shm"):
        bandit.settings.paths.bandit_db.with_name(bandit.settings.paths.bandit_db.name + suffix).unlink(missing_ok=True)
    fresh = make_bandit(monkeypatch)
    assert all(a["pulls"] == 0 for a in fresh.stats(*CODING)["arms"])
    report = fresh.backfill(*CODING)
    assert report["events_used"] == 6
    after = {a["recipe_id"]: (a["pulls"], a["reward_count"], a["reward_sum"]) for a in fresh.stats(*CODING)["arms"]}
    assert after == before
    with pytest.raises(UnknownArmError):
        fresh.backfill(*CODING, recipe_id="nope")


def _worker(n: int) -> None:
    settings = build_settings()
    bandit = Bandit(settings, RecipeStore(settings))
    for i in range(n):
        pick = bandit.choose(*CODING)
        bandit.feedback(*CODING, pick.recipe_id, (i % 2) * 1.0)


def test_two_processes_never_lose_an_update(monkeypatch):
    monkeypatch.setenv("BANDIT_ENABLED", "1")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(150,)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    settings = build_settings()
    snapshot = BanditStore(settings.paths.bandit_db).load_snapshot()
    assert sum(row[-1] for row in snapshot.selections) == 300
    assert sum(row[4] for row in snapshot.arms) == 300  # reward_count
    assert sum(row[3] for row in snapshot.arms) == 150.0  # half the rewards were 1
    assert snapshot.histograms["selection"][2] == 300
    lines = settings.paths.log.read_text().splitlines()
    assert len(lines) == 600
    assert all(json.loads(line)["event_type"] in ("bandit_selection", "feedback") for line in lines)
