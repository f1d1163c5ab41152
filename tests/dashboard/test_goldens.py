"""Goldens page: the Record baseline and Run golden compare buttons, the report view (cases, SLOs,
history) and its empty and broken states."""

from __future__ import annotations

import json

from engine.golden.cases import load_baseline, load_golden_set
from engine.golden.history import compute_case_table
from engine.golden.runner import compare_to_baseline, default_set_path, record_baseline
from engine.golden.similarity import LexicalSimilarity
from engine.runbook import MIN_PASS_RATE
from engine.settings import get_settings
from tests.dashboard.conftest import charts, metrics, open_page, tables, texts, values


def record_and_compare(tamper=None):
    settings = get_settings()
    golden_set = load_golden_set(default_set_path(settings))
    record_baseline(golden_set, settings.paths.baseline, settings=settings)
    if tamper:
        data = json.loads(settings.paths.baseline.read_text())
        tamper(data["cases"])
        settings.paths.baseline.write_text(json.dumps(data))
    baseline = load_baseline(settings.paths.baseline, golden_set)
    return compare_to_baseline(golden_set, baseline, settings.paths.last_report, settings=settings,
                               similarity=LexicalSimilarity())


def test_empty_state_offers_record_and_disables_compare(data_dir):
    at = open_page("goldens")
    page = texts(at)
    assert "No baseline yet" in page and "No golden report yet" in page and "No comparison history yet" in page
    assert at.button(key="golden_compare").disabled
    assert not at.button(key="golden_record").disabled


def test_record_button_writes_the_baseline(data_dir):
    at = open_page("goldens")
    at.button(key="golden_record").click().run()
    assert not at.exception, at.exception
    baseline = data_dir / "goldens" / "baseline_new.json"
    assert baseline.exists() and len(json.loads(baseline.read_text())["cases"]) == 10
    assert "Recorded 10 cases to baseline_new.json" in texts(at)
    assert not at.button(key="golden_compare").disabled
    # Recording again keeps the previous baseline as a dated backup.
    at.button(key="golden_record").click().run()
    assert len(list((data_dir / "goldens").glob("baseline_2*.json"))) == 1
    assert "previous kept as baseline_" in texts(at)


def test_compare_button_runs_the_compare_and_shows_the_report(data_dir):
    at = open_page("goldens")
    at.button(key="golden_record").click().run()
    at.button(key="golden_compare").click().run()
    assert not at.exception, at.exception
    report = json.loads((data_dir / "goldens" / "last_report.json").read_text())
    assert report["status"] == "PASS"
    assert "Golden compare PASS: 10/10 cases pass." in texts(at)
    shown = metrics(at)
    assert shown["Status"] == "PASS" and shown["Cases passing"] == "10/10" and shown["Main / embedder %"] == "60 / 40"
    cases = tables(at)[0]
    assert list(cases["case"]) == [row["id"] for row in report["cases"]] and set(cases["result"]) == {"PASS"}
    slos = tables(at)[1]
    assert list(slos["verdict"]) == ["PASS", "PASS", "PASS"] and "All SLOs passing" in texts(at)
    assert len(charts(at)) == 1


def test_report_view_shows_failing_cases_reasons_slos_and_history(data_dir):
    record_and_compare()
    result = record_and_compare(tamper=lambda cases: [c.update(answer="Gardening tips about tomatoes.")
                                                      for i, c in enumerate(cases.values()) if i < 3])
    at = open_page("goldens")
    expected = compute_case_table(result.report)
    cases = tables(at)[0]
    assert list(cases["result"]) == list(expected["result"])
    failed = cases[cases["result"] == "FAIL"]
    assert len(failed) == 3 and failed["reason"].str.contains("answer similarity to the baseline").all()
    assert list(cases["similarity"].round(4)) == list(expected["similarity"].round(4))
    assert metrics(at)["Status"] == "FAIL" and metrics(at)["Cases passing"] == "7/10"
    assert "SLO violation: pass rate" in texts(at)
    slos = tables(at)[1]
    assert list(slos["shown_value"])[0] == "70.0%" and list(slos["verdict"]) == ["FAIL", "PASS", "PASS"]
    history = charts(at)[0]
    assert list(values(history.data[0].y)) == [1.0, 0.7]


def test_broken_report_is_shown_as_an_error_not_a_crash(data_dir):
    (data_dir / "goldens").mkdir()
    (data_dir / "goldens" / "last_report.json").write_text("{half a report")
    (data_dir / "goldens" / "comparison_20260101T000000Z.json").write_text("[]")
    at = open_page("goldens")
    page = texts(at)
    assert "last_report.json: golden report is not valid JSON" in page
    assert "Skipped 1 unreadable comparison file(s): comparison_20260101T000000Z.json" in page


def test_history_chart_draws_the_runbook_pass_rate_slo(data_dir):
    record_and_compare()
    at = open_page("goldens")
    history = charts(at)[0]
    slo = next(shape for shape in history.layout.shapes if shape.type == "line")
    assert slo.y0 == slo.y1 == MIN_PASS_RATE
    assert [a.text for a in history.layout.annotations] == ["SLO 95 %"]
