"""choose_recipe, the one recipe decision of the chat path, /choose and the engine API: an explicit
recipe, the bandit's pick (or the fixed default), no recipe, and the local transform it applies."""

from __future__ import annotations

import json
import random

import pytest

from engine.prompts.bandit import Bandit, UnknownArmError
from engine.prompts.choose import EXPLICIT, choose_recipe
from engine.prompts.recipes import UnknownRecipeError
from engine.prompts.store import RecipeStore
from engine.prompts.transform import compute_local_transform
from engine.provenance import read_events
from engine.settings import build_settings

QUESTION = "Why does my   python loop never end?"


def services(monkeypatch, enabled: bool = False) -> tuple[RecipeStore, Bandit]:
    monkeypatch.setenv("BANDIT_ENABLED", "1" if enabled else "0")
    settings = build_settings()
    recipes = RecipeStore(settings)
    return recipes, Bandit(settings, recipes, rng=random.Random(3))


def selections(bandit: Bandit) -> list[dict]:
    return read_events(bandit.settings.paths.log, event_types={"bandit_selection"}).events


def test_an_explicit_recipe_is_transformed_locally_and_not_counted(monkeypatch):
    recipes, bandit = services(monkeypatch, enabled=True)
    choice = choose_recipe(recipes, bandit, question=QUESTION, recipe_id="chatgpt.coding.assisted",
                           assistant="ignored", system="Answer in French.")
    recipe = recipes.get().get("chatgpt.coding.assisted")
    recipe_system, prompt = compute_local_transform(recipe, QUESTION)
    assert (choice.recipe_id, choice.policy, choice.selection) == ("chatgpt.coding.assisted", EXPLICIT, None)
    assert choice.question == prompt == "Why does my python loop never end?"  # normalize_ws; assist skipped
    assert choice.system_prompt == recipe_system + "\n\nAnswer in French."
    assert selections(bandit) == []
    with pytest.raises(UnknownRecipeError):
        choose_recipe(recipes, bandit, question=QUESTION, recipe_id="no.such.recipe")


def test_with_the_bandit_off_the_pair_gets_its_default_recipe_counted_and_logged(monkeypatch):
    recipes, bandit = services(monkeypatch, enabled=False)
    choice = choose_recipe(recipes, bandit, question=QUESTION, category="coding", session_id="s-1")
    assert (choice.recipe_id, choice.policy) == ("chatgpt.coding.baseline", "fixed")
    assert choice.selection is not None and choice.selection.assistant == "chatgpt"
    assert choice.system_prompt and choice.question != QUESTION
    [event] = selections(bandit)
    assert (event["recipe_id"], event["session_id"], event["policy"]) == ("chatgpt.coding.baseline", "s-1", "fixed")
    assert event["message_id"] == choice.selection.selection_id


def test_with_the_bandit_on_every_arm_of_the_pair_can_be_chosen(monkeypatch):
    recipes, bandit = services(monkeypatch, enabled=True)
    bandit.configure(epsilon=1.0)
    picks = {choose_recipe(recipes, bandit, question=QUESTION, assistant="chatgpt", category="coding").recipe_id
             for _ in range(60)}
    assert picks == {"chatgpt.coding.baseline", "chatgpt.coding.assisted", "chatgpt.coding.stepwise"}
    assert {e["policy"] for e in selections(bandit)} == {"epsilon_greedy"}


def test_without_a_question_only_the_pick_is_made(monkeypatch):
    recipes, bandit = services(monkeypatch)
    choice = choose_recipe(recipes, bandit, assistant="chatgpt", category="general", system="Be brief.")
    assert (choice.recipe_id, choice.question, choice.system_prompt) == ("chatgpt.general.baseline", None, "Be brief.")
    assert len(selections(bandit)) == 1


def test_an_unnamed_pair_without_recipes_leaves_the_question_alone(monkeypatch, data_dir):
    folder = data_dir / "recipes"
    folder.mkdir()
    (folder / "acme.json").write_text(json.dumps({"id": "acme.general.one", "assistant": "acme",
                                                  "category": "general", "system_prompt": "You are acme."}))
    recipes, bandit = services(monkeypatch)
    choice = choose_recipe(recipes, bandit, question=QUESTION, system="Be brief.")
    assert (choice.recipe, choice.policy, choice.selection) == (None, None, None)
    assert (choice.question, choice.system_prompt) == (QUESTION, "Be brief.")
    assert choose_recipe(recipes, bandit, question=QUESTION).system_prompt is None
    # Naming a pair asks the bandit, which refuses a pair without recipes (an empty name included).
    for named in ({"category": "general"}, {"assistant": ""}):
        with pytest.raises(UnknownArmError):
            choose_recipe(recipes, bandit, question=QUESTION, **named)
    assert choose_recipe(recipes, bandit, question=QUESTION, assistant="acme").recipe_id == "acme.general.one"
    assert len(selections(bandit)) == 1
