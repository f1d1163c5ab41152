"""Correctness where it is known (shadow comparisons, the simulator's truth, the quality method),
the daily comparison and red flags, trends drawn without cliffs or lines across gaps, and the A/B
verdict read as better / worse / inconclusive."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from engine import analysis
from engine.analysis import EventStore, Filters, Verdict
from engine.errors import InputError
from engine.provenance import ComparisonEvent, EventSink, ResponseEvent
from engine.runbook import RED_FLAG_P95_LATENCY_MS

START = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def ts(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def answer(i: int, *, route: str = "embedder", bucket: str = "treatment", correct: bool | None = True,
           simulated: bool = True, method: str = "heuristic", seconds: float | None = None,
           quality: float = 0.8, latency_ms: float = 1000.0, complexity: float = 0.3) -> ResponseEvent:
    return ResponseEvent(ts=ts(i if seconds is None else seconds), message_id=f"m{i}", session_id=f"s{i}",
                         question=f"q{i}", bucket=bucket, complexity=complexity, boundary=0.5, route=route,
                         source=f"{route}-model", provider="sim" if simulated else "lmstudio", simulated=simulated,
                         latency_ms=latency_ms, quality=quality, quality_method=method,
                         sim_correct=correct if simulated else None)


def comparison(i: int, served: str, complexity: float, agreement: float | None) -> ComparisonEvent:
    return ComparisonEvent(ts=ts(i), message_id=f"m{i}", bucket="treatment", complexity=complexity,
                           boundary=0.5, served_route=served,
                           shadow_route="main" if served == "embedder" else "embedder",
                           agreement=agreement, sampling_probability=0.05, simulated=True)


def store_of(path: Path, events: list) -> EventStore:
    with EventSink(path) as sink:
        sink.append(events)
    store = EventStore(path)
    store.refresh()
    return store


@pytest.fixture
def labelled(tmp_path: Path) -> EventStore:
    events = [
        answer(0, route="embedder", correct=True), answer(1, route="embedder", correct=False),
        answer(2, route="embedder", correct=True), answer(3, route="main", bucket="control", correct=True),
        answer(4, route="main", bucket="control", correct=True, method="reference"),
        answer(5, route="main", bucket="control", simulated=False, method="judge", quality=0.2),
        comparison(0, "embedder", 0.31, 1.0), comparison(1, "embedder", 0.35, 0.0),
        comparison(2, "embedder", 0.55, 1.0), comparison(3, "main", 0.9, None), comparison(4, "main", 1.0, 1.0),
    ]
    with store_of(tmp_path / "log.ndjson", events) as store:
        yield store


def test_agreement_is_shown_by_served_route_and_score_band(labelled: EventStore):
    frame = analysis.compute_agreement_by_route_band(labelled, Filters())
    rows = {(r.served_route, r.score_band): r for r in frame.itertuples()}
    assert set(rows) == {("embedder", "0.2-0.4"), ("embedder", "0.4-0.6"), ("main", "0.8-1.0")}
    low = rows[("embedder", "0.2-0.4")]
    assert (low.comparisons, low.failed, low.agreement_rate) == (2, 0, 0.5)
    top = rows[("main", "0.8-1.0")]  # a score of exactly 1.0 is in the last band; a failed shadow call is counted apart
    assert (top.comparisons, top.failed, top.agreement_rate) == (2, 1, 1.0)
    only_main = analysis.compute_agreement_by_route_band(labelled, Filters(route="main"))
    assert set(only_main["served_route"]) == {"main"}


def test_accuracy_counts_only_answers_whose_truth_the_simulator_knows(labelled: EventStore):
    frame = analysis.compute_accuracy_by_bucket_route(labelled, Filters())
    got = {(r.bucket, r.route): (r.answers, r.correct, r.accuracy) for r in frame.itertuples()}
    assert got[("treatment", "embedder")] == (3, 2, pytest.approx(2 / 3))
    assert got[("control", "main")] == (2, 2, 1.0)  # the real model's answer (no truth) is not counted


def test_quality_names_its_method(labelled: EventStore):
    frame = analysis.compute_quality_by_method(labelled, Filters())
    by_method = {r.quality_method: r for r in frame.itertuples()}
    assert set(by_method) == {"heuristic", "reference", "judge"}
    assert by_method["heuristic"].answers == 4
    assert by_method["judge"].pass_rate == 0.0 and by_method["judge"].mean_quality == pytest.approx(0.2)


def test_correctness_summary(labelled: EventStore):
    c = analysis.compute_correctness(labelled, Filters())
    assert (c.comparisons, c.failed_comparisons) == (5, 1)
    assert c.agreement_rate == pytest.approx(0.75)
    assert c.compared_share == pytest.approx(5 / 6)
    assert (c.answers_with_truth, c.accuracy) == (5, pytest.approx(4 / 5))
    assert c.accuracy_simulated and c.methods[0] == "heuristic"


def test_no_truth_no_accuracy(tmp_path: Path):
    with store_of(tmp_path / "log.ndjson", [answer(0, simulated=False)]) as store:
        c = analysis.compute_correctness(store, Filters())
        assert (c.comparisons, c.agreement_rate, c.answers_with_truth, c.accuracy) == (0, None, 0, None)
        assert not c.accuracy_simulated


def test_period_comparison_says_what_got_worse(tmp_path: Path):
    now = START + timedelta(days=2)
    day = 86400
    events = [answer(i, seconds=0.5 * day + i, correct=True, latency_ms=1000) for i in range(10)]  # day before
    events += [answer(100 + i, seconds=1.5 * day + i, correct=i % 2 == 0, route="main", latency_ms=5000)
               for i in range(10)]  # last 24 h: slower, half correct, all main
    with store_of(tmp_path / "log.ndjson", events) as store:
        frame = analysis.compute_period_comparison(store, Filters(), now, "day").set_index("figure")
        assert frame.loc["answers", "current"] == 10 and frame.loc["answers", "previous"] == 10
        assert frame.loc["accuracy (simulated)", "change"] == pytest.approx(-0.5)
        assert frame.loc["accuracy (simulated)", "worse"] is True
        assert frame.loc["P95 latency", "worse"] is True
        assert frame.loc["main-model share", "change"] == pytest.approx(1.0)
        week = analysis.compute_period_comparison(store, Filters(), now, "week").set_index("figure")
        assert week.loc["answers", "current"] == 20 and week.loc["answers", "previous"] is None
        assert week.loc["P95 latency", "worse"] is None  # nothing to compare with
        with pytest.raises(InputError):
            analysis.compute_period_comparison(store, Filters(), now, "month")


def test_red_flags_fire_on_the_runbook_lines(tmp_path: Path):
    events = [answer(i, route="main", latency_ms=RED_FLAG_P95_LATENCY_MS + 1000, quality=0.1) for i in range(5)]
    with store_of(tmp_path / "log.ndjson", events) as store:
        head = analysis.compute_headline(store, Filters())
        sources = analysis.compute_routing_sources(store, Filters())
        flags = {f.name: f for f in analysis.compute_red_flags(head, sources, {"control": 0.5, "treatment": 0.35})}
        assert all(f.fired for f in flags.values()), flags
        assert flags["one model"].text == "routing 100 % to main"
        calm = {f.name: f.fired for f in analysis.compute_red_flags(head, sources, {"control": 0.5, "treatment": 0.45})}
        assert calm["drift"] is False
        assert analysis.compute_main_share_saving(sources) == {"all": 1.0, "control": None, "treatment": 1.0,
                                                               "saving": None}


def test_main_share_saving_per_bucket():
    sources = pd.DataFrame({"bucket": ["all", "control", "control", "treatment", "treatment", "treatment"],
                            "source": ["main", "main", "embedder", "main", "embedder", "unknown"],
                            "events": [9, 6, 4, 3, 7, 5]})
    got = analysis.compute_main_share_saving(sources)
    assert got["control"] == pytest.approx(0.6) and got["treatment"] == pytest.approx(0.3)
    assert got["saving"] == pytest.approx(0.5)
    assert got["all"] == 1.0  # the "all" rows: 9 main answers, no other answered source


def test_trend_with_one_answer_per_bin_and_a_gap_is_not_drawn_as_a_line():
    times = pd.to_datetime([START + timedelta(seconds=60 * i) for i in (0, 1, 2, 13, 14)])
    frame = pd.DataFrame({"t": times, "bucket": "control", "events": [1, 5, 4, 6, 1],
                          "pass_rate": [1.0, 0.8, 0.75, 0.5, 0.0]})
    shown = analysis.compute_trend_display(frame, 60, ["pass_rate"], group_columns=["bucket"])
    # The bins holding one answer are blanked; one blank row sits in the 10-minute gap.
    assert list(shown["pass_rate"].isna()) == [True, False, False, True, False, True]
    gap = shown.iloc[3]
    assert gap["t"] == START + timedelta(minutes=12) and gap["events"] == 0
    assert list(shown["events"]) == [1, 5, 4, 0, 6, 1]  # n stays, to be shown


def test_verdict_reading():
    base = dict(text="t", main_call_saving=0.1, quality_diff=0.0)
    inconclusive = analysis.compute_verdict_reading(
        Verdict("result", main_call_saving_ci=(-0.05, 0.2), quality_diff_ci=(-0.02, 0.03), **base))
    assert inconclusive.kind == "inconclusive" and "Inconclusive" in inconclusive.title
    assert "between -20.0 % and +5.0 %" in inconclusive.detail
    better = analysis.compute_verdict_reading(
        Verdict("result", main_call_saving_ci=(0.05, 0.2), quality_diff_ci=(-0.02, 0.03), **base))
    assert better.kind == "better"
    worse = analysis.compute_verdict_reading(
        Verdict("result", main_call_saving_ci=(-0.05, 0.2), quality_diff_ci=(-0.09, -0.03), **base))
    assert worse.kind == "worse" and "lower quality" in worse.title
    trade = analysis.compute_verdict_reading(
        Verdict("result", main_call_saving_ci=(0.05, 0.2), quality_diff_ci=(-0.09, -0.03), **base))
    assert trade.kind == "trade-off"
    assert analysis.compute_verdict_reading(Verdict("not_enough_data", "need 10 more")).kind == "not_enough_data"
    assert math.isclose(analysis.SCORE_BAND_WIDTH, 0.2)
