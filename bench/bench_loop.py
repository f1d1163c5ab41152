"""Does the closed loop pay off? Simulated traffic per bucket, the fixed-boundary ends, router latency.

Runs `simulate` on the simulator in throw-away data dirs and prints medians over --repeats seeds:
accuracy (the simulator's ground truth: right final answers), mean quality, share of main-model
calls, p50/p95 (modelled) latency per bucket, plus a fixed boundary of 0 (always main) and 1 (always
embedder); then the router's decision time in µs.
Usage: .venv/bin/python bench/bench_loop.py [--n 3000] [--repeats 3] [--shadow-rate 0.05]
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.loop.engine import Engine  # noqa: E402
from engine.loop.simulate import run_simulation  # noqa: E402
from engine.providers.sim_world import generate_questions  # noqa: E402
from engine.routing.adaptive import AdaptiveConfig  # noqa: E402
from engine.routing.routers import get_router  # noqa: E402
from engine.settings import build_settings  # noqa: E402

SHADOW_RATE = 0.05  # the engine's default; --shadow-rate changes it through AIOS_SHADOW_RATE


def run_arm(n: int, seed: int, *, boundary: float | None, adaptive: bool = True) -> dict[str, dict[str, float]]:
    """One simulation in a fresh data dir; boundary None = the A/B test (adaptive or kill switch), else fixed."""
    with tempfile.TemporaryDirectory() as folder:
        settings = build_settings(aios_data_dir=Path(folder), aios_provider="sim", aios_sim_latency_scale=0,
                                  aios_adaptive_enabled=boundary is None and adaptive,
                                  aios_shadow_rate=float(os.environ.get("AIOS_SHADOW_RATE", SHADOW_RATE)))
        config = AdaptiveConfig() if boundary is None else AdaptiveConfig(control_boundary=boundary)
        engine = Engine(settings, config=config)
        try:
            summary = run_simulation(engine, n, seed=seed)
        finally:
            engine.close()
    rows = {}
    for name, b in summary.buckets.items():
        rows[name] = {"accuracy": b.accuracy or 0.0, "quality": b.mean_quality, "main": b.main_share,
                      "p50": b.p50_latency_ms,
                      "p95": b.p95_latency_ms, "n": b.questions, "boundary": b.boundary_end}
    rows["_"] = {"adaptations": summary.adaptations, "drift": summary.final_drift, "max_drift": summary.max_drift}
    return rows


def median_rows(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def bench_router(count: int, repeats: int = 5) -> tuple[float, float]:
    """p50/p99 over questions of each question's median decision time (GC off): the cost of the
    question, not of the scheduler preempting this process on a busy machine."""
    router = get_router("complexity")
    questions = generate_questions(count, seed=7)
    per_question = []
    gc.disable()
    try:
        for q in questions:
            samples = []
            for _ in range(repeats):
                start = time.perf_counter_ns()
                router.decide(q.question, q.trait, 0.5)
                samples.append((time.perf_counter_ns() - start) / 1000)
            per_question.append(statistics.median(samples))
    finally:
        gc.enable()
    per_question.sort()
    return per_question[len(per_question) // 2], per_question[int(len(per_question) * 0.99)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="questions per simulation")
    parser.add_argument("--repeats", type=int, default=3, help="seeds per arm (medians are printed)")
    parser.add_argument("--shadow-rate", type=float, default=SHADOW_RATE,
                        help="AIOS_SHADOW_RATE for the runs (default 0.05, the engine's default)")
    args = parser.parse_args()
    os.environ["AIOS_SHADOW_RATE"] = str(args.shadow_rate)
    os.environ.setdefault("AIOS_PROVIDER", "sim")
    seeds = list(range(args.repeats))
    arms: list[tuple[str, dict[str, float]]] = []
    adaptive = [run_arm(args.n, s, boundary=None) for s in seeds]
    arms.append(("control (boundary 0.5)", median_rows([r["control"] for r in adaptive])))
    treatment = median_rows([r["treatment"] for r in adaptive])
    arms.append((f"treatment (adaptive, ends {treatment['boundary']:.3f})", treatment))
    # The same sessions and questions with the kill switch: treatment's traffic at boundary 0.5.
    killed = [run_arm(args.n, s, boundary=None, adaptive=False) for s in seeds]
    arms.append(("treatment, kill switch (same traffic)", median_rows([r["treatment"] for r in killed])))
    for fixed in (0.0, 1.0):  # 1 is nudged past 1.0 so that a score of exactly 1 also goes to the embedder
        runs = [run_arm(args.n, s, boundary=fixed if fixed < 1 else math.nextafter(1.0, 2.0)) for s in seeds]
        merged = median_rows([r["control"] for r in runs] + [r["treatment"] for r in runs])
        arms.append((f"fixed boundary {fixed:g} ({'always main' if fixed == 0 else 'always embedder'})", merged))
    print(f"closed loop on the simulator: {args.n} questions x {args.repeats} seeds (medians), "
          f"shadow rate {args.shadow_rate:g}\n")
    print(f"| {'arm':<40} | {'questions':>9} | {'accuracy':>8} | {'mean quality':>12} | {'main calls':>10} "
          f"| {'p50 ms':>8} | {'p95 ms':>8} |")
    print(f"|{'-' * 42}|{'-' * 11}|{'-' * 10}|{'-' * 14}|{'-' * 12}|{'-' * 10}|{'-' * 10}|")
    for name, row in arms:
        print(f"| {name:<40} | {row['n']:>9.0f} | {100 * row['accuracy']:>7.1f}% | {row['quality']:>12.4f} "
              f"| {100 * row['main']:>9.1f}% | {row['p50']:>8.0f} | {row['p95']:>8.0f} |")
    control, treat, same = arms[0][1], arms[1][1], arms[2][1]
    meta = median_rows([r["_"] for r in adaptive])
    rel = (treat["quality"] - control["quality"]) / control["quality"]
    paired = (treat["quality"] - same["quality"]) / same["quality"]
    print(f"\ntreatment vs control: accuracy {100 * (treat['accuracy'] - control['accuracy']):+.1f} points "
          f"(aim: within 1 point), main calls {100 * (treat['main'] - control['main']):+.1f} points "
          f"(aim: at least 10 fewer)")
    print(f"treatment vs control: quality {100 * rel:+.2f} % (target within 1 %), main calls "
          f"{100 * (treat['main'] - control['main']):+.1f} points; adaptations {meta['adaptations']:.0f}, "
          f"drift at end {meta['drift']:.4f}, max {meta['max_drift']:.4f} (SLO 0.08)")
    print(f"treatment vs its own traffic at 0.5 (paired): quality {100 * paired:+.2f} %, main calls "
          f"{100 * (treat['main'] - same['main']):+.1f} points")
    p50, p99 = bench_router(20000)
    print(f"\nrouter decision (complexity, 20,000 demo questions, median of 5 per question): "
          f"p50 {p50:.1f} µs, p99 {p99:.1f} µs (target: p99 well under 100 µs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
