"""Scoring a run against its baseline, the report's figures, similarity and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from engine.golden.cases import Baseline, GoldenCase, GoldenSet
from engine.golden.junit import render_junit_xml
from engine.golden.report import (
    CaseRun,
    CompareContext,
    compute_latency_stats,
    compute_report,
    compute_run_check,
)
from engine.golden.similarity import LexicalSimilarity, compute_token_cosine, get_similarity, semantic_available


def run(case_id="a", *, answer="paris is the capital of france", quality=0.8, source="m7b", route="main",
        latency=1000.0, error=None, attempt=1):
    return CaseRun(case_id=case_id, attempt=attempt, question=f"{case_id}?", trait="general", answer=answer,
                   route=route, source=source, provider="fake", simulated=False, latency_ms=latency,
                   quality=quality, error_code=error)


BASE = {"answer": "paris is the capital of france", "quality": 0.8, "source": "m7b", "latency_ms": 900.0,
        "route": "main"}


def test_token_cosine_values():
    assert compute_token_cosine("Paris is the capital.", "paris is THE capital") == pytest.approx(1.0)
    assert compute_token_cosine("cats", "dogs") == 0.0
    assert compute_token_cosine("", "") == 1.0 and compute_token_cosine("", "x") == 0.0
    # Half the words shared: cos = 2 / (2 * 2) = 0.5
    assert compute_token_cosine("a b c d", "a b e f") == pytest.approx(0.5)


def test_similarity_auto_falls_back_to_lexical_without_the_extra():
    measure = get_similarity("auto")
    assert measure.name == ("semantic:all-MiniLM-L6-v2" if semantic_available() else "lexical-cosine")
    assert get_similarity("lexical").name == "lexical-cosine"


@pytest.mark.skipif(not semantic_available(), reason="optional extra requirements-semantic.txt not installed")
def test_semantic_similarity_ranks_a_paraphrase_above_an_unrelated_answer():
    measure = get_similarity("semantic")
    close = measure.score("Paris is the capital city of France.", "The capital of France is Paris.")
    far = measure.score("Bananas are rich in potassium.", "The capital of France is Paris.")
    assert close > 0.8 > far


def test_an_unchanged_answer_passes():
    check = compute_run_check(run(), BASE, 0.25, 1.0)
    assert check.passed and check.reasons == [] and check.quality_drop == pytest.approx(0.0)


def test_no_answer_regresses_with_the_error_code():
    check = compute_run_check(run(answer="", source="unknown", quality=0.0, error="PROVIDER_UNREACHABLE"),
                              BASE, 0.25, None)
    assert not check.passed
    assert check.reasons == ["no answer: source unknown (PROVIDER_UNREACHABLE)"]


def test_quality_drop_beyond_threshold_regresses_but_within_does_not():
    assert compute_run_check(run(quality=0.62), BASE, 0.25, 1.0).passed  # 22.5 % drop
    check = compute_run_check(run(quality=0.4), BASE, 0.25, 1.0)  # 50 % drop
    assert not check.passed and "quality fell 50% (0.80 -> 0.40)" in check.reasons[0]


def test_similarity_drop_beyond_threshold_regresses():
    check = compute_run_check(run(answer="i cannot help"), BASE, 0.25, 0.3)
    assert not check.passed and "answer similarity to the baseline 0.30" in check.reasons[0]
    assert compute_run_check(run(), BASE, 0.25, 0.76).passed


def test_added_case_passes_when_answered_and_is_labelled():
    check = compute_run_check(run(), None, 0.25, None)
    assert check.passed and check.reasons[0].startswith("added")


def test_latency_stats_use_linear_percentiles():
    stats = compute_latency_stats([float(v) for v in range(1, 11)])
    assert stats == {"p50": 5.5, "p95": 9.5, "mean": 5.5, "max": 10.0}
    assert compute_latency_stats([])["p95"] is None


def context(**kw):
    values = dict(threshold=0.25, similarity_measure="lexical-cosine", started_at="2026-01-01T00:00:00Z",
                  finished_at="2026-01-01T00:00:01Z", duration_s=1.0, jobs=1, repeat=1, min_pass_fraction=1.0,
                  run_id="r1")
    values.update(kw)
    return CompareContext(**values)


def make_set(ids):
    from pathlib import Path
    return GoldenSet(Path("set.json"), tuple(GoldenCase(i, f"{i}?") for i in ids))


def make_baseline(ids, golden_set):
    from pathlib import Path
    return Baseline(Path("base.json"), golden_set.hash, "set.json", "t", "fake", False,
                    {i: dict(BASE, question=f"{i}?") for i in ids})


def test_report_counts_split_added_missing_and_status():
    golden_set = make_set(["a", "b", "c", "new"])
    baseline = make_baseline(["a", "b", "c", "gone"], golden_set)
    runs = [run("a"), run("b", route="embedder"), run("c", quality=0.1), run("new")]
    checks = [compute_run_check(r, baseline.cases.get(r.case_id), 0.25, 1.0 if r.case_id in baseline.cases else None)
              for r in runs]
    report = compute_report(golden_set, baseline, runs, checks, context())
    assert report["status"] == "FAIL"
    assert report["summary"]["regressed"] == ["c"]
    assert report["summary"]["added"] == ["new"] and report["summary"]["missing"] == ["gone"]
    assert report["summary"]["label"] == "3/4" and report["pass_rate"] == 0.75
    assert report["routing"]["main_pct"] == 0.75 and report["routing"]["embedder"] == 1
    assert [row["status"] for row in report["cases"]] == ["pass", "pass", "fail", "added"]
    assert report["set"]["hash"] == golden_set.hash and report["baseline"]["hash"] == baseline.hash


def test_repeats_give_a_per_case_pass_rate_and_counted_reasons():
    golden_set = make_set(["a"])
    baseline = make_baseline(["a"], golden_set)
    runs = [run("a", attempt=1), run("a", attempt=2, quality=0.1), run("a", attempt=3)]
    checks = [compute_run_check(r, BASE, 0.25, 1.0) for r in runs]
    strict = compute_report(golden_set, baseline, runs, checks, context(repeat=3))
    row = strict["cases"][0]
    assert row["pass_rate"] == pytest.approx(2 / 3, abs=1e-4) and row["runs"] == 3 and not row["passed"]
    assert row["reasons"][0].endswith("[1/3 runs]")
    lenient = compute_report(golden_set, baseline, runs, checks, context(repeat=3, min_pass_fraction=0.6))
    assert lenient["status"] == "PASS" and lenient["pass_rate"] == pytest.approx(0.6667)


def test_junit_xml_marks_failures_and_missing_cases():
    golden_set = make_set(["a", "b"])
    baseline = make_baseline(["a", "b", "gone"], golden_set)
    runs = [run("a"), run("b", answer="", source="unknown", quality=0.0, error="PROVIDER_TIMEOUT")]
    checks = [compute_run_check(r, BASE, 0.25, 1.0 if r.answered else None) for r in runs]
    xml = render_junit_xml(compute_report(golden_set, baseline, runs, checks, context()))
    root = ET.fromstring(xml)
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    failed = [tc.get("name") for tc in suite.iter("testcase") if tc.find("failure") is not None]
    assert failed == ["b"]
    assert "PROVIDER_TIMEOUT" in suite.find("testcase[@name='b']/failure").get("message")


def test_lexical_is_the_documented_default_name():
    assert LexicalSimilarity().name == "lexical-cosine"


def test_a_baseline_from_another_provider_is_flagged():
    from engine.golden.report import render_report_text

    golden_set = make_set(["a"])
    baseline = make_baseline(["a"], golden_set)
    baseline.provider = "sim"
    runs = [run("a")]
    report = compute_report(golden_set, baseline, runs, [compute_run_check(runs[0], BASE, 0.25, 1.0)], context())
    assert report["baseline"]["provider_changed"] is True
    assert "recorded with provider sim, this run used fake" in render_report_text(report)


def test_a_separate_similarity_threshold_loosens_only_similarity():
    assert not compute_run_check(run(), BASE, 0.25, 0.6).passed
    assert compute_run_check(run(), BASE, 0.25, 0.6, similarity_threshold=0.5).passed
    assert not compute_run_check(run(quality=0.4), BASE, 0.25, 0.6, similarity_threshold=0.5).passed
