"""Cached loaders for the A/B statistics and hypothesis trends (engine.analysis.ab_report); nothing draws here.

Results are keyed on the log's identity and size, so a grown or rotated log is read again; the
sidebar's time window applies, its bucket/trait/route filters do not (an A/B test needs both arms).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import services
from engine.analysis import ab_report
from engine.analysis.ab_report import AbReport
from engine.analysis.stats import SrmResult


def _log_key(path: Path) -> tuple:
    try:
        st_ = os.stat(path)
    except FileNotFoundError:
        return (str(path), None)
    return (str(path), st_.st_dev, st_.st_ino, st_.st_size, st_.st_mtime_ns)


def _since() -> datetime | None:
    return services.current_filters().since


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def _cached_report(key: tuple, state_key: tuple, since: datetime | None) -> AbReport:
    return ab_report.load_ab_report(services.settings(), since=since)


def report() -> AbReport:
    """The A/B report of the configured log for the sidebar's time window."""
    settings = services.settings()
    if not services.cache_enabled():
        return ab_report.load_ab_report(settings, since=_since())
    return _cached_report(_log_key(settings.paths.log), _log_key(settings.paths.adaptive_state), _since())


def srm() -> SrmResult:
    """The sample-ratio-mismatch check over the whole log (a split problem is never windowed away)."""
    settings = services.settings()
    if not services.cache_enabled():
        return ab_report.load_ab_report(settings).srm
    return _cached_report(_log_key(settings.paths.log), _log_key(settings.paths.adaptive_state), None).srm


def unit_note(current: AbReport) -> str:
    """Which unit the intervals treat as independent (session by default), in one line."""
    return ab_report.unit_note(current.analysis_unit)


def table(current: AbReport) -> pd.DataFrame:
    """The comparison table, cell for cell as `python -m engine ab-report` prints it."""
    return pd.DataFrame(ab_report.compute_table_rows(current))


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def _cached_trends(key: tuple, since: datetime | None) -> pd.DataFrame:
    return ab_report.load_hypothesis_trends(Path(key[0]), since=since)


def hypothesis_trends() -> pd.DataFrame:
    """Pass rate per time bin and hypothesis (bin_start, hypothesis_id, checks, ..., pass_rate)."""
    path = services.settings().paths.log
    if not services.cache_enabled():
        return ab_report.load_hypothesis_trends(path, since=_since())
    return _cached_trends(_log_key(path), _since())


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def _cached_summary(key: tuple, since: datetime | None) -> pd.DataFrame:
    return ab_report.load_hypothesis_summary(Path(key[0]), since=since)


def hypothesis_summary() -> pd.DataFrame:
    """Per hypothesis: checks, pass rate with its interval, errors and the last error message."""
    path = services.settings().paths.log
    if not services.cache_enabled():
        return ab_report.load_hypothesis_summary(path, since=_since())
    return _cached_summary(_log_key(path), _since())


def broken_hypotheses(summary: pd.DataFrame) -> pd.DataFrame:
    """The rows of hypotheses that reported errors (raised or returned garbage)."""
    return summary[summary["errors"] > 0][["hypothesis_id", "errors", "checks", "last_error"]]


def min_answers_per_arm() -> int:
    return ab_report.MIN_ANSWERS_PER_ARM
