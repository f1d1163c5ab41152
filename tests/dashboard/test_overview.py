"""Overview page against the engine's figures, with every kind of log."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from dashboard.components.format import fmt_count, fmt_latency, fmt_pct, fmt_quality
from dashboard.components.tables import (
    ACCURACY,
    AGREEMENT,
    BUCKET_SPLIT,
    QUALITY_METHODS,
    ROUTING_SOURCES,
    format_table,
)
from engine.analysis import (
    Filters,
    compute_accuracy_by_bucket_route,
    compute_agreement_by_route_band,
    compute_bucket_split,
    compute_correctness,
    compute_filters,
    compute_headline,
    compute_quality_by_method,
    compute_red_flags,
    compute_routing_sources,
)
from engine.provenance import ComparisonEvent, EventSink
from tests.dashboard.conftest import assert_same_frame, engine_store, metrics, open_page, tables, texts
from tests.dashboard.fixture_log import response, write_fixture_log


def check_overview(at, log_path, filters: Filters) -> None:
    store = engine_store(log_path)
    head = compute_headline(store, filters)
    shown = metrics(at)
    assert shown["Answers"] == fmt_count(head.events)
    assert shown["Pass rate"] == fmt_pct(head.pass_rate)
    assert shown["Mean quality"] == fmt_quality(head.mean_quality)
    assert shown["P95 latency"] == fmt_latency(head.p95_latency_ms)
    correct = compute_correctness(store, filters)
    assert shown["Correct (simulated)"] == fmt_pct(correct.accuracy)
    assert shown["Agreement"] == fmt_pct(correct.agreement_rate)
    shown_tables = {tuple(t.columns): t for t in tables(at)}
    assert_same_frame(shown_tables[tuple(BUCKET_SPLIT.headers)],
                      format_table(compute_bucket_split(store, filters), BUCKET_SPLIT))
    assert_same_frame(shown_tables[tuple(ROUTING_SOURCES.headers)],
                      format_table(compute_routing_sources(store, filters), ROUTING_SOURCES))
    assert_same_frame(shown_tables[tuple(QUALITY_METHODS.headers)],
                      format_table(compute_quality_by_method(store, filters), QUALITY_METHODS))
    assert len(at.get("plotly_chart")) == 2


def test_overview_figures_equal_the_engine(fixture_log):
    at = open_page()
    check_overview(at, fixture_log, Filters())
    assert metrics(at)["Answers"] == "120"
    assert "SIMULATED" in texts(at)


def test_overview_follows_the_sidebar_filters(fixture_log):
    at = open_page()
    at.selectbox(key="bucket_filter").select("treatment").run()
    at.selectbox(key="trait_filter").select("technical").run()
    assert not at.exception
    check_overview(at, fixture_log, Filters(bucket="treatment", trait="technical"))
    assert metrics(at)["Answers"] == "20"


def test_overview_time_window(log_path):
    # 120 answers 30 s apart, the last one 10 s ago: the last 15 minutes hold 30 of them, and no
    # answer sits within 10 s of the window's edge, so the page and this test agree on "now".
    now = datetime.now(timezone.utc)
    write_fixture_log(log_path, start=now - timedelta(seconds=10 + 30 * 119))
    at = open_page()
    at.selectbox(key="window").select("Last 15 minutes").run()
    assert not at.exception
    check_overview(at, log_path, compute_filters("Last 15 minutes", now=datetime.now(timezone.utc)))
    assert metrics(at)["Answers"] == "30"


def test_overview_with_corrupt_lines_shows_the_readable_events(corrupt_log):
    at = open_page()
    check_overview(at, corrupt_log, Filters())
    assert metrics(at)["Answers"] == "90"
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


def write_labelled_log(path, n: int = 60) -> None:
    """Simulated answers with the simulator's truth, a shadow comparison for every third, and one
    slow main-model stretch that fires the P95 and one-model red flags."""
    rng = random.Random(4)
    with EventSink(path) as sink:
        for i in range(n):
            event = response(i, rng)
            event.sim_correct = i % 4 != 0
            event.quality_method = "reference" if i % 5 == 0 else "heuristic"
            batch = [event]
            if i % 3 == 0:
                batch.append(ComparisonEvent(
                    ts=event.ts, message_id=event.message_id, bucket=event.bucket, complexity=event.complexity,
                    boundary=event.boundary, served_route=event.route,
                    shadow_route="main" if event.route == "embedder" else "embedder",
                    agreement=1.0 if i % 2 == 0 else 0.0, sampling_probability=0.3, simulated=True))
            sink.append(batch)


def test_overview_shows_correctness_where_it_is_known(log_path):
    write_labelled_log(log_path)
    at = open_page()
    store = engine_store(log_path)
    filters = Filters()
    correct = compute_correctness(store, filters)
    assert correct.comparisons == 20 and correct.answers_with_truth == 60
    shown = metrics(at)
    assert shown["Correct (simulated)"] == fmt_pct(correct.accuracy) == "75.0 %"
    assert shown["Agreement"] == fmt_pct(correct.agreement_rate)
    shown_tables = {tuple(t.columns): t for t in tables(at)}
    assert_same_frame(shown_tables[tuple(AGREEMENT.headers)],
                      format_table(compute_agreement_by_route_band(store, filters), AGREEMENT))
    assert_same_frame(shown_tables[tuple(ACCURACY.headers)],
                      format_table(compute_accuracy_by_bucket_route(store, filters), ACCURACY))
    methods = shown_tables[tuple(QUALITY_METHODS.headers)]
    assert set(methods["Quality method"]) == {"heuristic", "reference"}
    assert "20 shadow comparisons counted" in texts(at)


def test_overview_flags_the_runbook_red_flags(log_path):
    rng = random.Random(9)
    with EventSink(log_path) as sink:
        for i in range(30):
            event = response(i, rng)
            event.route, event.source, event.error_code = "main", "main-model", None
            event.latency_ms = 40_000.0
            sink.append(event)
    at = open_page()
    flags = {f.name: f for f in compute_red_flags(compute_headline(engine_store(log_path), Filters()),
                                                  compute_routing_sources(engine_store(log_path), Filters()), {})}
    assert flags["P95 latency"].fired and flags["one model"].fired
    errors = " ".join(e.value for e in at.error)
    assert "Red flag: P95 latency above the red-flag line" in errors
    assert "Red flag: routing 100 % to main" in errors


def test_overview_compares_with_the_day_before(log_path):
    now = datetime.now(timezone.utc)
    write_fixture_log(log_path, n=40, start=now - timedelta(hours=30))  # 20 min of answers, 30 h ago
    write_fixture_log(log_path, n=40, first=40, start=now - timedelta(hours=2))
    at = open_page()
    period = next(t for t in tables(at) if "Last 24 h" in t.columns).set_index("Figure")
    assert period.loc["answers", "Last 24 h"] == "40" and period.loc["answers", "24 h before"] == "40"
    assert period.loc["answers", "Change"] == "+0"
