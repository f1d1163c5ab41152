"""Hypotheses page: pass-rate trends and quality per bucket and route, as the engine computes them."""

from __future__ import annotations

import numpy as np

from dashboard.components.tables import HYPOTHESES, QUALITY, QUALITY_METHODS, format_table
from engine.analysis import (
    MIN_BIN_ANSWERS,
    Filters,
    compute_bin_seconds,
    compute_hypothesis_pass_rates,
    compute_pass_rate_over_time,
    compute_quality_by_bucket_route,
    compute_quality_by_method,
    compute_trend_display,
)
from tests.dashboard.conftest import assert_same_frame, chart, engine_store, open_page, tables, texts, trace, values


def shown_table(at, spec):
    """The page's table drawn with this spec (found by its headers)."""
    return next(t for t in tables(at) if list(t.columns) == spec.headers)


def check_hypotheses(at, log_path, filters: Filters) -> None:
    store = engine_store(log_path)
    assert_same_frame(shown_table(at, QUALITY), format_table(compute_quality_by_bucket_route(store, filters), QUALITY))
    assert_same_frame(shown_table(at, HYPOTHESES),
                      format_table(compute_hypothesis_pass_rates(store, filters), HYPOTHESES))
    methods = compute_quality_by_method(store, filters)
    assert_same_frame(shown_table(at, QUALITY_METHODS), format_table(methods, QUALITY_METHODS))
    assert "Quality method: " + ", ".join(f"{m} ({n:,} answers)" for m, n in
                                          zip(methods["quality_method"], methods["answers"])) in texts(at)
    pass_chart = chart(at, f"Pass rate over time (bins of fewer than {MIN_BIN_ANSWERS} answers not drawn)")
    series = compute_trend_display(compute_pass_rate_over_time(store, filters),
                                   compute_bin_seconds(store, filters), ["pass_rate"], group_columns=["bucket"])
    for bucket, rows in series.groupby("bucket"):
        np.testing.assert_allclose(values(trace(pass_chart, bucket).y),
                                   rows["pass_rate"].to_numpy(dtype=float))


def test_hypotheses_figures_equal_the_engine(fixture_log):
    at = open_page("hypotheses")
    check_hypotheses(at, fixture_log, Filters())
    assert chart(at, "Mean quality per bucket and route")


def test_hypotheses_follow_the_route_filter(fixture_log):
    at = open_page("hypotheses")
    at.selectbox(key="route_filter").select("embedder").run()
    assert not at.exception
    check_hypotheses(at, fixture_log, Filters(route="embedder"))
    assert set(shown_table(at, QUALITY)["Route"]) == {"embedder"}


def test_hypotheses_with_corrupt_lines(corrupt_log):
    at = open_page("hypotheses")
    check_hypotheses(at, corrupt_log, Filters())
    assert "4 unreadable log lines" in texts(at)


def test_hypotheses_without_data_offers_demo_traffic(no_data_log):
    at = open_page("hypotheses")
    assert at.button(key="generate_demo_empty")
    assert not at.get("plotly_chart")
