"""Pure scoring of golden runs against a baseline, and the comparison report built from them.

A case regresses when it got no answer (source "unknown"), when its expected answer or one of its
checks fails (whatever the baseline says), or when a new answer falls below the recorded spread of
the model's own answers by more than the threshold: its similarity to the closest recorded answer
below the recorded similarity floor (1.0 with one recorded answer), its length or its quality below
the shortest or lowest recorded one, by the threshold's fraction. Each run says why it passed or
failed in those terms. Latency is reported per case; the P95 latency SLO judges it as a whole.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.golden.cases import Baseline, GoldenCase, GoldenSet
from engine.golden.spread import Spread, count_words
from engine.runbook import UNKNOWN_SOURCE

# 2: per case `why`, `spread` and `expectations`; the report's `sampling`.
REPORT_VERSION = 2


@dataclass
class CaseRun:
    """One answer to one golden case (one of `--repeat` attempts)."""

    case_id: str
    attempt: int
    question: str
    trait: str
    answer: str
    route: str
    source: str
    provider: str
    simulated: bool
    latency_ms: float
    quality: float
    complexity: float | None = None
    boundary: float | None = None
    quality_components: dict[str, float] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    message_id: str | None = None
    session_id: str | None = None

    @property
    def answered(self) -> bool:
        return self.source != UNKNOWN_SOURCE and not self.error_code

    @classmethod
    def from_result(cls, case: GoldenCase, attempt: int, result: Any) -> CaseRun:
        """From an engine.api.AskResult (or anything with the same attributes)."""
        return cls(case_id=case.id, attempt=attempt, question=case.question, trait=case.trait,
                   answer=result.answer or "", route=result.route, source=result.source,
                   provider=result.provider, simulated=bool(result.simulated),
                   latency_ms=float(result.latency_ms), quality=float(result.quality),
                   complexity=getattr(result, "complexity", None), boundary=getattr(result, "boundary", None),
                   quality_components=dict(getattr(result, "quality_components", {}) or {}),
                   error_code=result.error_code, error_message=getattr(result, "error_message", None),
                   message_id=getattr(result, "message_id", None),
                   session_id=getattr(result, "session_id", None))

    def baseline_entry(self) -> dict[str, Any]:
        """What `record` keeps for this case."""
        return {"question": self.question,
                "question_hash": GoldenCase(self.case_id, self.question, self.trait).question_hash,
                "trait": self.trait, "answer": self.answer, "route": self.route, "source": self.source,
                "provider": self.provider, "simulated": self.simulated,
                "latency_ms": round(self.latency_ms, 1), "quality": round(self.quality, 4),
                "quality_components": self.quality_components, "complexity": self.complexity,
                "boundary": self.boundary, "error_code": self.error_code}


@dataclass
class RunCheck:
    """The verdict on one run against its baseline entry, and why (in terms of the recorded spread)."""

    passed: bool
    reasons: list[str]
    similarity: float | None  # to the closest recorded answer
    quality_drop: float | None  # relative to the lowest recorded quality; negative = improved
    why: str = ""


ADDED_REASON = "added: not in the baseline (record again to include it)"
CHANGED_REASON = "question changed since the baseline (record again to compare it)"


def single_spread(baseline: dict[str, Any]) -> Spread:
    """The spread of a baseline entry with one recorded answer (version 1, or --samples 1)."""
    words, quality = count_words(baseline["answer"]), float(baseline["quality"])
    return Spread(1, 1.0, 1.0, words, words, quality, quality)


def compute_run_check(run: CaseRun, baseline: dict[str, Any] | None, threshold: float,
                      similarity: float | None, no_baseline_reason: str = ADDED_REASON,
                      similarity_threshold: float | None = None, spread: Spread | None = None,
                      expectation_failures: list[str] | None = None) -> RunCheck:
    """Judge one run. `similarity` is the answer's similarity to the closest recorded answer (None: no
    baseline, or the baseline itself had no answer); `spread` what the recorded answers looked like
    (default: the entry's one answer); `expectation_failures` the reasons its expected answer or checks
    failed (engine/golden/expect.py). `similarity_threshold` defaults to `threshold`.

    A run without a baseline entry (an added or edited case) passes when a model answered it and its
    expectations hold.
    """
    sim_threshold = threshold if similarity_threshold is None else similarity_threshold
    reasons: list[str] = []
    if not run.answered:
        detail = f" ({run.error_code})" if run.error_code else ""
        reasons.append(f"no answer: source unknown{detail}")
    elif expectation_failures:
        reasons.extend(expectation_failures)
    expectation_note = "" if expectation_failures is None else (
        "; expected answer and checks hold" if not expectation_failures else "")
    if baseline is None:
        why = "no recorded answer to compare with" + expectation_note
        return RunCheck(not reasons, reasons + [no_baseline_reason], None, None, why)
    spread = spread or single_spread(baseline)
    base_quality = spread.quality_min
    if base_quality > 0:
        drop = (base_quality - run.quality) / base_quality
    else:
        drop = -run.quality  # nothing to lose: any quality is an improvement
    recorded = "the recorded answer" if spread.samples == 1 else f"the closest of {spread.samples} recorded answers"
    lowest = "" if spread.samples == 1 else "lowest recorded "
    if run.answered and drop > threshold:
        reasons.append(f"quality fell {drop:.0%} ({lowest}{base_quality:.2f} -> {run.quality:.2f}), "
                       f"more than the threshold {threshold:.0%}")
    limit = spread.similarity_limit(sim_threshold)
    if run.answered and similarity is not None and similarity < limit:
        reasons.append(f"answer similarity to the baseline {similarity:.2f} ({recorded}) fell "
                       f"{spread.similarity_floor - similarity:.2f} below the recorded spread's floor "
                       f"{spread.similarity_floor:.2f}, more than the threshold {sim_threshold:.2f}")
    words = count_words(run.answer)
    if run.answered and words < spread.words_limit(threshold):
        reasons.append(f"answer length {words} words, below the shortest recorded ({spread.words_min}) by more "
                       f"than the threshold {threshold:.0%}")
    return RunCheck(not reasons, reasons, similarity, drop,
                    _why(run, spread, similarity, words, threshold, sim_threshold) + expectation_note)


def _range(low: float, high: float, fmt: str) -> str:
    return format(low, fmt) if low == high else f"{format(low, fmt)}-{format(high, fmt)}"


def _why(run: CaseRun, spread: Spread, similarity: float | None, words: int, threshold: float,
         sim_threshold: float) -> str:
    """Where this answer sits against the recorded spread, and where each limit lies."""
    if not run.answered:
        return "no model answered"
    parts = []
    if similarity is not None:
        what = "the recorded answer" if spread.samples == 1 else f"the closest of {spread.samples} recorded answers"
        spread_text = "" if spread.samples == 1 else (
            f"recorded spread {_range(spread.similarity_floor, spread.similarity_high, '.2f')}, ")
        parts.append(f"similarity {similarity:.2f} to {what} ({spread_text}"
                     f"fails below {max(0.0, spread.similarity_limit(sim_threshold)):.2f})")
    parts.append(f"{words} words (recorded {_range(spread.words_min, spread.words_max, 'd')}, "
                 f"fails below {spread.words_limit(threshold):.0f})")
    parts.append(f"quality {run.quality:.2f} (recorded {_range(spread.quality_min, spread.quality_max, '.2f')}, "
                 f"fails below {spread.quality_limit(threshold):.2f})")
    return "; ".join(parts)


def compute_latency_stats(latencies: list[float]) -> dict[str, float | None]:
    """p50 / p95 (linear interpolation, numpy's default) / mean / max in milliseconds."""
    if not latencies:
        return {"p50": None, "p95": None, "mean": None, "max": None}
    values = np.asarray(latencies, dtype=float)
    return {"p50": round(float(np.percentile(values, 50)), 1), "p95": round(float(np.percentile(values, 95)), 1),
            "mean": round(float(values.mean()), 1), "max": round(float(values.max()), 1)}


def compute_routing_split(routes: list[str]) -> dict[str, float | int]:
    counts = Counter(routes)
    total = sum(counts.values())
    return {"main": counts.get("main", 0), "embedder": counts.get("embedder", 0),
            "main_pct": round(counts.get("main", 0) / total, 4) if total else 0.0,
            "embedder_pct": round(counts.get("embedder", 0) / total, 4) if total else 0.0}


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def compute_case_result(case: GoldenCase, runs: list[CaseRun], checks: list[RunCheck],
                        baseline: dict[str, Any] | None, min_pass_fraction: float,
                        spread: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fold a case's runs into one row of the report (reasons counted across runs); `why` is the first
    failing run's account, else the first run's; `spread` the recorded spread it was judged against."""
    passes = sum(check.passed for check in checks)
    pass_rate = passes / len(runs)
    passed = pass_rate >= min_pass_fraction
    reason_counts: Counter[str] = Counter()
    for check in checks:
        reason_counts.update(dict.fromkeys(check.reasons, 1))
    reasons = [reason if n == len(runs) else f"{reason} [{n}/{len(runs)} runs]"
               for reason, n in reason_counts.items()]
    similarities = [c.similarity for c in checks if c.similarity is not None]
    drops = [c.quality_drop for c in checks if c.quality_drop is not None]
    routes = Counter(run.route for run in runs)
    status = "added" if baseline is None else ("pass" if passed else "fail")
    if baseline is None and not passed:
        status = "fail"
    telling = next((check for check in checks if not check.passed), checks[0])
    expectations = None
    if case.has_expectations:
        expectations = {"expected": case.expected, "assert": [check.as_json() for check in case.checks]}
    return {
        "id": case.id, "question": case.question, "trait": case.trait, "status": status,
        "passed": passed, "pass_rate": round(pass_rate, 4), "runs": len(runs), "reasons": reasons,
        "why": telling.why, "spread": spread, "expectations": expectations,
        "similarity": _mean(similarities), "quality": _mean([run.quality for run in runs]),
        "baseline_quality": None if baseline is None else baseline.get("quality"),
        "quality_drop": _mean(drops),
        "latency_ms": round(float(np.mean([run.latency_ms for run in runs])), 1),
        "baseline_latency_ms": None if baseline is None else baseline.get("latency_ms"),
        "route": routes.most_common(1)[0][0], "baseline_route": None if baseline is None else baseline.get("route"),
        "source": runs[-1].source, "provider": runs[-1].provider,
        "answered": all(run.answered for run in runs),
        "error_code": next((run.error_code for run in runs if run.error_code), None),
        "answer": runs[-1].answer,
        "attempts": [{"attempt": run.attempt, "passed": check.passed, "similarity": check.similarity,
                      "quality": run.quality, "latency_ms": run.latency_ms, "route": run.route,
                      "source": run.source, "error_code": run.error_code, "message_id": run.message_id}
                     for run, check in zip(runs, checks)],
    }


@dataclass
class CompareContext:
    """Everything about a compare run that is not a per-case number."""

    threshold: float
    similarity_measure: str
    started_at: str
    finished_at: str
    duration_s: float
    jobs: int
    repeat: int
    min_pass_fraction: float
    run_id: str
    similarity_threshold: float | None = None  # None: the same as `threshold`
    sampling: dict[str, Any] | None = None  # the extra params sent to the model (seed, temperature)
    spreads: dict[str, dict[str, Any]] = field(default_factory=dict)  # case id -> recorded spread


def compute_report(golden_set: GoldenSet, baseline: Baseline, runs: list[CaseRun], checks: list[RunCheck],
                   context: CompareContext, changed: list[str] | None = None) -> dict[str, Any]:
    """The comparison report (a JSON-able dict). `runs` and `checks` are parallel lists; `changed`
    lists cases whose question was edited since the baseline (already removed from `baseline`)."""
    by_case: dict[str, list[tuple[CaseRun, RunCheck]]] = {}
    for run, check in zip(runs, checks):
        by_case.setdefault(run.case_id, []).append((run, check))
    cases = []
    for case in golden_set.cases:
        pairs = sorted(by_case.get(case.id, []), key=lambda p: p[0].attempt)
        if not pairs:
            continue
        cases.append(compute_case_result(case, [p[0] for p in pairs], [p[1] for p in pairs],
                                         baseline.cases.get(case.id), context.min_pass_fraction,
                                         context.spreads.get(case.id)))
    set_ids = set(golden_set.ids())
    missing = [{"id": case_id, "question": entry.get("question", ""),
                "reason": "missing: in the baseline but no longer in the set"}
               for case_id, entry in baseline.cases.items() if case_id not in set_ids]
    failed = [row["id"] for row in cases if not row["passed"]]
    runs_passed = sum(check.passed for check in checks)
    pass_rate = round(runs_passed / len(checks), 4) if checks else 0.0
    providers = sorted({run.provider for run in runs})
    provider = providers[0] if len(providers) == 1 else ",".join(providers)
    return {
        "version": REPORT_VERSION,
        "status": "FAIL" if failed else "PASS",
        "threshold": context.threshold,
        "similarity_threshold": context.threshold if context.similarity_threshold is None
        else context.similarity_threshold,
        "similarity_measure": context.similarity_measure,
        "run_id": context.run_id,
        "started_at": context.started_at,
        "finished_at": context.finished_at,
        "duration_s": round(context.duration_s, 3),
        "jobs": context.jobs,
        "repeat": context.repeat,
        "min_pass_fraction": context.min_pass_fraction,
        "sampling": context.sampling,
        "set": {"path": str(golden_set.path), "hash": golden_set.hash, "cases": len(golden_set.cases)},
        "baseline": {"path": str(baseline.path), "hash": baseline.hash, "set_hash": baseline.set_hash,
                     "recorded_at": baseline.recorded_at, "provider": baseline.provider,
                     "sampling": baseline.sampling,
                     "set_changed": baseline.set_hash != golden_set.hash,
                     # Answers of another provider (simulator vs a real model) are not comparable.
                     "provider_changed": bool(baseline.provider) and baseline.provider != provider},
        "provider": provider,
        "simulated": any(run.simulated for run in runs),
        "pass_rate": pass_rate,
        "summary": {
            "cases": len(cases), "passed": len(cases) - len(failed), "failed": len(failed),
            "label": f"{len(cases) - len(failed)}/{len(cases)}",
            "runs": len(checks), "runs_passed": runs_passed,
            "regressed": failed,
            "added": [row["id"] for row in cases
                      if row["baseline_quality"] is None and row["id"] not in (changed or [])],
            "changed": list(changed or []),
            "missing": [row["id"] for row in missing],
        },
        "routing": compute_routing_split([run.route for run in runs]),
        "latency_ms": compute_latency_stats([run.latency_ms for run in runs]),
        "quality": {"mean": _mean([run.quality for run in runs]),
                    "baseline_mean": _mean([float(e["quality"]) for i, e in baseline.cases.items() if i in set_ids])},
        "cases": cases,
        "missing_cases": missing,
    }


def compute_record_summary(runs: list[CaseRun]) -> dict[str, Any]:
    """Routing split, latency and quality of a freshly recorded baseline (printed by `record`)."""
    return {"cases": len(runs), "answered": sum(run.answered for run in runs),
            "routing": compute_routing_split([run.route for run in runs]),
            "latency_ms": compute_latency_stats([run.latency_ms for run in runs]),
            "quality_mean": _mean([run.quality for run in runs])}


def render_report_text(report: dict[str, Any]) -> str:
    """The human summary `compare` prints: status, counts, split, latency, then each failing case."""
    s, r, lat = report["summary"], report["routing"], report["latency_ms"]

    def ms(value: float | None) -> str:
        if value is None:
            return "-"
        return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f}s"

    lines = [
        f"Status: {report['status']} ({s['label']} cases pass, pass rate {report['pass_rate']:.0%}, "
        f"threshold {report['threshold']}, similarity {report['similarity_measure']})",
        f"Routing: {r['main_pct']:.0%} main, {r['embedder_pct']:.0%} embedder",
        f"Latency: p50 {ms(lat['p50'])}, p95 {ms(lat['p95'])}, mean {ms(lat['mean'])}"
        + (" (simulated)" if report["simulated"] else ""),
    ]
    if report["baseline"].get("provider_changed"):
        lines.append(f"Warning: the baseline was recorded with provider {report['baseline']['provider']}, this run "
                     f"used {report['provider']}; answers differ by construction: record a new baseline.")
    for row in report["cases"]:
        if not row["passed"]:
            lines.append(f"  FAIL {row['id']}: " + "; ".join(row["reasons"]))
        elif row.get("status") != "added" and row.get("why"):
            lines.append(f"  pass {row['id']}: {row['why']}")
    for case_id in s["added"]:
        lines.append(f"  added {case_id}: not in the baseline")
    for case_id in s.get("changed", []):
        lines.append(f"  changed {case_id}: question edited since the baseline, not compared")
    for row in report["missing_cases"]:
        lines.append(f"  missing {row['id']}: in the baseline, not in the set")
    return "\n".join(lines)
