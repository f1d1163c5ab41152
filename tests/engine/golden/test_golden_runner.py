"""The runner with an injected answer function: record, compare, concurrency bound, repeats,
golden events, Ctrl-C leaving the previous report intact, and backups."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from engine.errors import InputError
from engine.golden.cases import load_baseline, load_golden_set
from engine.golden.runner import backup_baseline, compare_to_baseline, record_baseline, run_cases
from engine.golden.similarity import LexicalSimilarity
from engine.provenance import read_events
from engine.settings import get_settings
from tests.engine.golden.fakes import FakeAnswers

CASES = [{"id": f"c{i}", "question": f"Question number {i}: explain topic {i} in some detail please?",
          "trait": "general"} for i in range(6)] + [{"id": "short", "question": "Hi?", "trait": "casual"}]


@pytest.fixture
def golden_set(tmp_path):
    path = tmp_path / "set.json"
    path.write_text(json.dumps(CASES))
    return load_golden_set(path)


def recorded(golden_set, tmp_path, answers=None):
    out = tmp_path / "baseline.json"
    result = record_baseline(golden_set, out, settings=get_settings(), answer_fn=answers or FakeAnswers())
    assert result.written
    return load_baseline(out, golden_set)


def compare(golden_set, baseline, tmp_path, answers, **kw):
    return compare_to_baseline(golden_set, baseline, tmp_path / "out" / "last_report.json", settings=get_settings(),
                               similarity=LexicalSimilarity(), answer_fn=answers, **kw)


def test_record_stores_every_field_and_the_set_hash(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    assert baseline.set_hash == golden_set.hash
    entry = baseline.cases["c0"]
    for field in ("answer", "route", "source", "provider", "latency_ms", "quality", "question_hash"):
        assert field in entry
    assert entry["source"] == "fake-7b" and entry["quality"] == 0.8


def test_record_refuses_to_write_a_baseline_with_unanswered_cases(golden_set, tmp_path):
    out = tmp_path / "baseline.json"
    result = record_baseline(golden_set, out, settings=get_settings(), answer_fn=FakeAnswers(unanswered={"c2"}))
    assert not result.written and result.unanswered == ["c2"] and not out.exists()


def test_same_answers_pass_and_history_copy_is_kept(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    result = compare(golden_set, baseline, tmp_path, FakeAnswers())
    assert not result.regressed and result.report["summary"]["label"] == "7/7"
    assert result.history_path.name.startswith("comparison_")
    assert result.history_path.parent == result.report_path.parent
    assert json.loads(result.history_path.read_text()) == json.loads(result.report_path.read_text())


def test_much_worse_answers_regress_naming_cases_and_reasons(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    worse = FakeAnswers({"c1": "I'm sorry, but I can't help with that."}, unanswered={"c3"})
    report = compare(golden_set, baseline, tmp_path, worse).report
    assert report["status"] == "FAIL"
    assert report["summary"]["regressed"] == ["c1", "c3"]
    rows = {row["id"]: row for row in report["cases"]}
    assert "answer similarity to the baseline" in rows["c1"]["reasons"][0]
    assert rows["c3"]["reasons"] == ["no answer: source unknown (PROVIDER_UNREACHABLE)"]


def test_lower_quality_regresses(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    report = compare(golden_set, baseline, tmp_path, FakeAnswers(quality=0.5)).report
    assert report["summary"]["failed"] == 7 and "quality fell 38%" in report["cases"][0]["reasons"][0]


def test_added_and_missing_cases_are_reported_not_crashed_on(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    changed = [c for c in CASES if c["id"] != "c5"] + [{"id": "fresh", "question": "A brand new case?"}]
    path = tmp_path / "set2.json"
    path.write_text(json.dumps(changed))
    new_set = load_golden_set(path)
    report = compare(new_set, load_baseline(baseline.path, new_set), tmp_path, FakeAnswers()).report
    assert report["status"] == "PASS"
    assert report["summary"]["added"] == ["fresh"] and report["summary"]["missing"] == ["c5"]
    assert report["baseline"]["set_changed"] is True and report["baseline"]["provider_changed"] is False


def test_jobs_bound_the_calls_in_flight(golden_set, tmp_path):
    answers = FakeAnswers(delay_s=0.05)
    run_cases(golden_set, answers, run_id="r" * 8, jobs=3)
    assert answers.max_in_flight == 3 and answers.calls == 7
    serial = FakeAnswers(delay_s=0.01)
    run_cases(golden_set, serial, run_id="r" * 8, jobs=1)
    assert serial.max_in_flight == 1


def test_repeat_runs_each_case_k_times(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    answers = FakeAnswers()
    report = compare(golden_set, baseline, tmp_path, answers, repeat=3, jobs=4).report
    assert answers.calls == 21 and report["summary"]["runs"] == 21
    assert all(row["runs"] == 3 and row["pass_rate"] == 1.0 for row in report["cases"])


def test_progress_reaches_the_total(golden_set, tmp_path):
    seen = []
    run_cases(golden_set, FakeAnswers(), run_id="r" * 8, jobs=2, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (7, 7) and len(seen) == 7


def test_every_run_becomes_a_golden_event(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    compare(golden_set, baseline, tmp_path, FakeAnswers(unanswered={"c0"}))
    events = read_events(get_settings().paths.log).events
    golden = [e for e in events if e["event_type"] == "golden"]
    assert [e["mode"] for e in golden].count("record") == 7 and [e["mode"] for e in golden].count("compare") == 7
    failed = [e for e in golden if e["mode"] == "compare" and not e["passed"]]
    assert [e["case_id"] for e in failed] == ["c0"] and failed[0]["reasons"]
    assert all(e["schema_version"] and e["run_id"] and e["session_id"] for e in golden)


def test_ctrl_c_leaves_the_previous_report_whole(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    first = compare(golden_set, baseline, tmp_path, FakeAnswers())
    before = first.report_path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        compare(golden_set, baseline, tmp_path, FakeAnswers(raise_on="c4", exc=KeyboardInterrupt()), jobs=2)
    assert first.report_path.read_bytes() == before
    assert sorted(p.name for p in first.report_path.parent.iterdir()) == sorted(
        [first.report_path.name, first.history_path.name])


def test_an_input_error_from_the_loop_names_the_set_and_case(golden_set, tmp_path):
    with pytest.raises(InputError) as info:
        run_cases(golden_set, FakeAnswers(raise_on="c2", exc=InputError("field trait: unknown trait 'x'")),
                  run_id="r" * 8)
    assert str(golden_set.path) in info.value.message and "case 'c2'" in info.value.message


def test_bad_threshold_is_input_error(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    with pytest.raises(InputError, match="--threshold"):
        compare(golden_set, baseline, tmp_path, FakeAnswers(), threshold=25)


def test_backup_baseline_makes_dated_copies_without_overwriting(tmp_path):
    source = tmp_path / "baseline_new.json"
    source.write_text('{"set_hash": "x", "cases": {}}')
    day = datetime(2026, 3, 4, tzinfo=timezone.utc)
    first = backup_baseline(source, now=day)
    second = backup_baseline(source, now=day)
    assert (first.name, second.name) == ("baseline_20260304.json", "baseline_20260304_2.json")
    assert first.read_text() == source.read_text()
    with pytest.raises(InputError, match="not found"):
        backup_baseline(tmp_path / "missing.json")


def test_an_edited_question_is_reported_as_changed_not_compared(golden_set, tmp_path):
    baseline = recorded(golden_set, tmp_path)
    edited = [dict(c, question="A rewritten question?") if c["id"] == "c2" else c for c in CASES]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    new_set = load_golden_set(path)
    report = compare(new_set, load_baseline(baseline.path, new_set), tmp_path, FakeAnswers()).report
    assert report["status"] == "PASS" and report["summary"]["changed"] == ["c2"]
    assert report["summary"]["added"] == []
    row = next(r for r in report["cases"] if r["id"] == "c2")
    assert row["reasons"] == ["question changed since the baseline (record again to compare it)"]


def test_a_case_unanswered_in_the_baseline_is_not_judged_on_similarity(golden_set, tmp_path):
    out = tmp_path / "baseline.json"
    record_baseline(golden_set, out, settings=get_settings(), answer_fn=FakeAnswers(unanswered={"c1"}),
                    allow_unanswered=True)
    report = compare(golden_set, load_baseline(out, golden_set), tmp_path, FakeAnswers()).report
    assert report["status"] == "PASS"
    row = next(r for r in report["cases"] if r["id"] == "c1")
    assert row["similarity"] is None and row["passed"]
