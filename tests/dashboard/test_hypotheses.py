"""Hypotheses page: pass-rate trends and quality per bucket and route, as the engine computes them."""

from __future__ import annotations

import numpy as np

from engine.analysis import (
    Filters,
    compute_hypothesis_pass_rates,
    compute_pass_rate_over_time,
    compute_quality_by_bucket_route,
)
from tests.dashboard.conftest import assert_same_frame, chart, engine_store, open_page, tables, texts, trace, values


def check_hypotheses(at, log_path, filters: Filters) -> None:
    store = engine_store(log_path)
    quality, checks = tables(at)[:2]
    assert_same_frame(quality, compute_quality_by_bucket_route(store, filters))
    assert_same_frame(checks, compute_hypothesis_pass_rates(store, filters))
    pass_chart = chart(at, "Pass rate over time")
    series = compute_pass_rate_over_time(store, filters)
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
    assert set(tables(at)[0]["route"]) == {"embedder"}


def test_hypotheses_with_corrupt_lines(corrupt_log):
    at = open_page("hypotheses")
    check_hypotheses(at, corrupt_log, Filters())
    assert "4 unreadable log lines" in texts(at)


def test_hypotheses_without_data_offers_demo_traffic(no_data_log):
    at = open_page("hypotheses")
    assert at.button(key="generate_demo_empty")
    assert not at.get("plotly_chart")
