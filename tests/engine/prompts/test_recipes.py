"""Prompt recipes: validation (strict and scope), the shipped fallback, reload modes, plan and
transform with assist operators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.prompts.recipes import UnknownRecipeError, compute_field_lines, compute_recipe
from engine.prompts.store import SHIPPED_RECIPES_DIR, RecipeStore, load_recipes
from engine.prompts.transform import compute_plan, compute_prompt_quality, compute_transform
from engine.runbook import ASSIST_JSON_INVALID
from engine.settings import build_settings

GOOD = {"id": "acme.general.one", "assistant": "acme", "category": "general", "default": True,
        "system_prompt": "You are {assistant}'s {category} helper.", "packs": ["concise"],
        "operators": ["normalize_ws", {"op": "io_format", "format": "bullets"}]}


def write(folder: Path, name: str, data) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def recipes_dir(data_dir: Path) -> Path:
    return data_dir / "recipes"


def test_shipped_recipes_are_valid_and_used_when_the_data_dir_has_none():
    result = load_recipes(build_settings())
    assert result.source == "shipped" and result.directory == SHIPPED_RECIPES_DIR
    assert result.issues == [] and len(result.recipes) >= 5
    for assistant, category in result.pairs():
        assert sum(r.default for r in result.for_pair(assistant, category)) == 1, (assistant, category)


def test_data_dir_recipes_replace_the_shipped_set(data_dir):
    write(recipes_dir(data_dir), "one.json", GOOD)
    result = load_recipes(build_settings())
    assert result.source == "data" and list(result.recipes) == ["acme.general.one"]
    assert result.get("acme.general.one").render_system() == "You are acme's general helper."
    with pytest.raises(UnknownRecipeError):
        result.get("missing")


def test_broken_files_are_excluded_with_file_line_and_field(data_dir):
    folder = recipes_dir(data_dir)
    write(folder, "a_good.json", GOOD)
    write(folder, "b_not_json.json", '{"id": "x",\n  "assistant": }')
    write(folder, "c_no_category.json", {**GOOD, "id": "acme.general.two", "category": ""})
    write(folder, "d_duplicate.json", GOOD)
    result = load_recipes(build_settings())
    assert list(result.recipes) == ["acme.general.one"]
    by_file = {Path(i.file_path).name: i for i in result.issues}
    assert by_file["b_not_json.json"].error_type == "json_parse" and by_file["b_not_json.json"].line_number == 2
    assert by_file["c_no_category.json"].field == "category"
    assert by_file["c_no_category.json"].error_type == "schema_validation"
    assert "duplicate" in by_file["d_duplicate.json"].error
    assert all(i.severity == "error" for i in result.issues)
    assert len(result.excluded) == 3


SEMANTIC = {**GOOD, "id": "acme.general.odd", "default": False,
            "system_prompt": "You are {persona}.", "operators": ["normalize_ws", "teleport",
                                                                {"op": "io_format", "format": "haiku"}],
            "packs": ["concise", "glitter"]}


def test_semantic_problems_are_warnings_by_default(data_dir):
    write(recipes_dir(data_dir), "odd.json", SEMANTIC)
    result = load_recipes(build_settings())
    recipe = result.get("acme.general.odd")
    assert [op for op, _ in recipe.operators] == ["normalize_ws"]  # the bad operators are dropped
    assert recipe.packs == ("concise",)
    assert {i.severity for i in result.issues} == {"warning"}
    assert {i.field for i in result.issues} == {"system_prompt", "operators[1]", "operators[2]", "packs[1]"}


def test_strict_excludes_semantically_invalid_recipes(data_dir, monkeypatch):
    write(recipes_dir(data_dir), "odd.json", SEMANTIC)
    write(recipes_dir(data_dir), "good.json", GOOD)
    monkeypatch.setenv("VALIDATION_STRICT", "1")
    result = load_recipes(build_settings())
    assert list(result.recipes) == ["acme.general.one"]
    assert {i.severity for i in result.issues} == {"error"}


def test_strict_scope_critical_only_excludes_law_and_medical(data_dir, monkeypatch):
    write(recipes_dir(data_dir), "odd.json", SEMANTIC)
    write(recipes_dir(data_dir), "odd_medical.json", {**SEMANTIC, "id": "acme.medical.odd", "category": "medical"})
    monkeypatch.setenv("VALIDATION_STRICT", "1")
    monkeypatch.setenv("VALIDATION_STRICT_SCOPE", "critical")
    result = load_recipes(build_settings())
    assert list(result.recipes) == ["acme.general.odd"]
    severities = {i.recipe_id: i.severity for i in result.issues}
    assert severities == {"acme.general.odd": "warning", "acme.medical.odd": "error"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_events_mode_reloads_a_change_after_the_debounce(data_dir, monkeypatch):
    monkeypatch.setenv("RECIPES_DEBOUNCE_MS", "300")
    path = write(recipes_dir(data_dir), "one.json", GOOD)
    clock = Clock()
    store = RecipeStore(build_settings(), clock=clock)
    assert store.get().get("acme.general.one").system_prompt == GOOD["system_prompt"]
    write(recipes_dir(data_dir), "one.json", {**GOOD, "system_prompt": "You are new."})
    assert path.exists()
    clock.now += 0.1
    # First seen now; it must stay unchanged for RECIPES_DEBOUNCE_MS before it is loaded.
    assert store.get().get("acme.general.one").system_prompt == GOOD["system_prompt"]
    clock.now += 0.2
    assert store.get().get("acme.general.one").system_prompt == GOOD["system_prompt"]
    clock.now += 0.15
    assert store.get().get("acme.general.one").system_prompt == "You are new."
    assert store.reloads == 2
    write(recipes_dir(data_dir), "two.json", {**GOOD, "id": "acme.general.two", "default": False})
    clock.now += 1
    store.get()
    clock.now += 1
    assert set(store.get().recipes) == {"acme.general.one", "acme.general.two"}


def test_poll_mode_reloads_on_its_interval_and_off_never(data_dir, monkeypatch):
    write(recipes_dir(data_dir), "one.json", GOOD)
    monkeypatch.setenv("RECIPES_RELOAD_MODE", "poll")
    monkeypatch.setenv("RECIPES_RELOAD_INTERVAL_SECONDS", "5")
    clock = Clock()
    poll = RecipeStore(build_settings(), clock=clock)
    poll.get()
    write(recipes_dir(data_dir), "one.json", {**GOOD, "system_prompt": "You are polled."})
    clock.now += 4
    assert poll.get().get("acme.general.one").system_prompt == GOOD["system_prompt"]
    clock.now += 1.5
    assert poll.get().get("acme.general.one").system_prompt == "You are polled."

    monkeypatch.setenv("RECIPES_RELOAD_MODE", "off")
    off = RecipeStore(build_settings(), clock=clock)
    off.get()
    write(recipes_dir(data_dir), "one.json", {**GOOD, "system_prompt": "You are ignored."})
    clock.now += 3600
    assert off.get().get("acme.general.one").system_prompt == "You are polled."
    assert off.reloads == 1


def test_plan_lists_packs_applied_and_operator_order():
    recipes = load_recipes(build_settings())
    recipe = recipes.get("chatgpt.coding.assisted")
    plan = compute_plan(recipe, "Why does my python function raise a KeyError?")
    assert plan.packs_applied == ["code_fence"]
    assert [(s.op, s.source, s.assist) for s in plan.operator_plan] == [
        ("normalize_ws", "recipe", False), ("assist_clarify", "recipe", True), ("role_hdr", "recipe", False),
        ("io_format", "recipe", False), ("io_format", "pack:code_fence", False)]
    assert compute_plan(recipe, "Tell me about the weather in spring").packs_applied == []


def test_transform_reports_invalid_assist_json_without_crashing():
    recipe = load_recipes(build_settings()).get("chatgpt.coding.assisted")
    prompt = "fix   this python bug"
    result = compute_transform(compute_plan(recipe, prompt), prompt,
                               assist=lambda messages: ("Sure! Here is a better prompt: fix the bug", None, None))
    assert result.prompt == "fix this python bug"  # normalize_ws ran; the assist changed nothing
    assert result.assist_outcomes[0]["code"] == ASSIST_JSON_INVALID and not result.assist_outcomes[0]["ok"]
    step = next(s for s in result.operator_trace if s["op"] == "assist_clarify")
    assert step["outcome"] == ASSIST_JSON_INVALID and not step["changed_prompt"]
    assert [s["op"] for s in result.operator_trace] == [s.op for s in compute_plan(recipe, prompt).operator_plan]
    assert result.errors == [{"code": ASSIST_JSON_INVALID, "op": "assist_clarify",
                              "message": result.assist_outcomes[0]["message"]}]
    assert "expert coding assistant" in result.system_prompt
    assert result.system_prompt.count("fenced code blocks") == 1  # the pack repeats the recipe's format once


def test_transform_uses_valid_assist_json_and_reports_provider_failures():
    recipe = load_recipes(build_settings()).get("chatgpt.coding.assisted")
    ok = compute_transform(compute_plan(recipe, "bug"), "bug",
                           assist=lambda m: ('```json\n{"prompt": "Find the bug in my Python loop."}\n```', None, None))
    assert ok.prompt == "Find the bug in my Python loop." and ok.assist_outcomes[0]["ok"]
    blocked = compute_transform(compute_plan(recipe, "bug"), "bug",
                                assist=lambda m: (None, "EGRESS_BLOCKED", "egress to x blocked"))
    assert blocked.prompt == "bug" and blocked.assist_outcomes[0]["code"] == "EGRESS_BLOCKED"
    skipped = compute_transform(compute_plan(recipe, "bug"), "bug")
    assert skipped.operator_trace[1]["outcome"] == "skipped" and skipped.assist_outcomes[0]["code"] == "skipped"


def test_prompt_quality_rewards_role_constraints_and_format():
    recipes = load_recipes(build_settings())
    bare = compute_prompt_quality("", "hi")
    structured = compute_transform(compute_plan(recipes.get("chatgpt.general.structured"), "What is DNS?"),
                                   "What is DNS?")
    rich = compute_prompt_quality(structured.system_prompt, structured.prompt)
    assert rich["score"] == 1.0 and bare["score"] < 0.5
    assert set(rich["components"]) == {"role", "constraints", "output_format", "prompt_length", "system_length"}


def test_every_issue_names_the_line_of_its_field(data_dir):
    folder = recipes_dir(data_dir)
    write(folder, "a_good.json", GOOD)
    write(folder, "b_types.json", '{"id": "acme.general.types",\n "assistant": "acme",\n "category": "general",\n'
                                  ' "system_prompt": "Hi.",\n "default": "yes",\n "packs": "concise"}')
    write(folder, "c_odd.json", '{"id": "acme.general.odd", "assistant": "acme", "category": "general",\n'
                                ' "system_prompt": "Hi.",\n "operators": [\n  "normalize_ws",\n'
                                '  {"op": "max_prompt_chars", "limit": true},\n  "teleport"]}')
    write(folder, "d_duplicate.json", {**GOOD, "description": "again"})
    result = load_recipes(build_settings())
    assert sorted(result.recipes) == ["acme.general.odd", "acme.general.one"]
    issues = {(Path(i.file_path).name, i.field): i for i in result.issues}
    # A file with two wrong fields reports both, each with its line; the recipe is excluded.
    assert {k: (i.line_number, i.error) for k, i in issues.items() if k[0] == "b_types.json"} == {
        ("b_types.json", "default"): (5, "field default must be true or false"),
        ("b_types.json", "packs"): (6, "field packs must be a list of pack names")}
    limit = issues[("c_odd.json", "operators[1]")]
    assert (limit.line_number, limit.severity) == (5, "warning") and "limit" in limit.error
    assert issues[("c_odd.json", "operators[2]")].line_number == 6
    assert [op for op, _ in result.get("acme.general.odd").operators] == ["normalize_ws"]
    duplicate = issues[("d_duplicate.json", "id")]
    assert (duplicate.line_number, duplicate.severity) == (1, "error") and "duplicate" in duplicate.error


@pytest.mark.parametrize("data,field", [
    ([GOOD], None),
    ({**GOOD, "id": 7}, "id"),
    ({**GOOD, "id": "has space"}, "id"),
    ({**GOOD, "id": "trailing.newline\n"}, "id"),
    ({**GOOD, "assistant": "   "}, "assistant"),
    ({k: v for k, v in GOOD.items() if k != "system_prompt"}, "system_prompt"),
    ({**GOOD, "system_prompt": " \n"}, "system_prompt"),
    ({**GOOD, "operators": {"op": "normalize_ws"}}, "operators"),
    ({**GOOD, "default": 1}, "default"),
    ({**GOOD, "description": None}, "description"),
])
def test_schema_problems_exclude_the_recipe_and_name_the_field(data, field):
    recipe, issues = compute_recipe(data, "r.json", build_settings())
    assert recipe is None
    assert [(i.field, i.error_type, i.severity) for i in issues] == [(field, "schema_validation", "error")]


@pytest.mark.parametrize("operator,problem", [
    ({"op": "io_format", "format": "haiku"}, "format"),
    ({"op": "max_prompt_chars", "limit": 8}, "limit"),
    ({"op": "max_prompt_chars", "limit": 4000.0}, "limit"),
    ({"op": "constraints", "items": ["ok", ""]}, "items"),
    ({"op": "constraints", "colour": "red"}, "colour"),
    ({"op": "role_hdr", "tone": "warm"}, "tone"),
    (["normalize_ws"], "an operator is a name"),
])
def test_bad_operator_parameters_drop_only_that_operator(operator, problem):
    recipe, issues = compute_recipe({**GOOD, "operators": ["normalize_ws", operator]}, "r.json", build_settings())
    assert recipe is not None and [op for op, _ in recipe.operators] == ["normalize_ws"]
    assert [(i.field, i.severity) for i in issues] == [("operators[1]", "warning")]
    assert problem in issues[0].error


def test_valid_operator_parameters_are_kept_as_written():
    operators = ["normalize_ws", {"op": "constraints"}, {"op": "constraints", "items": []},
                 {"op": "max_prompt_chars", "limit": 16}, {"op": "io_format", "format": "json"}]
    recipe, issues = compute_recipe({**GOOD, "operators": operators, "description": "d"}, "r.json", build_settings())
    assert issues == [] and recipe is not None
    assert recipe.to_dict()["operators"] == [{"op": "normalize_ws"}, {"op": "constraints"},
                                             {"op": "constraints", "items": []},
                                             {"op": "max_prompt_chars", "limit": 16},
                                             {"op": "io_format", "format": "json"}]
    assert (recipe.path, recipe.description, recipe.default) == ("r.json", "d", True)


def test_field_lines_follow_the_json_structure():
    text = ('{\n  "id": "x",\n  "nested": {"id": "inner",\n    "operators": [1]},\n  "operators": [\n'
            '    "a", {"op": "b",\n "x": [1, 2]},\n    "c"\n  ],\n  "packs": [],\n  "id": "last"\n}')
    assert compute_field_lines(text) == {"id": 11, "nested": 3, "operators": 5, "operators[0]": 6,
                                         "operators[1]": 6, "operators[2]": 8, "packs": 10}
    assert compute_field_lines("[1, 2]") == {}
    assert compute_field_lines('{"id": "x", "broken": ') == {"id": 1, "broken": 1}
