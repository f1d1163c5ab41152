"""The learned router and the default scorer on questions they were not tuned or trained on; the
learned router's speed; replay and optimize against fresh simulated runs.

    .venv/bin/python bench/bench_router.py --part split     # learned vs complexity/length/random, 5 seeds (~1 min)
    .venv/bin/python bench/bench_router.py --part default   # the default scorer on its tune and held-out halves
    .venv/bin/python bench/bench_router.py --part speed     # decision p99, training time on 10,000 labels
    .venv/bin/python bench/bench_router.py --part replay    # replay/optimize on a simulated log vs fresh runs

Data: bench/data/routing_benchmark.jsonl, split by question with a hash (never by line). `split`
trains the learned router on one half of the questions (both kinds together) and reports per kind on
the other half: from both outcomes per question (what shadow comparisons give) and from one outcome
(an A/B log: each question answered by one model drawn 50/50). `default` reports the complexity
scorer on the half its weights were tuned on (hash byte even) and on the half never looked at while
tuning (odd). CPT(50 %): the smallest share of main calls that recovers half the performance gap.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.routing.evaluation import compute_apgr, compute_routing_curve  # noqa: E402
from engine.routing.learned import Label, LearnedModel, train_model  # noqa: E402
from engine.routing.routers import get_router  # noqa: E402

DATA = REPO_ROOT / "bench" / "data" / "routing_benchmark.jsonl"
KINDS = ("gsm8k", "mmlu")


def load() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def kind_of(record: dict) -> str:
    return "gsm8k" if record["source"] == "gsm8k" else "mmlu"


def half(question: str, seed: int) -> int:
    return hashlib.sha256(f"{seed}|{question}".encode()).digest()[0] % 2


def tune_half(question: str) -> bool:
    """The half the default scorer's weights were tuned on (the other was looked at only to report)."""
    return hashlib.sha256(question.encode()).digest()[0] % 2 == 0


def cpt(scores: np.ndarray, strong: np.ndarray, weak: np.ndarray, recovered: float = 0.5) -> float:
    """Smallest main share at which accuracy recovers `recovered` of the strong-weak gap."""
    curve = compute_routing_curve(scores, strong, weak, num_thresholds=None)
    goal = curve.weak_accuracy + recovered * (curve.strong_accuracy - curve.weak_accuracy)
    reached = curve.strong_share[curve.accuracy >= goal - 1e-12]
    return float(reached.min()) if len(reached) else 1.0


def one_outcome(records: list[dict], seed: int) -> list[Label]:
    rng = random.Random(f"ab|{seed}")
    labels = []
    for r in records:
        if rng.random() < 0.5:
            labels.append(Label(r["question"], "general", r["strong_correct"], None, "ab", "main"))
        else:
            labels.append(Label(r["question"], "general", None, r["weak_correct"], "ab", "embedder"))
    return labels


def run_split(seeds: int) -> None:
    records = load()
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    started = time.perf_counter()
    for seed in range(seeds):
        train = [r for r in records if half(r["question"], seed) == 0]
        test = [r for r in records if half(r["question"], seed) == 1]
        both = train_model([Label(r["question"], "general", r["strong_correct"], r["weak_correct"], "both")
                            for r in train], folds=3, held_out=False, target_main_share=0.5)
        ab = train_model(one_outcome(train, seed), folds=3, held_out=False, target_main_share=0.5)
        for kind in KINDS:
            part = [r for r in test if kind_of(r) == kind]
            strong = np.array([r["strong_correct"] for r in part])
            weak = np.array([r["weak_correct"] for r in part])
            questions = [r["question"] for r in part]
            scorers = {
                "learned (both outcomes)": [both.score(q) for q in questions],
                "learned (A/B, one outcome)": [ab.score(q) for q in questions],
                "complexity (default)": [get_router("complexity").score(q) for q in questions],
                "length": [len(q) for q in questions],
                "random": list(np.random.default_rng(seed).random(len(part))),
            }
            for name, scores in scorers.items():
                s = np.array(scores, dtype=float)
                rows.setdefault((kind, name), []).append((compute_apgr(s, strong, weak), cpt(s, strong, weak)))
    print(f"bench data split by question hash into train/test halves, {seeds} seeds "
          f"({time.perf_counter() - started:.0f} s); learned trained on the train half of both kinds, "
          "reported per kind on the test half")
    print(f"{'kind':6s} {'scorer':28s} {'APGR mean':>9s} {'sd':>6s} {'CPT(50%)':>9s} {'sd':>6s}")
    for (kind, name), values in rows.items():
        apgr = [v[0] for v in values]
        c = [v[1] for v in values]
        print(f"{kind:6s} {name:28s} {statistics.mean(apgr):9.3f} {statistics.pstdev(apgr):6.3f} "
              f"{statistics.mean(c):9.3f} {statistics.pstdev(c):6.3f}")


def run_default() -> None:
    records = load()
    print("default scorer (complexity) vs length on the tune half and on the half never tuned on")
    for label, wanted in (("tune half", True), ("held-out half", False)):
        for kind in KINDS:
            part = [r for r in records if kind_of(r) == kind and tune_half(r["question"]) == wanted]
            strong = np.array([r["strong_correct"] for r in part])
            weak = np.array([r["weak_correct"] for r in part])
            cx = compute_apgr([get_router("complexity").score(r["question"]) for r in part], strong, weak)
            words = compute_apgr([get_router("length").score(r["question"]) for r in part], strong, weak)
            chars = compute_apgr([len(r["question"]) for r in part], strong, weak)
            print(f"{label:14s} {kind:6s} n={len(part):4d} complexity {cx:.3f}  length(words) {words:.3f}  "
                  f"length(chars) {chars:.3f}")


def sim_labels(n: int, seed: int = 0) -> list[Label]:
    from engine.providers.sim_world import generate_questions, p_correct, truth_of

    rng = random.Random(seed)
    labels = []
    for item in generate_questions(n, seed):
        truth = truth_of(item.question)
        d = truth.difficulty if truth else 0.3
        main_ok, emb_ok = rng.random() < p_correct("main", d), rng.random() < p_correct("embedder", d)
        if rng.random() < 0.5:
            labels.append(Label(item.question, item.trait, main_ok, None, "ab", "main"))
        else:
            labels.append(Label(item.question, item.trait, None, emb_ok, "ab", "embedder"))
    return labels


def run_speed() -> None:
    labels = sim_labels(10_000)
    import sklearn  # noqa: F401  (imported first so its import time is not counted as training)

    started = time.perf_counter()
    model: LearnedModel = train_model(labels)
    trained = time.perf_counter() - started
    print(f"training on {len(labels)} labels (held-out estimate and out-of-fold calibration included): {trained:.1f} s")
    router = get_router("complexity")
    questions = [(lb.question, lb.trait) for lb in labels[:3000]]
    # Wall time includes preemption by other processes on a shared machine; thread CPU time does not.
    for name, score in (("learned", model.score), ("complexity", router.score)):
        for clock in (time.perf_counter_ns, time.thread_time_ns):
            times = []
            for question, trait in questions:
                t = clock()
                score(question, trait)
                times.append((clock() - t) / 1000)
            print(f"{name:10s} decision ({'wall' if clock is time.perf_counter_ns else 'cpu'}): "
                  f"p50 {np.percentile(times, 50):.1f} us, p99 {np.percentile(times, 99):.1f} us")


def run_replay(n: int) -> None:
    from engine.analysis.replay import compute_optimize, compute_replay, load_log_events
    from engine.api import simulate
    from engine.loop.engine import Engine
    from engine.loop.simulate import run_simulation
    from engine.routing.adaptive import AdaptiveConfig
    from engine.settings import build_settings

    def fresh(boundary: float, seed: int, folder: Path) -> tuple[float, float]:
        settings = build_settings(aios_data_dir=folder, aios_provider="sim", aios_sim_latency_scale=0,
                                  aios_adaptive_enabled=False, aios_shadow_rate=0.0)
        engine = Engine(settings, config=AdaptiveConfig(control_boundary=boundary))
        summary = run_simulation(engine, n, seed=seed)
        engine.close()
        total = sum(b.questions for b in summary.buckets.values())
        return (sum(b.main_share * b.questions for b in summary.buckets.values()) / total,
                sum(b.mean_quality * b.questions for b in summary.buckets.values()) / total)

    with tempfile.TemporaryDirectory() as tmp:
        settings = build_settings(aios_data_dir=Path(tmp) / "log", aios_provider="sim", aios_sim_latency_scale=0)
        simulate(n, seed=1, settings=settings)
        events = load_log_events(settings.paths.log)
        own = compute_replay(events, curves=False)
        print(f"simulated log: {own.events} answers, exploration {own.explore_rate:.1%} (default), "
              f"{own.comparisons} comparisons")
        print(f"replay at the log's own boundaries: main share {own.main_share:.4f} (log {own.logged_main_share:.4f}), "
              f"quality {own.quality.value:.4f} (log {own.logged_quality:.4f})")
        for i, boundary in enumerate((0.45, 0.55, 0.62)):
            est = compute_replay(events, boundary=boundary, curves=False)
            share, quality = fresh(boundary, 100 + i, Path(tmp) / f"fresh{i}")
            covered = "covered" if est.quality.low <= quality <= est.quality.high else "NOT covered"
            print(f"boundary {boundary}: replay main share {est.main_share:.3f}, quality {est.quality.value:.4f} "
                  f"[{est.quality.low:.4f}, {est.quality.high:.4f}] (ESS {est.effective_sample_size:.0f}); "
                  f"fresh run main share {share:.3f}, quality {quality:.4f} -> {covered}")
        opt = compute_optimize(events, target_main_share=0.3)
        share, _ = fresh(opt.boundary, 200, Path(tmp) / "opt")
        print(f"optimize --target-main-share 0.3: boundary {opt.boundary:.4f}; a fresh run there sends "
              f"{share:.1%} to main ({'within' if abs(share - 0.3) <= 0.03 else 'outside'} 30 +/- 3 %)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("split", "default", "speed", "replay"), required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n", type=int, default=2000, help="simulated answers for --part replay")
    args = parser.parse_args(argv)
    {"split": lambda: run_split(args.seeds), "default": run_default, "speed": run_speed,
     "replay": lambda: run_replay(args.n)}[args.part]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
