"""The Goldens page's door to the engine: cached loaders of the last report, its case table, the
SLO verdicts and the pass-rate history, and the record/compare actions. Nothing here draws."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.services import cache_enabled, settings
from engine.errors import EngineError
from engine.golden.cases import load_baseline, load_golden_set
from engine.golden.history import History, compute_case_table, load_comparison_history, load_report
from engine.golden.runner import (
    CompareResult,
    RecordResult,
    backup_baseline,
    compare_to_baseline,
    default_set_path,
    record_baseline,
)
from engine.golden.similarity import get_similarity
from engine.golden.slo import compute_slo_verdicts, load_slo_inputs

DEFAULT_THRESHOLD = 0.25
DEFAULT_JOBS = 4

Progress = Callable[[int, int], None]


def paths() -> dict[str, Path]:
    current = settings()
    return {"set": default_set_path(current), "baseline": current.paths.baseline,
            "report": current.paths.last_report, "state": current.paths.adaptive_state,
            "goldens": current.paths.goldens_dir}


def _stamp(path: Path) -> tuple[int, int] | None:
    """(mtime, size) of a file, so a cached value is recomputed when the file changes."""
    try:
        st_ = path.stat()
    except FileNotFoundError:
        return None
    return st_.st_mtime_ns, st_.st_size


def _history_stamp(folder: Path) -> tuple:
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("comparison_*.json"))) \
        if folder.exists() else ()


def _load_report_view(path: str) -> tuple[dict[str, Any] | None, pd.DataFrame | None, str | None]:
    try:
        report = load_report(path)
    except EngineError as exc:
        return None, None, exc.message
    return report, None if report is None else compute_case_table(report), None


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _report_view(path: str, stamp: tuple | None) -> tuple[dict[str, Any] | None, pd.DataFrame | None, str | None]:
    return _load_report_view(path)


def last_report() -> tuple[dict[str, Any] | None, pd.DataFrame | None, str | None]:
    """(report, case table, error): the last golden report, or None when no compare has run."""
    path = paths()["report"]
    if not cache_enabled():
        return _load_report_view(str(path))
    return _report_view(str(path), _stamp(path))


def _load_slo_view(report: str, state: str) -> tuple[list[dict[str, Any]], list[str], str | None]:
    try:
        inputs = load_slo_inputs(Path(report), Path(state))
    except EngineError as exc:
        return [], [], exc.message
    return [v.to_dict() for v in compute_slo_verdicts(inputs)], inputs.notes, None


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _slo_view(report: str, state: str, stamps: tuple) -> tuple[list[dict[str, Any]], list[str], str | None]:
    return _load_slo_view(report, state)


def slo_verdicts() -> tuple[list[dict[str, Any]], list[str], str | None]:
    """(verdict rows, notes, error) for the runbook's SLOs, as `quality_alert.py` judges them."""
    p = paths()
    stamps = (_stamp(p["report"]), _stamp(p["state"]))
    if not cache_enabled():
        return _load_slo_view(str(p["report"]), str(p["state"]))
    return _slo_view(str(p["report"]), str(p["state"]), stamps)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _history_view(folder: str, stamp: tuple) -> History:
    return load_comparison_history(folder)


def pass_rate_history() -> History:
    """Pass rate across the comparison_*.json files, oldest first."""
    folder = paths()["goldens"]
    if not cache_enabled():
        return load_comparison_history(folder)
    return _history_view(str(folder), _history_stamp(folder))


def baseline_summary() -> tuple[dict[str, Any] | None, str | None]:
    """(summary, error): when, by which provider and for how many cases the baseline was recorded."""
    p = paths()
    if not p["baseline"].exists():
        return None, None
    try:
        baseline = load_baseline(p["baseline"])
    except EngineError as exc:
        return None, exc.message
    return {"path": str(p["baseline"]), "recorded_at": baseline.recorded_at, "provider": baseline.provider,
            "cases": len(baseline.cases), "simulated": baseline.simulated}, None


def record(on_progress: Progress | None = None) -> tuple[RecordResult, Path | None]:
    """Record a new baseline; an existing one is first kept as baseline_<date>.json (returned)."""
    p = paths()
    backup = backup_baseline(p["baseline"]) if p["baseline"].exists() else None
    result = record_baseline(load_golden_set(p["set"]), p["baseline"], settings=settings(), jobs=DEFAULT_JOBS,
                             progress=on_progress)
    return result, backup


def compare(on_progress: Progress | None = None, threshold: float = DEFAULT_THRESHOLD) -> CompareResult:
    """Run the golden compare against the baseline, writing last_report.json and its history copy.
    Raises InputError (with the file and case) when the set or baseline is missing or malformed."""
    p = paths()
    golden_set = load_golden_set(p["set"])
    baseline = load_baseline(p["baseline"], golden_set)
    return compare_to_baseline(golden_set, baseline, p["report"], settings=settings(),
                               similarity=get_similarity("auto"), threshold=threshold, jobs=DEFAULT_JOBS,
                               progress=on_progress)
