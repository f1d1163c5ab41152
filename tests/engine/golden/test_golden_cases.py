"""Golden set and baseline loading: every malformed input is an InputError naming file and case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.golden.cases import load_baseline, load_golden_set, write_json_atomic
from engine.settings import REPO_ROOT

SAMPLE = REPO_ROOT / "data_core" / "goldens" / "sample_set.json"


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_bundled_sample_set_has_ten_cases_of_the_runbook_format():
    golden_set = load_golden_set(SAMPLE)
    assert len(golden_set.cases) == 10
    assert all(c.id and c.question and c.trait for c in golden_set.cases)
    raw = json.loads(SAMPLE.read_text())
    assert all(set(item) == {"id", "question", "trait"} for item in raw)


def test_bundled_sample_set_routes_about_sixty_forty_with_the_default_router():
    from engine.routing.routers import get_router

    router = get_router("complexity")
    routes = [router.decide(c.question, c.trait, 0.5).route for c in load_golden_set(SAMPLE).cases]
    assert 5 <= routes.count("main") <= 7, routes


def test_set_hash_ignores_order_but_not_content(tmp_path):
    items = [{"id": "a", "question": "one?", "trait": "general"}, {"id": "b", "question": "two?"}]
    first = load_golden_set(write(tmp_path / "a.json", items)).hash
    again = load_golden_set(write(tmp_path / "b.json", list(reversed(items)))).hash
    items[1]["question"] = "three?"
    changed = load_golden_set(write(tmp_path / "c.json", items)).hash
    assert first == again != changed


@pytest.mark.parametrize("content, expected", [
    ("", "golden set file is empty"),
    ("   \n", "golden set file is empty"),
    ("{not json", "not valid JSON (line 1"),
    ('{"id": "a"}', "expected a JSON list"),
    ("[]", "has no cases"),
    ('[{"id": "a", "question": "q?"}, "text"]', "case #2: expected an object"),
    ('[{"id": "a", "trait": "general"}]', "case 'a' (#1): field 'question' is missing"),
    ('[{"id": "a", "question": "   "}]', "case 'a' (#1): field 'question' is empty"),
    ('[{"question": "q?"}]', "case #1: field 'id' is missing"),
    ('[{"id": "a", "question": "q?"}, {"id": "a", "question": "r?"}]',
     "case 'a' (#2): duplicate id 'a' (first used by case #1)"),
    ('[{"id": "a", "question": "q?", "trait": 3}]', "case 'a' (#1): field 'trait'"),
])
def test_malformed_sets_name_the_file_and_case(tmp_path, content, expected):
    path = write(tmp_path / "set.json", content)
    with pytest.raises(InputError) as info:
        load_golden_set(path)
    assert str(path) in info.value.message
    assert expected in info.value.message
    assert info.value.exit_code == 2


def test_missing_set_file(tmp_path):
    with pytest.raises(InputError, match="golden set file not found"):
        load_golden_set(tmp_path / "nope.json")


def baseline_for(golden_set, **extra):
    cases = {c.id: {"question": c.question, "question_hash": c.question_hash, "answer": "x",
                    "quality": 0.5, "source": "m"} for c in golden_set.cases}
    return {"version": 1, "set_hash": golden_set.hash, "set_path": str(golden_set.path), "cases": cases, **extra}


def test_baseline_round_trip_and_partial_overlap_is_accepted(tmp_path):
    items = [{"id": "a", "question": "one?"}, {"id": "b", "question": "two?"}]
    golden_set = load_golden_set(write(tmp_path / "set.json", items))
    path = write(tmp_path / "base.json", baseline_for(golden_set))
    assert set(load_baseline(path, golden_set).cases) == {"a", "b"}
    grown = load_golden_set(write(tmp_path / "set2.json", items + [{"id": "c", "question": "three?"}]))
    assert load_baseline(path, grown).set_hash != grown.hash  # loads: added case reported later


def test_baseline_from_another_set_is_rejected_naming_file_and_case(tmp_path):
    golden_set = load_golden_set(write(tmp_path / "set.json", [{"id": "a", "question": "one?"}]))
    other = load_golden_set(write(tmp_path / "other.json", [{"id": "z", "question": "zzz?"}]))
    path = write(tmp_path / "base.json", baseline_for(other))
    with pytest.raises(InputError) as info:
        load_baseline(path, golden_set)
    assert "baseline is from another set" in info.value.message
    assert str(path) in info.value.message and "case 'a'" in info.value.message


def test_same_ids_with_changed_questions_count_as_another_set(tmp_path):
    golden_set = load_golden_set(write(tmp_path / "set.json", [{"id": "a", "question": "one?"}]))
    old = load_golden_set(write(tmp_path / "old.json", [{"id": "a", "question": "something else?"}]))
    with pytest.raises(InputError, match="another set"):
        load_baseline(write(tmp_path / "base.json", baseline_for(old)), golden_set)


@pytest.mark.parametrize("content, expected", [
    ("", "baseline file is empty"),
    ("[1, 2]", "not a golden baseline"),
    ('{"cases": {}}', "field 'set_hash' is missing"),
    ('{"set_hash": "x", "cases": {"a": {"answer": "t", "source": "m"}}}', "case 'a': field 'quality'"),
    ("{oops", "not valid JSON"),
])
def test_malformed_baselines(tmp_path, content, expected):
    path = write(tmp_path / "base.json", content)
    with pytest.raises(InputError) as info:
        load_baseline(path)
    assert str(path) in info.value.message and expected in info.value.message


def test_atomic_write_keeps_old_content_when_serialisation_fails(tmp_path):
    target = write_json_atomic(tmp_path / "out" / "r.json", {"ok": 1})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]
