"""Overview page against the engine's figures, with every kind of log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dashboard.components.format import fmt_count, fmt_latency, fmt_pct, fmt_quality
from engine.analysis import (
    Filters,
    compute_bucket_split,
    compute_filters,
    compute_headline,
    compute_routing_sources,
)
from tests.dashboard.conftest import assert_same_frame, engine_store, metrics, open_page, tables, texts
from tests.dashboard.fixture_log import write_fixture_log


def check_overview(at, log_path, filters: Filters) -> None:
    store = engine_store(log_path)
    head = compute_headline(store, filters)
    shown = metrics(at)
    assert shown["Events"] == fmt_count(head.events)
    assert shown["Pass rate"] == fmt_pct(head.pass_rate)
    assert shown["Mean quality"] == fmt_quality(head.mean_quality)
    assert shown["P50 latency"] == fmt_latency(head.p50_latency_ms)
    assert shown["P95 latency"] == fmt_latency(head.p95_latency_ms)
    split, sources = tables(at)
    assert_same_frame(split, compute_bucket_split(store, filters))
    assert_same_frame(sources, compute_routing_sources(store, filters))
    assert len(at.get("plotly_chart")) == 2


def test_overview_figures_equal_the_engine(fixture_log):
    at = open_page()
    check_overview(at, fixture_log, Filters())
    assert metrics(at)["Events"] == "120"
    assert "SIMULATED" in texts(at)


def test_overview_follows_the_sidebar_filters(fixture_log):
    at = open_page()
    at.selectbox(key="bucket_filter").select("treatment").run()
    at.selectbox(key="trait_filter").select("technical").run()
    assert not at.exception
    check_overview(at, fixture_log, Filters(bucket="treatment", trait="technical"))
    assert metrics(at)["Events"] == "20"


def test_overview_time_window(log_path):
    # 120 answers 30 s apart, the last one 10 s ago: the last 15 minutes hold 30 of them, and no
    # answer sits within 10 s of the window's edge, so the page and this test agree on "now".
    now = datetime.now(timezone.utc)
    write_fixture_log(log_path, start=now - timedelta(seconds=10 + 30 * 119))
    at = open_page()
    at.selectbox(key="window").select("Last 15 minutes").run()
    assert not at.exception
    check_overview(at, log_path, compute_filters("Last 15 minutes", now=datetime.now(timezone.utc)))
    assert metrics(at)["Events"] == "30"


def test_overview_with_corrupt_lines_shows_the_readable_events(corrupt_log):
    at = open_page()
    check_overview(at, corrupt_log, Filters())
    assert metrics(at)["Events"] == "90"
    assert "4 unreadable log lines" in texts(at)


def test_overview_without_data_offers_demo_traffic(no_data_log):
    at = open_page()
    assert at.button(key="generate_demo_empty").label == "Generate demo traffic"
    assert not at.get("plotly_chart")
    message = texts(at)
    if no_data_log == "missing":
        assert "No provenance log yet" in message
    elif no_data_log == "empty":
        assert "has no answers yet" in message
    else:
        assert "3 unreadable lines" in message
