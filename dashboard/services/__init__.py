"""The dashboard's only door to the engine: named calls into engine.api, engine.analysis and
engine.golden (plus settings and runbook constants), each cached through `cached()`.

Pages and components call `services.<name>` and draw what comes back; nothing here draws. The
"Disable cache" toggle (session key `disable_cache`) bypasses every cache, the shared store included.
"""

from dashboard.services.actions import (
    DEMO_DEFAULT_N,
    DEMO_MAX_N,
    ask,
    demo_seed,
    reset_adaptive_state,
    rotate_log,
    simulate,
    traits,
)
from dashboard.services.cache import (
    AUTO_REFRESH_SECONDS,
    begin_run,
    cache_enabled,
    cached,
    refresh_interval,
    settings,
    shared_store,
    store,
)
from dashboard.services.figures import (
    ALL,
    accuracy_by_bucket_route,
    adaptations,
    agreement_by_route_band,
    boundary_bin_seconds,
    boundary_over_time,
    boundary_trend,
    bucket_split,
    complexity_quality,
    correctness,
    current_boundaries,
    current_filters,
    drift_band,
    event_counts,
    event_page,
    filter_options,
    headline,
    headline_trend,
    hypothesis_pass_rates,
    learned_model_path,
    log_summary,
    main_share_saving,
    message_events,
    min_bin_answers,
    pass_quality,
    pass_rate_over_time,
    pass_rate_trend,
    period_choices,
    period_comparison,
    quality_by_bucket_route,
    quality_by_method,
    red_flags,
    replay_view,
    routing_sources,
    routing_split_over_time,
    routing_split_trend,
    sortable_columns,
    train_learned_router,
    trend_bin_seconds,
    verdict_reading,
    window_choices,
)
from dashboard.services.goldens import (
    GOLDEN_THRESHOLD,
    baseline_summary,
    golden_compare,
    golden_history,
    golden_paths,
    golden_record,
    golden_report,
    slo_verdicts,
)
from dashboard.services.stats import (
    ab_key_table,
    ab_report,
    ab_table,
    ab_unit_note,
    broken_hypotheses,
    hypothesis_summary,
    hypothesis_trend_display,
    hypothesis_trends,
    srm,
)
from dashboard.services.system import (
    adaptive_state,
    bandit_arms,
    data_paths,
    gateway_health,
    kill_switch,
    model_config,
    provider_info,
    settings_view,
)
from engine.analysis import AbReport, Filters, SrmResult
from engine.errors import EngineError

__all__ = [
    "DEMO_DEFAULT_N", "DEMO_MAX_N", "ask", "demo_seed", "reset_adaptive_state", "rotate_log", "simulate", "traits",
    "AUTO_REFRESH_SECONDS", "begin_run", "cache_enabled", "cached", "refresh_interval", "settings", "shared_store",
    "store",
    "ALL", "adaptations", "boundary_over_time", "bucket_split", "complexity_quality", "current_boundaries",
    "current_filters", "drift_band", "event_counts", "event_page", "filter_options", "headline",
    "hypothesis_pass_rates", "log_summary", "message_events", "pass_quality", "pass_rate_over_time",
    "quality_by_bucket_route", "routing_sources", "routing_split_over_time", "sortable_columns", "window_choices",
    "accuracy_by_bucket_route", "agreement_by_route_band", "correctness", "headline_trend", "main_share_saving",
    "min_bin_answers", "pass_rate_trend", "period_choices", "period_comparison", "quality_by_method", "red_flags",
    "routing_split_trend", "trend_bin_seconds", "verdict_reading",
    "learned_model_path", "replay_view", "train_learned_router", "boundary_bin_seconds", "boundary_trend",
    "GOLDEN_THRESHOLD", "baseline_summary", "golden_compare", "golden_history", "golden_paths", "golden_record",
    "golden_report", "slo_verdicts",
    "ab_key_table", "ab_report", "ab_table", "ab_unit_note", "broken_hypotheses", "hypothesis_summary",
    "hypothesis_trend_display", "hypothesis_trends", "srm",
    "adaptive_state", "bandit_arms", "data_paths", "gateway_health", "kill_switch", "model_config", "provider_info",
    "settings_view",
    "AbReport", "Filters", "SrmResult", "EngineError",
]
