"""The log's figures for Overview, Hypotheses, Routing and Drill-down: the sidebar's filters, then
one cached call into engine.analysis per figure, keyed on the store's version."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.services.cache import cached, settings, store
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


def message_events(message_id: str) -> list[dict[str, Any]]:
    return analysis.load_message_events(settings().paths.log, message_id)
