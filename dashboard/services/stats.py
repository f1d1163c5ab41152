"""The A/B statistics and per-hypothesis trends (engine.analysis' A/B report), cached.

Results are keyed on the log's and the state's identity and size, so a grown or rotated log is
read again; the sidebar's time window applies, its bucket/trait/route filters do not (an A/B test
needs both arms).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from dashboard.services.cache import cached, file_stamp, settings, store
from dashboard.services.figures import current_filters
from engine import analysis
from engine.settings import Settings

REPORT_CACHE = {"ttl": 600, "max_entries": 32}


def _since() -> datetime | None:
    return current_filters().since


def _load_ab_report(current: Settings, since: datetime | None, events: analysis.EventStore) -> analysis.AbReport:
    return analysis.load_ab_report(current, since=since, store=events)


def _report(since: datetime | None) -> analysis.AbReport:
    # The page's shared incremental store: the report reads no file of its own (keyed by its version).
    current = settings()
    return cached(_load_ab_report, current, since, store(), **REPORT_CACHE,
                  key=file_stamp(current.paths.adaptive_state))


def ab_report() -> analysis.AbReport:
    """The A/B report of the configured log for the sidebar's time window."""
    return _report(_since())


def srm() -> analysis.SrmResult:
    """The sample-ratio-mismatch check over the whole log (a split problem is never windowed away)."""
    return _report(None).srm


def ab_unit_note(report: analysis.AbReport) -> str:
    """Which unit the intervals treat as independent (session by default), in one line."""
    return analysis.unit_note(report.analysis_unit)


def ab_table(report: analysis.AbReport) -> pd.DataFrame:
    """The comparison table, cell for cell as `python -m engine ab-report` prints it."""
    return pd.DataFrame(analysis.compute_table_rows(report))


def ab_key_table(report: analysis.AbReport) -> pd.DataFrame:
    """The comparison's key columns, narrow enough to read without scrolling: each arm's mean (the
    answers and sessions behind it are in the caption), the difference with its interval, p and
    P(treatment better); the same cells as the full table otherwise."""
    rows = []
    for metric, row in zip(report.metrics, analysis.compute_table_rows(report)):
        rows.append({"Metric": row["metric"],
                     "Control": analysis.format_value(metric.control.mean, metric.unit),
                     "Treatment": analysis.format_value(metric.treatment.mean, metric.unit),
                     "Difference [95 % CI]": row["difference [95% CI]"], "p": row["p"],
                     "P(treatment better)": row["P(treatment better)"]})
    return pd.DataFrame(rows)


def _load_hypothesis_trends(path: str, since: datetime | None, events: analysis.EventStore) -> pd.DataFrame:
    return analysis.load_hypothesis_trends(Path(path), since=since, store=events)


def hypothesis_trends() -> pd.DataFrame:
    """Pass rate per time bin and hypothesis (bin_start, hypothesis_id, checks, ..., pass_rate)."""
    return cached(_load_hypothesis_trends, str(settings().paths.log), _since(), store(), **REPORT_CACHE)


def hypothesis_trend_display(trends: pd.DataFrame) -> pd.DataFrame:
    """The per-hypothesis trend ready to draw: bins of too few checks blanked, gaps broken."""
    width = analysis.compute_bin_seconds(store(), analysis.Filters(since=_since()), "hypothesis", trait=False)
    # A hypothesis that never decided (every check errored) has no line: it is shown as broken instead.
    decided = trends.groupby("hypothesis_id")["pass_rate"].transform(lambda v: v.notna().any())
    return analysis.compute_trend_display(trends[decided].astype({"pass_rate": float}), width, ["pass_rate"],
                                          time_column="bin_start", group_columns=["hypothesis_id"],
                                          count_column="checks")


def _load_hypothesis_summary(path: str, since: datetime | None, events: analysis.EventStore) -> pd.DataFrame:
    return analysis.load_hypothesis_summary(Path(path), since=since, store=events)


def hypothesis_summary() -> pd.DataFrame:
    """Per hypothesis: checks, pass rate with its interval, errors and the last error message."""
    return cached(_load_hypothesis_summary, str(settings().paths.log), _since(), store(), **REPORT_CACHE)


def broken_hypotheses(summary: pd.DataFrame) -> pd.DataFrame:
    """The rows of hypotheses that reported errors (raised or returned garbage)."""
    return summary[summary["errors"] > 0][["hypothesis_id", "errors", "checks", "last_error"]]
