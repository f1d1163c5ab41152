"""The log's figures for Overview, Hypotheses, Routing and Drill-down: the sidebar's filters, then
one cached call into engine.analysis per figure, keyed on the store's version."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.services.cache import cached, file_stamp, settings, store
from dashboard.services.system import adaptive_state
from engine import analysis, runbook

ALL = "All"
# One limit for every figure: a handful of windows and filter combinations per log version.
FIGURE_CACHE: dict[str, Any] = {"ttl": 600, "max_entries": 32}


def current_filters() -> analysis.Filters:
    """The sidebar's selections as engine Filters ("All" means no filter)."""
    state = st.session_state

    def pick(key: str) -> str | None:
        value = state.get(key, ALL)
        return None if value in (None, ALL) else str(value)

    return analysis.compute_filters(state.get("window", "All time"), pick("trait_filter"),
                                    pick("bucket_filter"), pick("route_filter"),
                                    now=datetime.now(timezone.utc).replace(microsecond=0))


def window_choices() -> list[str]:
    return list(analysis.WINDOWS)


def filter_options() -> dict[str, list[str]]:
    """Traits, buckets and routes present in the log."""
    return cached(analysis.compute_filter_options, store(), ttl=600, max_entries=16)


def log_summary() -> dict[str, Any]:
    """Does the log exist, how many events and unreadable lines the store holds."""
    current = store()
    path = settings().paths.log
    counters = current.counters
    return {"path": str(path), "exists": path.exists(),
            "bytes": path.stat().st_size if path.exists() else 0,
            "events": counters.events, "responses": analysis.compute_response_count(current),
            "unreadable": counters.skipped_lines + (1 if counters.truncated_tail else 0),
            "counters": asdict(counters)}


def event_counts() -> pd.DataFrame:
    """Events per type in the whole log (the runbook's "count events by type")."""
    return analysis.compute_event_counts(store())


def headline(filters: analysis.Filters) -> analysis.Headline:
    return cached(analysis.compute_headline, store(), filters, **FIGURE_CACHE)


def bucket_split(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_bucket_split, store(), filters, **FIGURE_CACHE)


def routing_sources(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_routing_sources, store(), filters, **FIGURE_CACHE)


def pass_rate_over_time(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_pass_rate_over_time, store(), filters, **FIGURE_CACHE)


def quality_by_bucket_route(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_quality_by_bucket_route, store(), filters, **FIGURE_CACHE)


def hypothesis_pass_rates(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_hypothesis_pass_rates, store(), filters, **FIGURE_CACHE)


def boundary_over_time(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_boundary_over_time, store(), filters, **FIGURE_CACHE)


def boundary_trend(filters: analysis.Filters) -> pd.DataFrame:
    """The boundary per bucket and bin, a blank row in each gap (the step line breaks there)."""
    return cached(analysis.compute_boundary_trend, store(), filters, **FIGURE_CACHE)


def boundary_bin_seconds(filters: analysis.Filters) -> int:
    return cached(analysis.compute_boundary_bin_seconds, store(), filters, **FIGURE_CACHE)


def complexity_quality(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_complexity_quality, store(), filters, **FIGURE_CACHE)


def routing_split_over_time(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_routing_split_over_time, store(), filters, **FIGURE_CACHE)


def adaptations(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_adaptations, store(), filters, **FIGURE_CACHE)


def current_boundaries(filters: analysis.Filters) -> dict[str, float]:
    """Boundaries from the adaptive state file when readable, else the last ones in the log."""
    state, _ = adaptive_state()
    from_state = analysis.compute_state_boundaries(state)
    return from_state or cached(analysis.compute_current_boundaries, store(), filters, **FIGURE_CACHE)


def drift_band(boundaries: dict[str, float]) -> analysis.DriftBand:
    return analysis.compute_drift_band(boundaries)


def pass_quality() -> float:
    return runbook.PASS_QUALITY


# ---- drill-down -----------------------------------------------------------------------------

def _load_event_page(path: str, filters: analysis.Filters, search: str, sort_by: str, descending: bool,
                     page: int, page_size: int) -> analysis.EventPage:
    return analysis.load_event_page(Path(path), filters, search=search, sort_by=sort_by,
                                    descending=descending, page=page, page_size=page_size)


def event_page(filters: analysis.Filters, search: str, sort_by: str, descending: bool, page: int,
               page_size: int) -> analysis.EventPage:
    """One page of the filtered, searched and sorted answers (read by the engine, not the store)."""
    return cached(_load_event_page, str(settings().paths.log), filters, search, sort_by, descending, page,
                  page_size, ttl=300, max_entries=64, key=store().version)


def sortable_columns() -> tuple[str, ...]:
    return tuple(analysis.SORTABLE)


def _load_message_events(path: str, message_id: str) -> list[dict[str, Any]]:
    return analysis.load_message_events(Path(path), message_id)


def message_events(message_id: str) -> list[dict[str, Any]]:
    """Every event of one message. Cached by the store's version: finding them scans the whole log
    (about 2 s for 1M events), which the Drill-down would otherwise pay on every rerun."""
    return cached(_load_message_events, str(settings().paths.log), message_id, ttl=300, max_entries=64,
                  key=store().version)


# ---- correctness where it is known, the daily question, red flags --------------------------------

def correctness(filters: analysis.Filters) -> analysis.Correctness:
    return cached(analysis.compute_correctness, store(), filters, **FIGURE_CACHE)


def agreement_by_route_band(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_agreement_by_route_band, store(), filters, **FIGURE_CACHE)


def accuracy_by_bucket_route(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_accuracy_by_bucket_route, store(), filters, **FIGURE_CACHE)


def quality_by_method(filters: analysis.Filters) -> pd.DataFrame:
    return cached(analysis.compute_quality_by_method, store(), filters, **FIGURE_CACHE)


def period_comparison(filters: analysis.Filters, period: str) -> pd.DataFrame:
    """This day (or week) against the one before, ending at the end of this minute (so it caches
    for a minute and still counts the answers of the last seconds)."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return cached(analysis.compute_period_comparison, store(), filters, now, period, **FIGURE_CACHE)


def period_choices() -> list[str]:
    return list(analysis.PERIODS)


def main_share_saving(filters: analysis.Filters) -> dict[str, float | None]:
    return analysis.compute_main_share_saving(routing_sources(filters))


def red_flags(filters: analysis.Filters) -> list[analysis.RedFlag]:
    """The runbook's red flags on this window's figures and the current boundaries."""
    return analysis.compute_red_flags(headline(filters), routing_sources(filters), current_boundaries(filters))


def verdict_reading(report: analysis.AbReport) -> analysis.VerdictReading:
    return analysis.compute_verdict_reading(report.verdict)


# ---- trends drawn honestly: sparse bins blanked, gaps broken, n kept ----------------------------

def min_bin_answers() -> int:
    return analysis.MIN_BIN_ANSWERS


def trend_bin_seconds(filters: analysis.Filters) -> int:
    return cached(analysis.compute_bin_seconds, store(), filters, **FIGURE_CACHE)


def headline_trend(head: analysis.Headline) -> pd.DataFrame:
    """The headline's per-bin trend ready to draw (sparkline points of too few answers left out)."""
    return analysis.compute_trend_display(
        head.trend, head.bin_seconds, ["pass_rate", "mean_quality", "p50_latency_ms", "p95_latency_ms"])


def pass_rate_trend(filters: analysis.Filters) -> pd.DataFrame:
    return analysis.compute_trend_display(pass_rate_over_time(filters), trend_bin_seconds(filters),
                                          ["pass_rate", "mean_quality"], group_columns=["bucket"])


def routing_split_trend(filters: analysis.Filters) -> pd.DataFrame:
    return analysis.compute_trend_display(routing_split_over_time(filters), trend_bin_seconds(filters),
                                          ["share"], group_columns=["bucket", "route"])


# ---- replay curves and the learned router (Routing page) -------------------------------------

def learned_model_path() -> Path:
    """Where the Routing page's "Train" button writes the learned router: AIOS_ROUTER_MODEL when set
    (the model the loop uses with AIOS_ROUTER=learned), else learned_router.json beside the log."""
    current = settings()
    if current.aios_router_model:
        return Path(current.aios_router_model)
    return current.paths.log.parent / "learned_router.json"


def _replay_view(current: analysis.EventStore, boundaries: tuple[tuple[str, float], ...],
                 model: str) -> dict[str, Any]:
    from engine.analysis.replay import compute_replay_view_logged, load_logged

    # One DuckDB scan of the replay's fields (not a dict per event): seconds on a 1M-event log.
    return compute_replay_view_logged(load_logged(current.path), dict(boundaries), model)


def replay_view(boundaries: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(curves, marks): quality against main share per router on the whole log, and the boundaries in
    use as points on the curve of the router the log used."""
    model = learned_model_path()
    view = cached(_replay_view, store(), tuple(sorted(boundaries.items())), str(model), ttl=600, max_entries=8,
                  key=file_stamp(model))
    return pd.DataFrame(view["curves"]), pd.DataFrame(view["marks"])


def train_learned_router() -> dict[str, Any]:
    """Train the learned router on the whole log (archives included) and save it; its summary with the
    held-out estimate. Raises InputError (too few labels) for the page to show."""
    from engine.analysis.replay import train_router_from_log

    return train_router_from_log(settings().paths.log, learned_model_path(), include_archives=True)
