"""Run golden cases through the loop (`engine.api.ask`, control bucket, not recorded as traffic),
record baselines, compare against them, and log one `golden` provenance event per run.

The answer function is injectable so unit tests can use a fake; by default it is the engine.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
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
from engine.golden.similarity import Similarity
from engine.provenance import EventSink, GoldenEvent, new_id, utc_now_iso
from engine.runbook import CONTROL, GOLDEN_THRESHOLD
from engine.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

# (case, run_id, session_id) -> an AskResult-like object
AnswerFn = Callable[[GoldenCase, str, str], Any]
# (done, total) after each finished run
ProgressFn = Callable[[int, int], None]

BUNDLED_SET = REPO_ROOT / "data_core" / "goldens" / "sample_set.json"


def default_set_path(settings: Settings) -> Path:
    """The data dir's sample_set.json, or the repository's bundled one when the data dir has none."""
    path = settings.paths.sample_set
    return path if path.exists() or not BUNDLED_SET.exists() else BUNDLED_SET


def engine_answer_fn(settings: Settings | None = None) -> AnswerFn:
    """Answer a golden through the loop: forced control bucket (boundary 0.5), no response event
    and no adaptive update, so goldens never steer the A/B test they watch."""
    from engine.api import ask  # noqa: PLC0415 - the loop is imported only when goldens run

    def answer(case: GoldenCase, run_id: str, session_id: str) -> Any:
        return ask(case.question, case.trait, session_id=session_id, origin="golden", run_id=run_id,
                   bucket=CONTROL, record=False, settings=settings)

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
                  baseline_quality: float | None = None) -> GoldenEvent:
    return GoldenEvent(mode=mode, case_id=run.case_id, question=run.question, run_id=run_id,
                       message_id=run.message_id or new_id(), session_id=run.session_id,
                       passed=run.answered if check is None else check.passed,
                       reasons=[] if check is None else check.reasons,
                       similarity=None if check is None else check.similarity,
                       quality=run.quality, baseline_quality=baseline_quality, latency_ms=run.latency_ms,
                       route=run.route, source=run.source, provider=run.provider, attempt=run.attempt,
                       error_code=run.error_code, trait=run.trait)


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


def record_baseline(golden_set: GoldenSet, out: Path, *, settings: Settings, answer_fn: AnswerFn | None = None,
                    jobs: int = 1, progress: ProgressFn | None = None,
                    allow_unanswered: bool = False) -> RecordResult:
    """Answer every case once and write the baseline atomically to `out`.

    A baseline with unanswered cases (source "unknown") would make every later compare meaningless,
    so it is not written unless `allow_unanswered`; the result lists those cases.
    """
    answer_fn = answer_fn or engine_answer_fn(settings)
    run_id = new_id()
    runs = run_cases(golden_set, answer_fn, run_id=run_id, jobs=jobs, progress=progress)
    _append_events(settings, [_golden_event("record", run, run_id) for run in runs])
    unanswered = [run.case_id for run in runs if not run.answered]
    summary = compute_record_summary(runs)
    written = not unanswered or allow_unanswered
    if written:
        providers = sorted({run.provider for run in runs})
        write_json_atomic(out, {
            "version": BASELINE_VERSION,
            "set_path": str(golden_set.path),
            "set_hash": golden_set.hash,
            "recorded_at": utc_now_iso(),
            "run_id": run_id,
            "provider": ",".join(providers),
            "simulated": any(run.simulated for run in runs),
            "summary": summary,
            "cases": {run.case_id: run.baseline_entry() for run in runs},
        })
    return RecordResult(Path(out), golden_set.hash, summary, unanswered, written)


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
                        similarity_threshold: float | None = None) -> CompareResult:
    """Re-run the set, judge each run against the baseline, write the report (and history copy,
    and JUnit XML when asked) atomically, and log one golden event per run."""
    if not 0 < threshold < 1:
        raise InputError(f"--threshold must be between 0 and 1 (a fraction, e.g. 0.25), got {threshold}")
    if similarity_threshold is not None and not 0 < similarity_threshold < 1:
        raise InputError(f"--similarity-threshold must be between 0 and 1, got {similarity_threshold}")
    if not 0 < min_pass_fraction <= 1:
        raise InputError(f"--min-pass-fraction must be in (0, 1], got {min_pass_fraction}")
    answer_fn = answer_fn or engine_answer_fn(settings)
    changed = baseline.changed_cases(golden_set)
    baseline = baseline.without(changed)
    run_id = new_id()
    started_at, started = utc_now_iso(), time.perf_counter()
    runs = run_cases(golden_set, answer_fn, run_id=run_id, jobs=jobs, repeat=repeat, progress=progress)
    duration = time.perf_counter() - started
    checks = []
    for run in runs:
        entry = baseline.cases.get(run.case_id)
        # A baseline recorded with --allow-unanswered has nothing to be similar to for that case.
        comparable = entry is not None and run.answered and entry.get("source") != UNKNOWN_SOURCE
        sim = similarity.score(run.answer, entry["answer"]) if comparable else None
        checks.append(compute_run_check(run, entry, threshold, sim,
                                        CHANGED_REASON if run.case_id in changed else ADDED_REASON,
                                        similarity_threshold))
    context = CompareContext(threshold=threshold, similarity_measure=similarity.name, started_at=started_at,
                             finished_at=utc_now_iso(), duration_s=duration, jobs=jobs, repeat=repeat,
                             min_pass_fraction=min_pass_fraction, run_id=run_id,
                             similarity_threshold=similarity_threshold)
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
    """Copy the baseline to `baseline_<YYYYMMDD>.json` beside it (runbook: Backup Golden Baselines).

    A second backup on the same day gets `_2`, `_3`... instead of overwriting the first.
    """
    baseline = Path(baseline)
    if not baseline.exists():
        raise InputError(f"{baseline}: baseline file not found (record one with `golden_runner.py record`)")
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d")
    target = baseline.with_name(f"baseline_{stamp}.json")
    n = 2
    while target.exists():
        target = baseline.with_name(f"baseline_{stamp}_{n}.json")
        n += 1
    try:
        write_text_atomic(target, baseline.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EngineError(f"{target}: could not write the backup ({exc.strerror})") from None
    return target
