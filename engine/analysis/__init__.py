"""The read side's one door: the event store over the provenance log, every figure, the drill-down,
the A/B report and its pure statistics, the typed adaptive state, status. What the dashboard, the
CLI, the SLO check and the gateway show is named here: `from engine import analysis`, then
`analysis.compute_headline(store, filters)`.

Names resolve on first use (PEP 562), so a command that needs only the statistics or the status
does not pay for importing pandas and DuckDB.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.analysis.ab_report import (
        ANALYSIS_UNITS,
        DEFAULT_UNIT,
        METRICS,
        MIN_ANSWERS_PER_ARM,
        AbReport,
        BucketAggregates,
        MetricComparison,
        Verdict,
        compute_ab_report,
        compute_bucket_aggregates,
        compute_table_rows,
        format_value,
        load_ab_report,
        load_bucket_aggregates,
        load_expected_split,
        load_hypothesis_summary,
        load_hypothesis_trends,
        render_ab_report_text,
        unit_note,
    )
    from engine.analysis.drilldown import SORTABLE, EventPage, load_event_page, load_message_events
    from engine.analysis.figures import (
        BIN_CHOICES,
        DRIFT_RED_FLAG,
        DRIFT_SLO,
        MAX_BINS,
        MIN_BIN_ANSWERS,
        PASS_QUALITY,
        PERIODS,
        SCORE_BAND_WIDTH,
        Correctness,
        DriftBand,
        Headline,
        PeriodFigures,
        RedFlag,
        VerdictReading,
        compute_accuracy_by_bucket_route,
        compute_adaptations,
        compute_agreement_by_route_band,
        compute_bin_seconds,
        compute_bin_width,
        compute_boundary_bin_seconds,
        compute_boundary_over_time,
        compute_boundary_trend,
        compute_bucket_split,
        compute_complexity_quality,
        compute_correctness,
        compute_current_boundaries,
        compute_drift_band,
        compute_event_counts,
        compute_filter_options,
        compute_headline,
        compute_hypothesis_pass_rates,
        compute_hypothesis_trends,
        compute_main_share_saving,
        compute_pass_rate_over_time,
        compute_period_comparison,
        compute_period_figures,
        compute_quality_by_bucket_route,
        compute_quality_by_method,
        compute_red_flags,
        compute_response_count,
        compute_routing_sources,
        compute_routing_split_over_time,
        compute_state_boundaries,
        compute_trend_display,
        compute_verdict_reading,
        load_adaptive_state,
    )
    from engine.analysis.stats import (
        ALPHA,
        ArmStats,
        BoundaryDrift,
        NotEnoughData,
        PassRate,
        RatioSums,
        SrmResult,
        WelchResult,
        compute_boundary_drift,
        compute_pass_rate,
        compute_ratio_comparison,
        compute_srm,
        compute_welch,
    )
    from engine.analysis.status import SystemStatus, compute_status, render_status_text
    from engine.analysis.store import (
        WINDOWS,
        EventStore,
        Filters,
        RefreshStats,
        StoreCounters,
        compute_filters,
        load_event_store,
    )
    from engine.routing.state import read_state, read_state_file

# The public surface (a test checks it names exactly the imports above).
__all__ = [
    "AbReport", "ALPHA", "ANALYSIS_UNITS", "ArmStats", "BIN_CHOICES", "BoundaryDrift", "BucketAggregates",
    "compute_ab_report", "compute_adaptations", "compute_bin_seconds", "compute_bin_width",
    "compute_boundary_drift", "compute_boundary_over_time", "compute_bucket_aggregates", "compute_bucket_split",
    "compute_complexity_quality", "compute_current_boundaries", "compute_drift_band", "compute_event_counts",
    "compute_filter_options", "compute_filters", "compute_headline", "compute_hypothesis_pass_rates",
    "compute_hypothesis_trends", "compute_pass_rate", "compute_pass_rate_over_time",
    "compute_quality_by_bucket_route", "compute_ratio_comparison", "compute_response_count",
    "compute_routing_sources", "compute_routing_split_over_time", "compute_srm", "compute_state_boundaries",
    "compute_status", "compute_table_rows", "compute_welch", "DEFAULT_UNIT", "DRIFT_RED_FLAG", "DRIFT_SLO",
    "DriftBand", "EventPage", "EventStore", "Filters", "format_value", "Headline", "load_ab_report",
    "load_adaptive_state", "load_bucket_aggregates", "load_event_page", "load_event_store", "load_expected_split",
    "load_hypothesis_summary", "load_hypothesis_trends", "load_message_events", "MAX_BINS", "MetricComparison",
    "METRICS", "MIN_ANSWERS_PER_ARM", "NotEnoughData", "PASS_QUALITY", "PassRate", "RatioSums", "read_state",
    "read_state_file", "RefreshStats", "render_ab_report_text", "render_status_text", "SORTABLE", "SrmResult",
    "StoreCounters", "SystemStatus", "unit_note", "Verdict", "WelchResult", "WINDOWS",
    # correctness where it is known, the daily question and its red flags, honest trends, the verdict in words
    "compute_accuracy_by_bucket_route", "compute_agreement_by_route_band", "compute_correctness",
    "compute_main_share_saving", "compute_period_comparison", "compute_period_figures",
    "compute_quality_by_method", "compute_red_flags", "compute_trend_display", "compute_verdict_reading",
    "compute_boundary_bin_seconds", "compute_boundary_trend",
    "Correctness", "MIN_BIN_ANSWERS", "PERIODS", "PeriodFigures", "RedFlag", "SCORE_BAND_WIDTH",
    "VerdictReading",
]
# Where a name is looked up, lightest first: the statistics and the state need neither pandas nor DuckDB.
_MODULES = ("engine.analysis.stats", "engine.routing.state", "engine.analysis.status", "engine.analysis.store",
            "engine.analysis.figures", "engine.analysis.drilldown", "engine.analysis.ab_report")
_PUBLIC = frozenset(__all__)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        for module_name in _MODULES:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value  # resolved once; later lookups are plain attribute reads
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
