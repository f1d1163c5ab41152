"""Routing quality on a public benchmark: APGR of every registered router against simple baselines.

    .venv/bin/python bench/bench_apgr.py                  # about 10 s
    .venv/bin/python bench/bench_apgr.py --features       # also APGR of each complexity feature alone

Data: bench/data/routing_benchmark.jsonl (GSM8K and MMLU questions with RouteLLM's published
correctness of gpt-4 as the strong/main model and mixtral-8x7b as the weak one; see
bench/data/README.md). APGR follows RouteLLM (engine/routing/evaluation.py): 1 = as good as always
calling the main model, 0 = the weak model alone, about 0.5 = a random score.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.routing import routers as routers_module  # noqa: E402
from engine.routing.evaluation import compute_apgr  # noqa: E402

DATA = REPO_ROOT / "bench" / "data" / "routing_benchmark.jsonl"
# The trait each part is asked in, when the routers know it; otherwise "general" (printed).
PREFERRED_TRAIT = {"gsm8k": "math", "mmlu": "general"}
BOUNDARY = 0.5   # the control bucket's fixed boundary (runbook 004)
TARGET = 0.6     # issue 3: the default scorer should beat ranking by length (about 0.59)


def load_benchmark(path: Path) -> list[dict]:
    """The benchmark's records; exits with the file and line when one is malformed."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
                record["question"], record["strong_correct"], record["weak_correct"]
            except (ValueError, KeyError) as exc:
                raise SystemExit(f"{path}:{number}: not a benchmark record ({exc})") from None
            records.append(record)
    return records


def trait_for(part: str) -> str:
    wanted = PREFERRED_TRAIT[part]
    known = getattr(routers_module, "TRAITS", ())
    return wanted if wanted in known else "general"


def scorers(records: list[dict]) -> dict[str, Callable[[], np.ndarray]]:
    """Baselines, then every registered router; each maps to a function returning its scores."""
    out: dict[str, Callable[[], np.ndarray]] = {
        # Character count: RouteLLM-style "longer is harder" with few ties.
        "baseline: length (chars)": lambda: np.array([len(r["question"]) for r in records], dtype=float),
    }
    for name in sorted(routers_module.ROUTERS):
        router = routers_module.get_router(name)
        out[f"router: {name}"] = (lambda router=router: np.array(
            [router.score(r["question"], trait_for(part_of(r))) for r in records], dtype=float))
    return out


def part_of(record: dict) -> str:
    return "gsm8k" if record["source"] == "gsm8k" else "mmlu"


def bootstrap_interval(scores: np.ndarray, strong: np.ndarray, weak: np.ndarray, rounds: int,
                       seed: int = 0) -> tuple[float, float]:
    """5th and 95th percentile of APGR over resamples of the questions (with replacement)."""
    rng = np.random.default_rng(seed)
    values = []
    n = len(scores)
    for _ in range(rounds):
        pick = rng.integers(0, n, n)
        if strong[pick].mean() == weak[pick].mean():
            continue
        values.append(compute_apgr(scores[pick], strong[pick], weak[pick]))
    return float(np.percentile(values, 5)), float(np.percentile(values, 95))


def compute_part(records: list[dict], seeds: int, rounds: int) -> dict:
    """Every scorer's APGR (RouteLLM thresholds and all thresholds), interval and boundary figures."""
    strong = np.array([r["strong_correct"] for r in records])
    weak = np.array([r["weak_correct"] for r in records])
    random_values = [compute_apgr(np.random.default_rng(seed).random(len(records)), strong, weak)
                     for seed in range(seeds)]
    rows = []
    for name, make in scorers(records).items():
        scores = make()
        main = scores >= BOUNDARY
        rows.append({"name": name, "apgr": compute_apgr(scores, strong, weak),
                     "apgr_all": compute_apgr(scores, strong, weak, num_thresholds=None),
                     "interval": bootstrap_interval(scores, strong, weak, rounds),
                     "distinct": len(np.unique(scores)),
                     # Only routers' scores live on the [0, 1] scale the boundary applies to.
                     "boundary": ((float(main.mean()), float(np.where(main, strong, weak).mean()))
                                  if name.startswith("router:") else None)})
    return {"n": len(records), "sources": len({r["source"] for r in records}),
            "strong": float(strong.mean()), "weak": float(weak.mean()), "seeds": seeds,
            "random_mean": float(np.mean(random_values)), "random_sd": float(np.std(random_values)),
            "rows": rows}


def render_part(title: str, part: dict) -> None:
    print(f"\n## {title}: {part['n']} questions ({part['sources']} source{'s' * (part['sources'] > 1)}), "
          f"main model correct {part['strong']:.1%}, weak model correct {part['weak']:.1%}")
    print(f"{'scorer':30s} {'APGR':>6s} {'APGR all':>8s} {'90% interval':>14s} {'distinct':>8s} "
          f"{'main@0.5':>8s} {'acc@0.5':>8s}")
    label = f"baseline: random ({part['seeds']} seeds)"
    spread = f"sd {part['random_sd']:.3f}"
    print(f"{label:30s} {part['random_mean']:6.3f} {'':>8s} {spread:>14s}")
    for row in part["rows"]:
        low, high = row["interval"]
        boundary = (f"{row['boundary'][0]:8.1%} {row['boundary'][1]:8.1%}" if row["boundary"] else "")
        print(f"{row['name']:30s} {row['apgr']:6.3f} {row['apgr_all']:8.3f} {f'{low:.2f}-{high:.2f}':>14s} "
              f"{row['distinct']:8d} {boundary}".rstrip())


def compute_features(parts: dict[str, list[dict]]) -> dict[str, dict[str, float | None]] | None:
    """APGR of each feature of the default scorer used alone as a score; None where it is constant."""
    router = routers_module.get_router("complexity")
    features = getattr(router, "features", None)
    if features is None:
        return None
    table: dict[str, dict[str, float | None]] = {}
    for part, records in parts.items():
        rows = [features(r["question"], trait_for(part_of(r))) for r in records]
        strong = np.array([r["strong_correct"] for r in records])
        weak = np.array([r["weak_correct"] for r in records])
        for name in rows[0]:
            values = np.array([f[name] for f in rows], dtype=float)
            # A constant feature cannot rank anything: its APGR would be 0.5 by construction.
            table.setdefault(name, {})[part] = (None if np.ptp(values) == 0
                                                else compute_apgr(values, strong, weak))
    return table


def render_features(table: dict[str, dict[str, float | None]] | None) -> None:
    if table is None:
        print("\nthe complexity router exposes no features(); nothing to break down")
        return
    print("\n## features of the default scorer, each alone as a score (APGR; 0.5 = no signal, "
          "'const' = the same value on every question of that part)")
    parts = list(next(iter(table.values())))
    print(f"{'feature':16s} " + " ".join(f"{part:>9s}" for part in parts))
    for name, cells in table.items():
        print(f"{name:16s} " + " ".join(f"{'const':>9s}" if cells[p] is None else f"{cells[p]:9.3f}"
                                        for p in parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, default=20, help="random-score seeds to average (default 20)")
    parser.add_argument("--bootstrap", type=int, default=200, help="resamples for the interval (default 200)")
    parser.add_argument("--features", action="store_true", help="also break the default scorer into features")
    args = parser.parse_args(argv)

    records = load_benchmark(args.data)
    parts = {"gsm8k": [r for r in records if part_of(r) == "gsm8k"],
             "mmlu": [r for r in records if part_of(r) == "mmlu"],
             "combined": records}
    shown = args.data.relative_to(REPO_ROOT) if args.data.is_relative_to(REPO_ROOT) else args.data
    print(f"routing benchmark: {shown}")
    print(f"traits: gsm8k -> {trait_for('gsm8k')}, mmlu -> {trait_for('mmlu')}; APGR = RouteLLM's 10 "
          f"quantile thresholds, 'APGR all' = every distinct score; interval = {args.bootstrap} "
          f"bootstrap resamples; main@0.5/acc@0.5 = share sent to the main model and accuracy at "
          f"boundary {BOUNDARY}")
    summary = {part: compute_part(recs, args.seeds, args.bootstrap) for part, recs in parts.items()}
    for part, result in summary.items():
        render_part(part, result)
    if args.features:
        render_features(compute_features(parts))
    combined = {row["name"]: row["apgr"] for row in summary["combined"]["rows"]}
    default = combined.get("router: complexity")
    if default is not None:
        verdict = "meets" if default > TARGET else "misses"
        print(f"\ndefault scorer (complexity), combined APGR {default:.3f}: {verdict} the target > {TARGET} "
              f"(length baseline {combined['baseline: length (chars)']:.3f}, "
              f"random {summary['combined']['random_mean']:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
