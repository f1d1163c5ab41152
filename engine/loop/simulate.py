"""Simulation: generated demo questions through the loop on the built-in simulator, a new session
every few questions, and the per-bucket summary the CLI and the dashboard print.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.errors import InputError
from engine.ids import new_id
from engine.loop.engine import Engine
from engine.loop.records import AskRequest, AskResult
from engine.providers.sim_world import generate_questions
from engine.routing.adaptive import AdaptiveState
from engine.routing.bucketing import BUCKETS


@dataclass
class BucketSummary:
    sessions: int = 0
    questions: int = 0
    main_share: float = 0.0
    mean_quality: float = 0.0
    p50_latency_ms: float = 0.0
    p95_latency_ms: float = 0.0
    errors: int = 0
    boundary_end: float = 0.0
    # The simulator's ground truth: share of answers with a right final answer (None: no truth known).
    accuracy: float | None = None
    comparisons: int = 0


@dataclass
class SimulateSummary:
    run_id: str
    n: int
    seed: int
    sessions: int
    simulated: bool
    adaptive_enabled: bool
    adaptations: int
    max_drift: float
    final_drift: float
    elapsed_s: float
    buckets: dict[str, BucketSummary] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return float(ordered[index])


def session_plan(n: int, seed: int) -> list[str]:
    """A session id per question: a new session every 1-6 questions, deterministic for a seed."""
    rng = random.Random(f"sessions|{seed}")
    ids, j, left = [], 0, 0
    for _ in range(n):
        if left == 0:
            j, left = j + 1, rng.randint(1, 6)
        ids.append(f"sim-{seed}-{j:06d}")
        left -= 1
    return ids


def compute_accuracy(results: list[AskResult]) -> float | None:
    """Share of right answers among those whose truth the simulator knows (unanswered count as wrong)."""
    known = [r.sim_correct for r in results if r.sim_correct is not None or (r.error_code and r.simulated)]
    return round(sum(bool(k) for k in known) / len(known), 4) if known else None


def compute_simulate_summary(results: list[AskResult], *, run_id: str, n: int, seed: int,
                             adaptive_enabled: bool, max_drift: float, final_state: AdaptiveState,
                             elapsed_s: float) -> SimulateSummary:
    buckets: dict[str, BucketSummary] = {}
    for name in BUCKETS:
        rows = [r for r in results if r.bucket == name]
        answered = [r for r in rows if r.error_code is None]
        buckets[name] = BucketSummary(
            sessions=len({r.session_id for r in rows}), questions=len(rows),
            main_share=round(sum(r.route == "main" for r in rows) / len(rows), 4) if rows else 0.0,
            mean_quality=round(sum(r.quality for r in rows) / len(rows), 4) if rows else 0.0,
            p50_latency_ms=percentile([r.latency_ms for r in answered], 50),
            p95_latency_ms=percentile([r.latency_ms for r in answered], 95),
            errors=len(rows) - len(answered),
            boundary_end=final_state.boundary_for(name, adaptive_enabled),
            accuracy=compute_accuracy(rows),
            comparisons=sum(r.shadow is not None for r in rows))
    return SimulateSummary(
        run_id=run_id, n=n, seed=seed, sessions=len({r.session_id for r in results}),
        simulated=all(r.simulated for r in results), adaptive_enabled=adaptive_enabled,
        adaptations=sum(r.adaptation is not None for r in results), max_drift=round(max_drift, 6),
        final_drift=round(final_state.drift, 6), elapsed_s=round(elapsed_s, 3), buckets=buckets)


def run_simulation(engine: Engine, n: int, *, seed: int = 0,
                   progress: Callable[[AskResult], None] | None = None) -> SimulateSummary:
    """Send `n` demo questions through the loop on the simulator, a new session every few questions."""

    if n < 0:
        raise InputError(f"option --n: must be >= 0, got {n}")
    engine = engine.simulator()
    run_id = new_id()
    started = time.perf_counter()
    results: list[AskResult] = []
    max_drift = 0.0
    for question, session_id in zip(generate_questions(n, seed), session_plan(n, seed)):
        result = engine.ask(AskRequest(question.question, question.trait, session_id, origin="simulate",
                                       run_id=run_id))
        if result.shadow is not None:  # simulate compares inline
            engine.run_shadow(result.shadow)
        if result.adaptation is not None:
            max_drift = max(max_drift, abs(result.adaptation["new_boundary"] - engine.config.control_boundary))
        results.append(result)
        if progress is not None:
            progress(result)
    return compute_simulate_summary(results, run_id=run_id, n=n, seed=seed,
                                    adaptive_enabled=engine.adaptive_enabled, max_drift=max_drift,
                                    final_state=engine.load_state(), elapsed_s=time.perf_counter() - started)
