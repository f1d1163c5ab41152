"""The dashboard's only door to the engine: cached loaders over engine.analysis.figures and the actions.

Pages call these functions and draw the results; nothing here draws. The "Disable cache" toggle
(session key `disable_cache`) bypasses every cache, including the shared incremental store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import streamlit as st

from engine.analysis import figures as analytics
from engine.analysis.figures import EventStore, Filters
from engine.errors import EngineError
from engine.provenance import rotate_log as engine_rotate_log
from engine.providers import resolve_providers
from engine.providers.egress import safe_url
from engine.routing.routers import TRAITS  # noqa: F401  (the traits the Ask form offers: services.TRAITS)
from engine.settings import Settings, get_settings, load_model_config

AUTO_REFRESH_SECONDS = 10
DEMO_DEFAULT_N = 200
DEMO_MAX_N = 5000
ALL = "All"


def settings() -> Settings:
    return get_settings()


def cache_enabled() -> bool:
    return not st.session_state.get("disable_cache", False)


def refresh_interval() -> int | None:
    """Seconds between live refreshes, or None when auto-refresh is off."""
    return AUTO_REFRESH_SECONDS if st.session_state.get("auto_refresh", False) else None


# ---- the incremental store ------------------------------------------------------------------

@st.cache_resource(max_entries=8, show_spinner=False)
def _shared_store(log_path: str) -> EventStore:
    # A read-only handle on the log: it never writes it, and refresh() is thread-safe.
    return EventStore(log_path)


def begin_run() -> None:
    """Called once at the top of every full run: with the cache disabled, the log is read afresh."""
    previous = st.session_state.pop("_uncached_store", None)
    if previous is not None:
        previous.close()


def store() -> EventStore:
    """The store for the configured log, brought up to date (reads only the new bytes).

    With "Disable cache" on, each full run builds its own store from the whole log instead of
    sharing the incremental one.
    """
    path = str(settings().paths.log)
    if cache_enabled():
        current = _shared_store(path)
    else:
        current = st.session_state.get("_uncached_store")
        if current is None or str(current.path) != path:
            current = EventStore(path)
            st.session_state["_uncached_store"] = current
    current.refresh()
    return current


@st.cache_data(max_entries=256, ttl=600, show_spinner=False)
def _cached(name: str, version: tuple, filters: Filters, _store: EventStore) -> Any:
    return getattr(analytics, name)(_store, filters)


def _figure(name: str, filters: Filters) -> Any:
    current = store()
    if not cache_enabled():
        return getattr(analytics, name)(current, filters)
    return _cached(name, current.version, filters, current)


def current_filters() -> Filters:
    """The sidebar's selections as engine Filters ("All" means no filter)."""
    state = st.session_state

    def pick(key: str) -> str | None:
        value = state.get(key, ALL)
        return None if value in (None, ALL) else str(value)

    return analytics.compute_filters(state.get("window", "All time"), pick("trait_filter"),
                                     pick("bucket_filter"), pick("route_filter"),
                                     now=datetime.now(timezone.utc).replace(microsecond=0))


def window_choices() -> list[str]:
    return list(analytics.WINDOWS)


@st.cache_data(max_entries=16, ttl=600, show_spinner=False)
def _cached_options(version: tuple, _store: EventStore) -> dict[str, list[str]]:
    return analytics.compute_filter_options(_store)


def filter_options() -> dict[str, list[str]]:
    """Traits, buckets and routes present in the log."""
    current = store()
    if not cache_enabled():
        return analytics.compute_filter_options(current)
    return _cached_options(current.version, current)


def log_summary() -> dict[str, Any]:
    """Does the log exist, how many events and unreadable lines the store holds."""
    current = store()
    path = settings().paths.log
    counters = current.counters
    return {"path": str(path), "exists": path.exists(),
            "bytes": path.stat().st_size if path.exists() else 0,
            "events": counters.events, "responses": analytics.compute_response_count(current),
            "unreadable": counters.skipped_lines + (1 if counters.truncated_tail else 0),
            "counters": asdict(counters)}


def event_counts():
    """Events per type in the whole log (the runbook's "count events by type")."""
    return analytics.compute_event_counts(store())


def headline(filters: Filters) -> analytics.Headline:
    return _figure("compute_headline", filters)


def bucket_split(filters: Filters):
    return _figure("compute_bucket_split", filters)


def routing_sources(filters: Filters):
    return _figure("compute_routing_sources", filters)


def pass_rate_over_time(filters: Filters):
    return _figure("compute_pass_rate_over_time", filters)


def quality_by_bucket_route(filters: Filters):
    return _figure("compute_quality_by_bucket_route", filters)


def hypothesis_pass_rates(filters: Filters):
    return _figure("compute_hypothesis_pass_rates", filters)


def boundary_over_time(filters: Filters):
    return _figure("compute_boundary_over_time", filters)


def complexity_quality(filters: Filters):
    return _figure("compute_complexity_quality", filters)


def routing_split_over_time(filters: Filters):
    return _figure("compute_routing_split_over_time", filters)


def adaptations(filters: Filters):
    return _figure("compute_adaptations", filters)


def current_boundaries(filters: Filters) -> dict[str, float]:
    """Boundaries from the adaptive state file when readable, else the last ones in the log."""
    state, _ = adaptive_state()
    from_state = analytics.compute_state_boundaries(state)
    return from_state or _figure("compute_current_boundaries", filters)


def event_page(filters: Filters, search: str, sort_by: str, descending: bool, page: int,
               page_size: int) -> analytics.EventPage:
    path = settings().paths.log
    if not cache_enabled():
        return analytics.load_event_page(path, filters, search=search, sort_by=sort_by,
                                         descending=descending, page=page, page_size=page_size)
    return _cached_page(store().version, filters, search, sort_by, descending, page, page_size, str(path))


@st.cache_data(max_entries=64, ttl=300, show_spinner=False)
def _cached_page(version: tuple, filters: Filters, search: str, sort_by: str, descending: bool,
                 page: int, page_size: int, path: str) -> analytics.EventPage:
    return analytics.load_event_page(Path(path), filters, search=search, sort_by=sort_by,
                                     descending=descending, page=page, page_size=page_size)


def sortable_columns() -> tuple[str, ...]:
    return analytics.SORTABLE


def message_events(message_id: str) -> list[dict[str, Any]]:
    return analytics.load_message_events(settings().paths.log, message_id)


# ---- configuration and state ----------------------------------------------------------------

def _load_provider_info() -> dict[str, Any]:
    current = settings()
    try:
        models = load_model_config(current)
        choice = resolve_providers(current, models)
    except EngineError as exc:
        return {"mode": "error", "simulated": False, "reason": exc.message, "main": None, "embedder": None}
    return {"mode": choice.mode, "simulated": choice.simulated, "reason": choice.reason,
            "main": models.main.name, "embedder": models.embedder.name}


@st.cache_data(ttl=30, max_entries=8, show_spinner=False)
def _provider_info(settings_key: str) -> dict[str, Any]:
    return _load_provider_info()


def provider_info() -> dict[str, Any]:
    """Which provider answers (sim or a server) and why; cached 30 s since `auto` probes HTTP."""
    key = json.dumps(settings().redacted(), sort_keys=True, default=str)
    if not cache_enabled():
        return _load_provider_info()
    return _provider_info(key)


def adaptive_state() -> tuple[dict[str, Any] | None, str | None]:
    """(state, error message): the raw adaptive state file, read fresh each time (it is small)."""
    try:
        return analytics.load_adaptive_state(settings().paths.adaptive_state), None
    except EngineError as exc:
        return None, exc.message


def model_config() -> tuple[dict[str, Any] | None, str | None]:
    try:
        config = load_model_config(settings())
    except EngineError as exc:
        return None, exc.message
    # safe_url: an endpoint written as http://user:key@host must not show its key.
    return {key: {**asdict(spec), "api_endpoint": safe_url(spec.api_endpoint)}
            for key, spec in (("main_model", config.main), ("embedder_llm", config.embedder))}, None


def settings_view() -> dict[str, Any]:
    """Settings with every secret replaced by a marker (and no credentials inside endpoint URLs)."""
    return {key: safe_url(value) if key.endswith("_ENDPOINT") and isinstance(value, str) else value
            for key, value in settings().redacted().items()}


def data_paths() -> dict[str, str]:
    paths = settings().paths
    return {"data dir": str(paths.root), "provenance log": str(paths.log),
            "adaptive state": str(paths.adaptive_state), "model config": str(paths.model_config),
            "goldens": str(paths.goldens_dir)}


def kill_switch() -> dict[str, Any]:
    enabled = settings().aios_adaptive_enabled
    return {"adaptive_enabled": enabled,
            "text": "adaptive routing ON" if enabled else "adaptive routing OFF (AIOS_ADAPTIVE_ENABLED=0)"}


def pass_quality() -> float:
    return analytics.PASS_QUALITY


def drift_band(boundaries: dict[str, float]) -> analytics.DriftBand:
    return analytics.compute_drift_band(boundaries)


# ---- actions --------------------------------------------------------------------------------

def _api():
    from engine import api  # imported on use: the loop loads providers and state
    return api


def ask(question: str, trait: str) -> Any:
    """Send one question through the loop; returns engine.api.AskResult (InputError on bad input)."""
    return _api().ask(question, trait, origin="ask")


def simulate(n: int, seed: int, on_progress: Callable[[int, int], None] | None = None) -> Any:
    """Generate n demo questions through the loop; returns engine.api.SimulateSummary.

    `on_progress(done, total)` is called after each answer.
    """
    done = 0

    def step(_result: Any) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, n)

    return _api().simulate(n, seed=seed, progress=step)


def demo_seed() -> int:
    """A seed that differs from one demo batch to the next (the number of answers logged so far)."""
    return analytics.compute_response_count(store())


def describe_simulation(summary: Any) -> str:
    return (f"{summary.n} demo questions in {summary.sessions} sessions ({summary.elapsed_s:.1f} s, "
            f"{summary.adaptations} adaptations, final drift {summary.final_drift:.3f})")


def reset_adaptive_state() -> Any:
    """Delete the adaptive state (the A/B test restarts); returns the removed path or None."""
    return _api().reset_adaptive_state()


def rotate_log() -> Any:
    """Move the log to a dated gzip beside it; the store notices the new file on its next refresh."""
    return engine_rotate_log(settings().paths.log)
