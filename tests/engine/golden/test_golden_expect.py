"""Goldens with expected answers: `expected` and promptfoo-style `assert` checks regress a case whatever
its baseline says; the runbook's {"id", "question", "trait"} stays valid; traits are free text."""

from __future__ import annotations

import json

import pytest

from engine.errors import InputError
from engine.golden.cases import load_baseline, load_golden_set
from engine.golden.expect import compute_expectation_failures, parse_checks
from engine.golden.runner import compare_to_baseline, record_baseline
from engine.golden.similarity import LexicalSimilarity
from engine.settings import get_settings
from tests.engine.golden.fakes import FakeAnswers

MATH = "What is six times seven? Think step by step."


def write_set(tmp_path, cases):
    path = tmp_path / "set.json"
    path.write_text(json.dumps(cases))
    return load_golden_set(path)


def test_expected_42_regresses_an_answer_of_41_even_when_the_baseline_said_41(tmp_path):
    golden_set = write_set(tmp_path, [{"id": "math", "question": MATH, "trait": "analytical", "expected": "42"},
                                      {"id": "plain", "question": "What is the capital of France?"}])
    wrong = FakeAnswers({"math": "Six times seven: 6 * 7 = 41. The answer is 41.",
                         "plain": "The capital of France is Paris."})
    out = tmp_path / "baseline.json"
    record = record_baseline(golden_set, out, settings=get_settings(), answer_fn=wrong, samples=1)
    assert record.written
    assert record.failing_expectations["math"][0].startswith("expected answer '42'")
    baseline = load_baseline(out, golden_set)
    assert baseline.cases["math"]["answer"].endswith("41.")

    result = compare_to_baseline(golden_set, baseline, tmp_path / "report.json", settings=get_settings(),
                                 similarity=LexicalSimilarity(), answer_fn=wrong)
    assert result.regressed and result.report["summary"]["regressed"] == ["math"]
    row = next(r for r in result.report["cases"] if r["id"] == "math")
    assert row["similarity"] == 1.0  # identical to the baseline, and still a regression
    assert row["reasons"] == ["expected answer '42' (number '42'), the answer says '41' (agreement 0.00)"]
    assert row["expectations"] == {"expected": "42", "assert": []}

    right = FakeAnswers({"math": "Six times seven: 6 * 7 = 42. The answer is 42.",
                         "plain": "The capital of France is Paris."})
    fixed = compare_to_baseline(golden_set, baseline, tmp_path / "report.json", settings=get_settings(),
                                similarity=LexicalSimilarity(), answer_fn=right)
    math_row = next(r for r in fixed.report["cases"] if r["id"] == "math")
    # Right now, but no longer what the baseline recorded: only the similarity to the baseline is left.
    assert not any("expected answer" in reason for reason in math_row["reasons"])
    assert math_row["reasons"] and math_row["reasons"][0].startswith("answer similarity to the baseline")


def test_an_added_case_with_a_failing_check_fails_too(tmp_path):
    golden_set = write_set(tmp_path, [{"id": "a", "question": "Name the capital of France."}])
    record_baseline(golden_set, tmp_path / "b.json", settings=get_settings(), answer_fn=FakeAnswers(), samples=1)
    grown = write_set(tmp_path, [{"id": "a", "question": "Name the capital of France."},
                                 {"id": "b", "question": "Is water wet?", "assert": [{"type": "contains",
                                                                                     "value": "yes"}]}])
    baseline = load_baseline(tmp_path / "b.json", grown)
    result = compare_to_baseline(grown, baseline, tmp_path / "r.json", settings=get_settings(),
                                 similarity=LexicalSimilarity(), answer_fn=FakeAnswers({"b": "No."}))
    row = next(r for r in result.report["cases"] if r["id"] == "b")
    assert not row["passed"] and row["reasons"][0] == "check failed: contains 'yes': it does not"


@pytest.mark.parametrize("check,answer,holds", [
    ({"type": "equals", "value": "Paris"}, "Paris.", True),
    ({"type": "equals", "value": "Paris"}, "The capital of France is Paris.", False),
    ({"type": "equals", "value": 42}, "So the total is 6 * 7 = 42", True),
    ({"type": "contains", "value": "Paris"}, "It is Paris.", True),
    ({"type": "contains", "value": "paris"}, "It is Paris.", False),
    ({"type": "icontains", "value": "paris"}, "It is Paris.", True),
    ({"type": "not-contains", "value": "London"}, "It is Paris.", True),
    ({"type": "not-contains", "value": "Paris"}, "It is Paris.", False),
    ({"type": "regex", "value": r"\bdef \w+\("}, "def reverse(items):\n    return items[::-1]", True),
    ({"type": "regex", "value": r"^\d+$"}, "forty", False),
    ({"type": "number", "value": 3.14, "tolerance": 0.01}, "Pi is about 3.1416.", True),
    ({"type": "number", "value": 3.14}, "Pi is about 3.1416.", True),  # rounds to the value
    ({"type": "number", "value": 3.15}, "Pi is about 3.1416.", False),
    ({"type": "number", "value": "1200"}, "The answer is $1,200.00", True),
    ({"type": "number", "value": 7}, "I cannot say.", False),
    ({"type": "choice", "value": "(b)"}, "Answer: (B) because the others are wrong", True),
    ({"type": "choice", "value": "B"}, "The answer is C.", False),
])
def test_each_check_type(check, answer, holds):
    checks = parse_checks([check], "set.json: case 'x'")
    failures = compute_expectation_failures("A question?", answer, None, checks)
    assert (failures == []) is holds, failures


@pytest.mark.parametrize("raw,needle", [
    ("not a list", "field 'assert' must be a list"),
    ([{"value": "x"}], "assert #1: field 'type' is missing"),
    ([{"type": "similar", "value": "x"}], "unknown type 'similar'"),
    ([{"type": "contains"}], "assert #1: field 'value' is missing"),
    ([{"type": "regex", "value": "(unclosed"}], "invalid regex"),
    ([{"type": "number", "value": "lots"}], "needs a numeric 'value'"),
    ([{"type": "number", "value": 1, "tolerance": -1}], "'tolerance' must be a number >= 0"),
    ([{"type": "contains", "value": "x", "tolerance": 1}], "'tolerance' applies only to number checks"),
    ([{"type": "choice", "value": "F"}], "needs a letter A-E"),
])
def test_bad_checks_are_input_errors_naming_the_case(tmp_path, raw, needle):
    with pytest.raises(InputError, match="case 'x'") as info:
        write_set(tmp_path, [{"id": "x", "question": "q?", "assert": raw}])
    assert needle in info.value.message


def test_bad_expected_is_an_input_error(tmp_path):
    for bad in ("  ", True, ["42"]):
        with pytest.raises(InputError, match="field 'expected'"):
            write_set(tmp_path, [{"id": "x", "question": "q?", "expected": bad}])


def test_the_runbook_format_keeps_its_hash_and_expectations_change_it(tmp_path):
    plain = write_set(tmp_path, [{"id": "a", "question": "q?", "trait": "general"}])
    assert plain.cases[0].expected is None and plain.cases[0].checks == ()
    with_expected = write_set(tmp_path, [{"id": "a", "question": "q?", "trait": "general", "expected": 42}])
    assert with_expected.cases[0].expected == "42"
    assert with_expected.hash != plain.hash


def test_plain_set_hash_is_what_version_one_computed(tmp_path):
    import hashlib

    golden_set = write_set(tmp_path, [{"id": "b", "question": "two?", "trait": "casual"},
                                      {"id": "a", "question": "one?", "trait": "general"}])
    rows = sorted([["b", "two?", "casual"], ["a", "one?", "general"]])
    canonical = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    assert golden_set.hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def test_a_free_text_trait_runs_through_the_engine(tmp_path, caplog):
    """trait "coding" is not one of the routing traits: the case is answered (no prior) and the
    warning names the trait once, however many samples ask it."""
    from engine.routing.routers import warn_unknown_trait

    warn_unknown_trait.cache_clear()
    golden_set = write_set(tmp_path, [{"id": "rev", "question": "Write a Python function that reverses a list.",
                                       "trait": "coding"}])
    with caplog.at_level("WARNING"):
        result = record_baseline(golden_set, tmp_path / "b.json", settings=get_settings(), samples=2)
    assert result.written and not result.unanswered
    named = [r.getMessage() for r in caplog.records if "'coding'" in r.getMessage()]
    assert len(named) == 1 and "adds no routing prior" in named[0]
    baseline = load_baseline(tmp_path / "b.json", golden_set)
    assert baseline.cases["rev"]["trait"] == "coding" and baseline.cases["rev"]["answer"]
    report = compare_to_baseline(golden_set, baseline, tmp_path / "r.json", settings=get_settings(),
                                 similarity=LexicalSimilarity()).report
    assert report["status"] == "PASS" and report["cases"][0]["trait"] == "coding"
