"""engine.api.choose_recipe: the CLI and the dashboard pick recipes the way the gateway does."""

from __future__ import annotations

import json

import pytest

from engine import api
from engine.errors import InputError
from engine.settings import get_settings, reset_settings


@pytest.fixture
def sim(tmp_path, monkeypatch):
    monkeypatch.setenv("AIOS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AIOS_PROVIDER", "sim")
    monkeypatch.setenv("AIOS_SHADOW_RATE", "0")
    reset_settings()
    api.clear_engines()
    yield get_settings()
    api.clear_engines()
    reset_settings()


def test_the_default_recipe_shapes_the_question_and_the_answer_records_it(sim):
    choice = api.choose_recipe("What   is DNS?", settings=sim)
    assert choice.policy == "fixed" and choice.recipe_id and choice.system_prompt
    result = api.ask(choice.question, system_prompt=choice.system_prompt, recipe_id=choice.recipe_id, settings=sim)
    events = [json.loads(line) for line in sim.paths.log.read_text().splitlines()]
    selections = [e for e in events if e["event_type"] == "bandit_selection"]
    assert len(selections) == 1 and selections[0]["recipe_id"] == choice.recipe_id
    assert result.recipe_id == choice.recipe_id


def test_an_unknown_recipe_is_an_input_error(sim):
    with pytest.raises(InputError):
        api.choose_recipe("hi", recipe_id="no.such.recipe", settings=sim)
