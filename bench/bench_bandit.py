"""Cumulative regret of the epsilon-greedy recipe bandit on simulated Bernoulli rewards, against
random choice and against always picking the best recipe (medians over seeds).

    .venv/bin/python bench/bench_bandit.py [--rounds 5000] [--seeds 20] [--epsilons 0.05,0.1,0.2]

The policy is engine.prompts.bandit.compute_selection (the one the service runs); one extra run goes
through the full service (SQLite stats, TTL cache, events) in a temporary data dir to show it
behaves the same.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.prompts.bandit import ArmStats, Bandit, BanditConfig, compute_selection  # noqa: E402

TRUTH = {"recipe.a": 0.30, "recipe.b": 0.45, "recipe.c": 0.50, "recipe.d": 0.80}
CHECKPOINTS = (100, 300, 1000, 3000, 5000, 10000)


def run_policy(epsilon: float, rounds: int, seed: int) -> dict:
    rng, env = random.Random(seed), random.Random(seed + 10_000)
    stats = {rid: [0, 0.0, 0] for rid in TRUTH}  # pulls, reward_sum, reward_count
    best = max(TRUTH.values())
    regret, curve, explored, exploit_best, exploit = 0.0, {}, 0, 0, 0
    config = BanditConfig(epsilon=epsilon)
    for t in range(1, rounds + 1):
        arms = [ArmStats(rid, pulls=s[0], reward_sum=s[1], reward_count=s[2]) for rid, s in stats.items()]
        pick = compute_selection(arms, config, rng)
        reward = 1.0 if env.random() < TRUTH[pick.recipe_id] else 0.0
        s = stats[pick.recipe_id]
        s[0] += 1
        s[1] += reward
        s[2] += 1
        regret += best - TRUTH[pick.recipe_id]  # expected regret: no reward noise in the curve
        explored += pick.explored
        if not pick.explored and t > 300:
            exploit += 1
            exploit_best += pick.recipe_id == "recipe.d"
        if t in CHECKPOINTS:
            curve[t] = regret
    return {"curve": curve, "explored_share": explored / rounds,
            "best_share_of_exploit_after_300": exploit_best / exploit if exploit else 0.0}


def run_service(rounds: int, epsilon: float) -> dict:
    """The same experiment through the real Bandit service and its SQLite database."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "recipes").mkdir()
        for rid in TRUTH:
            (folder / "recipes" / f"{rid}.json").write_text(
                json.dumps({"id": rid, "assistant": "bench", "category": "sim", "system_prompt": f"You are {rid}."}))
        os.environ.update({"AIOS_DATA_DIR": tmp, "BANDIT_ENABLED": "1", "AIOS_PROVIDER": "sim"})
        from engine.prompts.store import RecipeStore
        from engine.settings import build_settings
        settings = build_settings()
        bandit = Bandit(settings, RecipeStore(settings), rng=random.Random(1))
        bandit.configure(epsilon=epsilon)
        env, best, regret, explored = random.Random(2), max(TRUTH.values()), 0.0, 0
        started = time.perf_counter()
        for _ in range(rounds):
            pick = bandit.choose("bench", "sim")
            explored += pick.explored
            regret += best - TRUTH[pick.recipe_id]
            bandit.feedback("bench", "sim", pick.recipe_id, 1.0 if env.random() < TRUTH[pick.recipe_id] else 0.0)
        elapsed = time.perf_counter() - started
        bandit.store.close()
        bandit.sink.close()
    return {"regret": regret, "explored_share": explored / rounds, "ms_per_round": elapsed / rounds * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--epsilons", default="0.05,0.1,0.2")
    parser.add_argument("--service-rounds", type=int, default=2000)
    args = parser.parse_args()
    epsilons = [float(e) for e in args.epsilons.split(",")]
    best = max(TRUTH.values())
    mean = sum(TRUTH.values()) / len(TRUTH)
    points = [c for c in CHECKPOINTS if c <= args.rounds]

    print(f"arms (true reward rate): {TRUTH}; {args.rounds} rounds, median of {args.seeds} seeds")
    print("cumulative expected regret against always picking the best recipe (lower is better)")
    header = f"{'policy':<22}" + "".join(f"{f't={p}':>10}" for p in points) + f"{'explored':>10}{'best|exploit':>14}"
    print(header)
    print(f"{'random choice':<22}" + "".join(f"{(best - mean) * p:>10.1f}" for p in points) + f"{'1.000':>10}{'-':>14}")
    all_runs = {eps: [run_policy(eps, args.rounds, seed) for seed in range(args.seeds)] for eps in epsilons}
    for eps, runs in all_runs.items():
        med = {p: statistics.median(r["curve"][p] for r in runs) for p in points}
        share = statistics.median(r["explored_share"] for r in runs)
        best_share = statistics.median(r["best_share_of_exploit_after_300"] for r in runs)
        print(f"{f'epsilon-greedy e={eps:g}':<22}" + "".join(f"{med[p]:>10.1f}" for p in points)
              + f"{share:>10.3f}{best_share:>14.3f}")
    print(f"{'always best':<22}" + "".join(f"{0.0:>10.1f}" for _ in points))
    print()
    print("regret saved against random choice at the last checkpoint (higher is better):")
    last = points[-1]
    for eps, runs in all_runs.items():
        med = statistics.median(r["curve"][last] for r in runs)
        print(f"  e={eps:g}: random {(best - mean) * last:.1f} - bandit {med:.1f} = {(best - mean) * last - med:.1f}")
    if args.service_rounds:
        result = run_service(args.service_rounds, 0.2)
        print()
        print(f"full service (SQLite, TTL cache, events), e=0.2, {args.service_rounds} rounds: regret "
              f"{result['regret']:.1f} (random {(best - mean) * args.service_rounds:.1f}), explored share "
              f"{result['explored_share']:.3f}, {result['ms_per_round']:.2f} ms per choose+feedback")
    return 0


if __name__ == "__main__":
    sys.exit(main())
