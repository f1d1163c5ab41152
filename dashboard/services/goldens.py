"""The Goldens page's calls into engine.golden: the last report and its case table, the SLO
verdicts, the pass-rate history and the baseline (cached on their files), and the record and
compare actions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.services.cache import cached, file_stamp, settings
from engine import runbook
from engine.errors import EngineError
from engine.golden.cases import load_baseline, load_golden_set
from engine.golden.history import History, compute_case_table, load_comparison_history, load_report
from engine.golden.runner import (
    CompareResult,
    RecordResult,
    compare_to_baseline,
    default_set_path,
    record_baseline,
)
from engine.golden.similarity import get_similarity
from engine.golden.slo import compute_slo_verdicts, load_slo_inputs

GOLDEN_THRESHOLD = runbook.GOLDEN_THRESHOLD
GOLDEN_JOBS = 4
GOLDEN_CACHE = {"ttl": 600, "max_entries": 16}

Progress = Callable[[int, int], None]


def golden_paths() -> dict[str, Path]:
    current = settings()
    return {"set": default_set_path(current), "baseline": current.paths.baseline,
            "report": current.paths.last_report, "state": current.paths.adaptive_state,
            "goldens": current.paths.goldens_dir}


def _history_stamp(folder: Path) -> tuple:
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("comparison_*.json"))) \
        if folder.exists() else ()


def _load_report_view(path: str) -> tuple[dict[str, Any] | None, pd.DataFrame | None, str | None]:
    try:
        report = load_report(path)
    except EngineError as exc:
        return None, None, exc.message
    return report, None if report is None else compute_case_table(report), None


def golden_report() -> tuple[dict[str, Any] | None, pd.DataFrame | None, str | None]:
    """(report, case table, error): the last golden report, or None when no compare has run."""
    path = golden_paths()["report"]
    return cached(_load_report_view, str(path), **GOLDEN_CACHE, key=file_stamp(path))


def _load_slo_view(report: str, state: str) -> tuple[list[dict[str, Any]], list[str], str | None]:
    try:
        inputs = load_slo_inputs(Path(report), Path(state))
    except EngineError as exc:
        return [], [], exc.message
    return [v.to_dict() for v in compute_slo_verdicts(inputs)], inputs.notes, None


def slo_verdicts() -> tuple[list[dict[str, Any]], list[str], str | None]:
    """(verdict rows, notes, error) for the runbook's SLOs, as `quality_alert.py` judges them."""
    p = golden_paths()
    return cached(_load_slo_view, str(p["report"]), str(p["state"]), **GOLDEN_CACHE,
                  key=(file_stamp(p["report"]), file_stamp(p["state"])))


def _load_history(folder: str) -> History:
    return load_comparison_history(folder)


def golden_history() -> History:
    """Pass rate across the comparison_*.json files, oldest first."""
    folder = golden_paths()["goldens"]
    return cached(_load_history, str(folder), **GOLDEN_CACHE, key=_history_stamp(folder))


def baseline_summary() -> tuple[dict[str, Any] | None, str | None]:
    """(summary, error): when, by which provider and for how many cases the baseline was recorded."""
    p = golden_paths()
    if not p["baseline"].exists():
        return None, None
    try:
        baseline = load_baseline(p["baseline"])
    except EngineError as exc:
        return None, exc.message
    return {"path": str(p["baseline"]), "recorded_at": baseline.recorded_at, "provider": baseline.provider,
            "cases": len(baseline.cases), "simulated": baseline.simulated}, None


def golden_record(on_progress: Progress | None = None) -> tuple[RecordResult, Path | None]:
    """Record a new baseline; an existing one is first kept as baseline_<date>.json (returned)."""
    p = golden_paths()
    result = record_baseline(load_golden_set(p["set"]), p["baseline"], settings=settings(), jobs=GOLDEN_JOBS,
                             progress=on_progress)
    return result, result.previous


def golden_compare(on_progress: Progress | None = None, threshold: float = GOLDEN_THRESHOLD) -> CompareResult:
    """Run the golden compare against the baseline, writing last_report.json and its history copy.
    Raises InputError (with the file and case) when the set or baseline is missing or malformed."""
    p = golden_paths()
    golden_set = load_golden_set(p["set"])
    baseline = load_baseline(p["baseline"], golden_set)
    return compare_to_baseline(golden_set, baseline, p["report"], settings=settings(),
                               similarity=get_similarity("auto"), threshold=threshold, jobs=GOLDEN_JOBS,
                               progress=on_progress)
