"""Hypotheses page (statistics section) and the Overview's SRM warning against engine.analysis.ab_report."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from engine.analysis import (
    EventStore,
    Filters,
    ab_report,
    compute_bin_seconds,
    compute_trend_display,
    compute_verdict_reading,
)
from engine.loop import hypotheses as hyp
from engine.provenance import EventSink
from engine.settings import get_settings
from tests.dashboard.conftest import open_page, texts
from tests.dashboard.fixture_log import response


class Explodes(hyp.Hypothesis):
    id = "explodes"
    description = "raises on every answer"

    def check(self, event, context):
        raise ZeroDivisionError("division by zero in the check")


class Garbage(hyp.Hypothesis):
    id = "garbage"
    description = "returns a string"

    def check(self, event, context):
        return "looks fine to me"


@pytest.fixture(autouse=True)
def fresh_registry():
    before = dict(hyp.HYPOTHESES)
    yield
    hyp.HYPOTHESES.clear()
    hyp.HYPOTHESES.update(before)


def write_loop_log(path: Path, n: int = 160, *, broken: bool = False, drop_treatment: float = 0.0,
                   seed: int = 5, per_session: int = 1) -> Path:
    """Responses (the dashboard fixture's), each with the hypothesis events the registry gives it,
    `per_session` consecutive responses of one bucket per session (1 by default); `drop_treatment`
    thins out that share of treatment sessions."""
    if broken:
        hyp.register_hypothesis(Explodes)
        hyp.register_hypothesis(Garbage)
    rng, thin = random.Random(seed), random.Random(seed + 1)
    settings = get_settings()
    registry = hyp.build_hypothesis_registry(settings)  # what the engine builds
    open_sessions: dict[str, tuple[str, int]] = {}  # bucket -> (its open session, answers in it)
    with EventSink(path) as sink:
        for i in range(n):
            event = response(i, rng)
            session_id, answers = open_sessions.get(event.bucket, ("", per_session))
            if answers >= per_session:
                session_id, answers = f"session{i}", 0
            open_sessions[event.bucket] = (session_id, answers + 1)
            event.session_id = session_id
            if event.bucket == "treatment" and thin.random() < drop_treatment:
                continue
            sink.append([event, *registry.evaluate(event)])
    return path


def ab_table(at) -> pd.DataFrame:
    """The A/B table, found by its columns (a display-only dataframe carries no key in AppTest)."""
    for element in at.dataframe:
        if "difference [95% CI]" in element.value.columns:
            return element.value
    raise AssertionError("no A/B table on the page")


def chart_by_title(at, title: str) -> dict:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("title", {}).get("text") == title:
            return spec
    raise AssertionError(f"no chart titled {title!r}")


def test_ab_table_and_verdict_equal_the_engine_report(log_path):
    write_loop_log(log_path)
    at = open_page("hypotheses")
    report = ab_report.load_ab_report(get_settings())
    shown = ab_table(at).reset_index(drop=True)
    expected = pd.DataFrame(ab_report.compute_table_rows(report))
    pd.testing.assert_frame_equal(shown, expected, check_dtype=False)
    assert report.verdict.kind == "result"
    # The verdict reads as better / worse / inconclusive, in the box its reading calls for, with
    # the engine's whole sentence under it.
    reading = compute_verdict_reading(report.verdict)
    boxes = {"better": at.success, "worse": at.warning, "trade-off": at.warning, "inconclusive": at.info}
    assert any(reading.title in box.value and reading.detail in box.value for box in boxes[reading.kind])
    assert report.verdict.text[1:] in texts(at)
    # Cells a user reads, spelled out: the quality difference and its interval.
    quality = report.metric("quality").result
    cell = shown.loc[0, "difference [95% CI]"]
    assert cell == f"{quality.diff:+.3f} [{quality.diff_ci[0]:+.3f}, {quality.diff_ci[1]:+.3f}]"
    assert f"control {report.answers['control']}" in texts(at)
    # The unit of analysis is named on the page: sessions by default, as in the engine's report.
    assert report.analysis_unit == "session"
    assert ab_report.unit_note("session").capitalize() in texts(at)
    assert f"{report.metric('quality').control_sessions.n} sessions)" in shown.loc[0, "control"]
    assert "nan" not in shown.to_string().lower()
    # The key table a reader sees first: each arm's mean, the difference, p and P(better).
    key = next(e.value for e in at.dataframe if "Difference [95 % CI]" in e.value.columns)
    assert list(key.columns) == ["Metric", "Control", "Treatment", "Difference [95 % CI]", "p", "P(treatment better)"]
    quality_metric = report.metric("quality")
    assert key.loc[0, "Control"] == ab_report.format_value(quality_metric.control.mean, quality_metric.unit)
    assert list(key["Difference [95 % CI]"]) == list(expected["difference [95% CI]"])


def test_pass_rate_trends_per_hypothesis_equal_the_engine(log_path):
    write_loop_log(log_path)
    at = open_page("hypotheses")
    with EventStore(log_path) as store:
        store.refresh()
        width = compute_bin_seconds(store, Filters(), "hypothesis", trait=False)
    raw = ab_report.load_hypothesis_trends(log_path)
    # As drawn: bins of fewer than the minimum checks blanked, gaps broken.
    trends = compute_trend_display(raw.astype({"pass_rate": float}), width, ["pass_rate"], time_column="bin_start",
                                   group_columns=["hypothesis_id"], count_column="checks")
    spec = chart_by_title(at, "Pass rate per hypothesis over time")
    plotted = {trace["name"]: trace["y"] for trace in spec["data"]}
    assert set(plotted) == {"answered_by_model", "latency_within_budget", "quality_above_floor",
                            "embedder_quality_parity"}
    for hypothesis_id, values in plotted.items():
        rows = trends[trends["hypothesis_id"] == hypothesis_id]
        if isinstance(values, dict):  # plotly may ship arrays as typed buffers
            import base64

            import numpy as np
            values = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
        shown = [float("nan") if v is None else float(v) for v in values]
        assert shown == pytest.approx([float(v) for v in rows["pass_rate"]], nan_ok=True)


def test_a_broken_hypothesis_is_shown_and_the_others_still_run(log_path):
    write_loop_log(log_path, broken=True)
    at = open_page("hypotheses")
    errors = "\n".join(e.value for e in at.error)
    assert "Hypothesis `explodes` is broken" in errors
    assert "ZeroDivisionError: division by zero in the check" in errors
    assert "Hypothesis `garbage` is broken" in errors and "returned str" in errors
    summary = ab_report.load_hypothesis_summary(log_path).set_index("hypothesis_id")
    assert summary.loc["explodes", "errors"] == 160
    assert "on 160 of 160 answers" in errors
    # The working hypotheses still ran on every answer and are plotted.
    assert summary.loc["answered_by_model", "checks"] == 160
    spec = chart_by_title(at, "Pass rate per hypothesis over time")
    names = {trace["name"] for trace in spec["data"]}
    assert "answered_by_model" in names and "explodes" not in names


def test_overview_warns_of_sample_ratio_mismatch_on_a_thinned_log(log_path):
    write_loop_log(log_path, n=300, drop_treatment=0.6)
    srm = ab_report.load_ab_report(get_settings()).srm
    assert srm.alert
    at = open_page()
    warnings = "\n".join(w.value for w in at.warning)
    assert srm.message in warnings and "SAMPLE RATIO MISMATCH" in warnings
    at.switch_page("app_pages/hypotheses.py").run()
    assert not at.exception
    assert any("SAMPLE RATIO MISMATCH" in e.value for e in at.error)  # the verdict refuses to conclude


def test_overview_shows_no_srm_warning_on_a_balanced_log(log_path):
    write_loop_log(log_path, n=300)
    assert not ab_report.load_ab_report(get_settings()).srm.alert
    at = open_page()
    assert not any("SAMPLE RATIO" in w.value for w in at.warning)


def test_without_data_the_section_says_not_enough_data(no_data_log):
    at = open_page("hypotheses")
    page = texts(at)
    assert "not enough data yet: need about 60 more answers" in page
    assert "nan" not in ab_table(at).to_string().lower()


def test_ab_table_uses_sessions_as_the_unit_when_sessions_have_several_answers(log_path):
    write_loop_log(log_path, n=240, per_session=4)
    at = open_page("hypotheses")
    by_session = ab_report.load_ab_report(get_settings())
    by_answer = ab_report.load_ab_report(get_settings(), unit="answer")
    shown = ab_table(at).reset_index(drop=True)
    pd.testing.assert_frame_equal(shown, pd.DataFrame(ab_report.compute_table_rows(by_session)), check_dtype=False)
    quality = by_session.metric("quality")
    assert quality.result.analysis_unit == "session" and quality.result.n_control == 30  # 120 answers, 4 each
    assert shown.loc[0, "control"].endswith(f"(n={quality.control.n}, 30 sessions)")
    assert shown.loc[0, "difference [95% CI]"] != pd.DataFrame(
        ab_report.compute_table_rows(by_answer)).loc[0, "difference [95% CI]"]
    assert ab_report.unit_note("session").capitalize() in texts(at)


def write_same_arms_log(path: Path, n: int = 400) -> None:
    """Both arms route with the same boundary and answer alike: whatever the numbers, no finding."""
    rng = random.Random(12)
    with EventSink(path) as sink:
        for i in range(n):
            event = response(i, rng)
            event.boundary = 0.5
            event.route = "main" if event.complexity >= 0.5 else "embedder"
            event.error_code, event.source = None, f"{event.route}-model"
            event.quality = round(min(1.0, max(0.0, rng.gauss(0.75, 0.1))), 4)
            event.session_id = f"s{i // 4}-{event.bucket}"
            sink.append(event)


def test_an_inconclusive_result_is_said_so_in_a_neutral_box(log_path):
    write_same_arms_log(log_path)
    at = open_page("hypotheses")
    report = ab_report.load_ab_report(get_settings())
    reading = compute_verdict_reading(report.verdict)
    assert reading.kind == "inconclusive"
    neutral = [box.value for box in at.info if "Inconclusive" in box.value]
    assert neutral and "inconclusive" in neutral[0].lower() and reading.detail in neutral[0]
    assert "between" in reading.detail  # the intervals in words
    assert not any("Inconclusive" in box.value for box in [*at.success, *at.warning, *at.error])
