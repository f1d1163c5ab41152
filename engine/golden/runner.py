"""Run golden cases through the loop (`engine.api.ask`, control bucket, not recorded as traffic),
record baselines, compare against them, and log one `golden` provenance event per case and run.

Goldens ask for reproducible answers: a fixed `seed` and a low `temperature` go to the model (a server
that ignores them still answers), and the baseline records what was sent so compare sends the same.
`record --samples K` answers each case K times and keeps the spread of those answers; compare judges a
new answer against that spread (engine/golden/spread.py). Recording over an existing baseline first
keeps the old one as a dated copy. The answer function is injectable so unit tests can use a fake.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine.errors import EngineError, InputError
from engine.golden.cases import (
    BASELINE_VERSION,
    Baseline,
    GoldenCase,
    GoldenSet,
    write_json_atomic,
    write_text_atomic,
)
from engine.golden.expect import compute_expectation_failures
from engine.golden.junit import render_junit_xml
from engine.golden.report import (
    ADDED_REASON,
    CHANGED_REASON,
    UNKNOWN_SOURCE,
    CaseRun,
    CompareContext,
    RunCheck,
    compute_record_summary,
    compute_report,
    compute_run_check,
)
from engine.golden.similarity import LexicalSimilarity, Similarity
from engine.golden.spread import Spread, compute_closeness, compute_spread, recorded_answers
from engine.provenance import EventSink, GoldenEvent, new_id, utc_now_iso
from engine.runbook import CONTROL, GOLDEN_THRESHOLD
from engine.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

# (case, run_id, session_id) -> an AskResult-like object
AnswerFn = Callable[[GoldenCase, str, str], Any]
# (done, total) after each finished run
ProgressFn = Callable[[int, int], None]

BUNDLED_SET = REPO_ROOT / "data_core" / "goldens" / "sample_set.json"

# What goldens send so a server that honours them answers the same way each time (greedy decoding,
# fixed sampler seed); record writes them into the baseline and compare sends what was recorded.
GOLDEN_SEED = 1234
GOLDEN_TEMPERATURE = 0.0
# Answers recorded per case: enough to see a sampling model's run-to-run spread, few enough to be cheap.
GOLDEN_SAMPLES = 3


def golden_sampling(seed: int | None = GOLDEN_SEED, temperature: float | None = GOLDEN_TEMPERATURE) -> dict[str, Any]:
    """The extra chat-completions params goldens send ({} sends the engine's defaults)."""
    sampling: dict[str, Any] = {}
    if seed is not None:
        sampling["seed"] = seed
    if temperature is not None:
        if not 0.0 <= temperature <= 2.0:
            raise InputError(f"--temperature must be between 0 and 2, got {temperature}")
        sampling["temperature"] = temperature
    return sampling


def default_set_path(settings: Settings) -> Path:
    """The data dir's sample_set.json, or the repository's bundled one when the data dir has none."""
    path = settings.paths.sample_set
    return path if path.exists() or not BUNDLED_SET.exists() else BUNDLED_SET


def engine_answer_fn(settings: Settings | None = None, sampling: dict[str, Any] | None = None) -> AnswerFn:
    """Answer a golden through the loop: forced control bucket (boundary 0.5), no response event
    and no adaptive update, so goldens never steer the A/B test they watch. `sampling` (seed,
    temperature) goes to the model as extra chat-completions params."""
    from engine.api import ask  # noqa: PLC0415 - the loop is imported only when goldens run

    params = dict(sampling or {})

    def answer(case: GoldenCase, run_id: str, session_id: str) -> Any:
        return ask(case.question, case.trait, session_id=session_id, origin="golden", run_id=run_id,
                   bucket=CONTROL, record=False, settings=settings, params=params)

    return answer


def run_cases(golden_set: GoldenSet, answer_fn: AnswerFn, *, run_id: str, jobs: int = 1, repeat: int = 1,
              progress: ProgressFn | None = None) -> list[CaseRun]:
    """Answer every case `repeat` times with at most `jobs` calls in flight; results in set order.

    An InputError from the loop (an unknown trait, say) is re-raised naming the set file and case.
    On Ctrl-C, queued runs are cancelled and the KeyboardInterrupt propagates; nothing is written.
    """
    if jobs < 1 or repeat < 1:
        raise InputError(f"-j/--jobs and --repeat must be at least 1 (got {jobs} and {repeat})")
    work = [(case, attempt) for case in golden_set.cases for attempt in range(1, repeat + 1)]
    results: dict[tuple[str, int], CaseRun] = {}

    def one(case: GoldenCase, attempt: int) -> CaseRun:
        session_id = f"golden-{run_id[:8]}-{case.id}-{attempt}"
        try:
            result = answer_fn(case, run_id, session_id)
        except InputError as exc:
            raise InputError(f"{golden_set.path}: case '{case.id}': {exc.message}") from None
        run = CaseRun.from_result(case, attempt, result)
        run.session_id = run.session_id or session_id
        return run

    # The pool size is the bound on concurrent provider calls.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="golden")
    try:
        futures = {pool.submit(one, case, attempt): (case.id, attempt) for case, attempt in work}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done, len(work))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [results[(case.id, attempt)] for case, attempt in work]


def _golden_event(mode: str, run: CaseRun, run_id: str, check: RunCheck | None = None,
                  baseline_quality: float | None = None, **extra: Any) -> GoldenEvent:
    fields: dict[str, Any] = dict(
        mode=mode, case_id=run.case_id, question=run.question, run_id=run_id,
        message_id=run.message_id or new_id(), session_id=run.session_id,
        passed=run.answered if check is None else check.passed, reasons=[] if check is None else check.reasons,
        similarity=None if check is None else check.similarity, quality=run.quality,
        baseline_quality=baseline_quality, latency_ms=run.latency_ms, route=run.route, source=run.source,
        provider=run.provider, attempt=run.attempt, error_code=run.error_code, trait=run.trait, **extra)
    return GoldenEvent(**fields)


def _append_events(settings: Settings, events: list[GoldenEvent]) -> None:
    """Golden events go to the provenance log; a log that cannot be written must not lose the report."""
    try:
        with EventSink(settings.paths.log) as sink:
            sink.append(events)
    except OSError as exc:
        log.warning("could not write golden events to %s: %s", settings.paths.log, exc)


@dataclass
class RecordResult:
    path: Path
    set_hash: str
    summary: dict[str, Any]
    unanswered: list[str]
    written: bool
    previous: Path | None = None  # the dated copy of the baseline this one replaced
    samples: int = 1
    sampling: dict[str, Any] = field(default_factory=dict)
    # case id -> why its expected answer or checks failed at record time (the baseline is still written;
    # every compare will flag the case until the model gets it right)
    failing_expectations: dict[str, list[str]] = field(default_factory=dict)


def _baseline_entry(case: GoldenCase, runs: list[CaseRun], similarity: Similarity) -> dict[str, Any]:
    """The first answered sample's fields, every sample, and the spread of the answered ones."""
    answered = [run for run in runs if run.answered]
    first = answered[0] if answered else runs[0]
    entry = first.baseline_entry()
    entry["samples"] = [{"answer": run.answer, "quality": round(run.quality, 4), "latency_ms": round(run.latency_ms, 1),
                         "route": run.route, "source": run.source, "answered": run.answered,
                         "error_code": run.error_code} for run in runs]
    if answered:
        entry["spread"] = compute_spread([run.answer for run in answered], [run.quality for run in answered],
                                         similarity).as_json(similarity.name)
    if case.has_expectations:
        reasons = compute_expectation_failures(case.question, first.answer, case.expected, case.checks)
        entry["expectations"] = {"passed": not reasons and first.answered, "reasons": reasons}
    return entry


def record_baseline(golden_set: GoldenSet, out: Path, *, settings: Settings, answer_fn: AnswerFn | None = None,
                    jobs: int = 1, progress: ProgressFn | None = None, allow_unanswered: bool = False,
                    samples: int = GOLDEN_SAMPLES, sampling: dict[str, Any] | None = None,
                    similarity: Similarity | None = None, now: datetime | None = None) -> RecordResult:
    """Answer every case `samples` times and write the baseline atomically to `out`.

    `sampling` (default: seed GOLDEN_SEED, temperature GOLDEN_TEMPERATURE) is sent with every question
    and written into the baseline; `similarity` measures the samples' spread (default lexical). An
    existing baseline at `out` is first kept as a dated copy (`previous` in the result).
    A baseline with unanswered cases (a sample with source "unknown") would make every later compare
    meaningless, so it is not written unless `allow_unanswered`; the result lists those cases.
    """
    if samples < 1:
        raise InputError(f"--samples must be at least 1 (got {samples})")
    sampling = golden_sampling() if sampling is None else dict(sampling)
    similarity = similarity or LexicalSimilarity()
    answer_fn = answer_fn or engine_answer_fn(settings, sampling)
    run_id = new_id()
    runs = run_cases(golden_set, answer_fn, run_id=run_id, jobs=jobs, repeat=samples, progress=progress)
    by_case: dict[str, list[CaseRun]] = {}
    for run in runs:
        by_case.setdefault(run.case_id, []).append(run)
    # One record event per case (its first sample), noting how many samples were taken.
    _append_events(settings, [_golden_event("record", by_case[case.id][0], run_id, samples=samples,
                                            samples_answered=sum(r.answered for r in by_case[case.id]))
                              for case in golden_set.cases])
    unanswered = [case.id for case in golden_set.cases if not all(run.answered for run in by_case[case.id])]
    summary = compute_record_summary([by_case[case.id][0] for case in golden_set.cases])
    written = not unanswered or allow_unanswered
    entries = {case.id: _baseline_entry(case, by_case[case.id], similarity) for case in golden_set.cases}
    failing = {case_id: entry["expectations"]["reasons"] or ["no answer"] for case_id, entry in entries.items()
               if "expectations" in entry and not entry["expectations"]["passed"]}
    previous = None
    if written:
        out = Path(out)
        if out.exists():
            previous = backup_baseline(out, now=now)
        providers = sorted({run.provider for run in runs})
        write_json_atomic(out, {
            "version": BASELINE_VERSION,
            "set_path": str(golden_set.path),
            "set_hash": golden_set.hash,
            "recorded_at": utc_now_iso(),
            "run_id": run_id,
            "provider": ",".join(providers),
            "simulated": any(run.simulated for run in runs),
            "samples": samples,
            "sampling": sampling,
            "similarity_measure": similarity.name,
            "summary": summary,
            "cases": entries,
        })
    return RecordResult(Path(out), golden_set.hash, summary, unanswered, written, previous, samples, sampling,
                        failing)


def comparison_path_for(report_path: Path, now: datetime) -> Path:
    """`comparison_<UTC timestamp>.json` beside the report, never overwriting an earlier one."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    candidate = report_path.with_name(f"comparison_{stamp}.json")
    n = 2
    while candidate.exists():
        candidate = report_path.with_name(f"comparison_{stamp}_{n}.json")
        n += 1
    return candidate


@dataclass
class CompareResult:
    report: dict[str, Any]
    report_path: Path
    history_path: Path
    junit_path: Path | None

    @property
    def regressed(self) -> bool:
        return self.report["status"] != "PASS"


def compare_to_baseline(golden_set: GoldenSet, baseline: Baseline, out: Path, *, settings: Settings,
                        similarity: Similarity, threshold: float = GOLDEN_THRESHOLD, jobs: int = 1, repeat: int = 1,
                        min_pass_fraction: float = 1.0, answer_fn: AnswerFn | None = None,
                        progress: ProgressFn | None = None, junit: Path | None = None,
                        similarity_threshold: float | None = None,
                        sampling: dict[str, Any] | None = None) -> CompareResult:
    """Re-run the set, judge each run against the baseline's recorded spread and the case's expected
    answer and checks, write the report (and history copy, and JUnit XML when asked) atomically, and
    log one golden event per run. `sampling` defaults to what the baseline recorded it sent."""
    if not 0 < threshold < 1:
        raise InputError(f"--threshold must be between 0 and 1 (a fraction, e.g. 0.25), got {threshold}")
    if similarity_threshold is not None and not 0 < similarity_threshold < 1:
        raise InputError(f"--similarity-threshold must be between 0 and 1, got {similarity_threshold}")
    if not 0 < min_pass_fraction <= 1:
        raise InputError(f"--min-pass-fraction must be in (0, 1], got {min_pass_fraction}")
    sampling = dict(baseline.sampling or {}) if sampling is None else dict(sampling)
    answer_fn = answer_fn or engine_answer_fn(settings, sampling)
    changed = baseline.changed_cases(golden_set)
    baseline = baseline.without(changed)
    cases = {case.id: case for case in golden_set.cases}
    # Spreads are recomputed with this compare's similarity measure from the recorded answers, so a
    # baseline recorded with another measure is still judged consistently.
    recorded: dict[str, list[str]] = {}
    spreads: dict[str, Spread] = {}
    for case_id, recorded_entry in baseline.cases.items():
        if case_id in cases and recorded_entry.get("source") != UNKNOWN_SOURCE:
            answers, qualities = recorded_answers(recorded_entry)
            recorded[case_id], spreads[case_id] = answers, compute_spread(answers, qualities, similarity)
    run_id = new_id()
    started_at, started = utc_now_iso(), time.perf_counter()
    runs = run_cases(golden_set, answer_fn, run_id=run_id, jobs=jobs, repeat=repeat, progress=progress)
    duration = time.perf_counter() - started
    checks = []
    for run in runs:
        entry = baseline.cases.get(run.case_id)
        case = cases[run.case_id]
        # A baseline recorded with --allow-unanswered has nothing to be similar to for that case.
        comparable = entry is not None and run.answered and run.case_id in recorded
        sim = compute_closeness(run.answer, recorded[run.case_id], similarity) if comparable else None
        failures = (compute_expectation_failures(case.question, run.answer, case.expected, case.checks)
                    if case.has_expectations else None)
        checks.append(compute_run_check(run, entry, threshold, sim,
                                        CHANGED_REASON if run.case_id in changed else ADDED_REASON,
                                        similarity_threshold, spreads.get(run.case_id), failures))
    context = CompareContext(threshold=threshold, similarity_measure=similarity.name, started_at=started_at,
                             finished_at=utc_now_iso(), duration_s=duration, jobs=jobs, repeat=repeat,
                             min_pass_fraction=min_pass_fraction, run_id=run_id,
                             similarity_threshold=similarity_threshold, sampling=sampling,
                             spreads={k: v.as_json(similarity.name) for k, v in spreads.items()})
    report = compute_report(golden_set, baseline, runs, checks, context, changed)
    _append_events(settings, [
        _golden_event("compare", run, run_id, check,
                      None if run.case_id not in baseline.cases else float(baseline.cases[run.case_id]["quality"]))
        for run, check in zip(runs, checks)])
    out = Path(out)
    history = comparison_path_for(out, datetime.now(timezone.utc))
    write_json_atomic(history, report)
    write_json_atomic(out, report)
    junit_path = None
    if junit is not None:
        junit_path = write_text_atomic(junit, render_junit_xml(report))
    return CompareResult(report, out, history, junit_path)


def backup_baseline(baseline: Path, *, now: datetime | None = None) -> Path:
    """Copy the baseline to `baseline_<YYYYMMDD>.json` beside it (runbook: Backup Golden Baselines);
    a baseline named otherwise (`mine.json`) gets `mine_<YYYYMMDD>.json`.

    A second backup on the same day gets `_2`, `_3`... instead of overwriting the first.
    """
    baseline = Path(baseline)
    if not baseline.exists():
        raise InputError(f"{baseline}: baseline file not found (record one with `golden_runner.py record`)")
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d")
    prefix = "baseline" if baseline.stem.startswith("baseline") else baseline.stem
    target = baseline.with_name(f"{prefix}_{stamp}.json")
    n = 2
    while target.exists():
        target = baseline.with_name(f"{prefix}_{stamp}_{n}.json")
        n += 1
    try:
        write_text_atomic(target, baseline.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EngineError(f"{target}: could not write the backup ({exc.strerror})") from None
    return target
