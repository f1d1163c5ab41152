"""Handlers get settings, recipes, the bandit and the loop through typed dependencies: two apps in
one process each serve their own, a test can swap one, and the chat path shapes the question the
way engine.prompts.choose_recipe does."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from engine.api import clear_engines
from engine.gateway.app import create_app
from engine.gateway.deps import get_recipes
from engine.prompts.store import RecipeStore
from engine.prompts.transform import compute_local_transform
from engine.provenance import read_events
from engine.settings import build_settings
from tests.support.fake_openai import FakeOpenAIServer

CODING = {"assistant": "chatgpt", "category": "coding"}


def test_two_apps_in_one_process_each_serve_their_own_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("BANDIT_ENABLED", "1")
    enabled = build_settings()
    monkeypatch.setenv("BANDIT_ENABLED", "0")
    monkeypatch.setenv("AIOS_DATA_DIR", str(tmp_path / "other"))
    disabled = build_settings()
    try:
        with TestClient(create_app(enabled)) as on, TestClient(create_app(disabled)) as off:
            assert (on.get("/health").json()["bandit_enabled"], off.get("/health").json()["bandit_enabled"]) == (
                True, False)
            assert on.post("/choose", json=CODING).json()["policy"] == "epsilon_greedy"
            assert off.post("/choose", json=CODING).json()["policy"] == "fixed"
            assert on.get("/bandit_stats").json()["totals"]["selections"] == 1
            assert off.get("/bandit_stats").json()["totals"]["selections"] == 1
    finally:
        clear_engines()
    assert enabled.paths.bandit_db != disabled.paths.bandit_db
    assert len(read_events(enabled.paths.log, event_types={"bandit_selection"}).events) == 1
    assert len(read_events(disabled.paths.log, event_types={"bandit_selection"}).events) == 1


def test_a_dependency_can_be_swapped_for_a_test(make_client, tmp_path, monkeypatch):
    folder = tmp_path / "swapped" / "recipes"
    folder.mkdir(parents=True)
    (folder / "acme.json").write_text(json.dumps({"id": "acme.general.one", "assistant": "acme", "default": True,
                                                  "category": "general", "system_prompt": "You are acme."}))
    client = make_client()
    monkeypatch.setenv("AIOS_DATA_DIR", str(tmp_path / "swapped"))
    swapped = RecipeStore(build_settings())
    client.app.dependency_overrides[get_recipes] = lambda: swapped
    plan = client.post("/engine/plan", json={"prompt": "hi", "assistant": "acme"})
    assert plan.status_code == 200 and plan.json()["recipe"]["id"] == "acme.general.one"
    assert client.get("/health").json()["recipes"] == 1
    client.app.dependency_overrides.clear()
    assert client.get("/health").json()["recipes"] >= 5  # the shipped set again


def test_chat_sends_the_question_and_system_prompt_of_the_chosen_recipe(make_client, monkeypatch):
    question = "Why does my   python loop never end?"
    with FakeOpenAIServer(models=["m"]) as upstream:
        monkeypatch.setenv("AIOS_PROVIDER", "openai")
        for role in ("MAIN", "EMBEDDER"):
            monkeypatch.setenv(f"AIOS_{role}_ENDPOINT", upstream.chat_url)
        response = make_client().post(
            "/v1/chat/completions", headers={"X-AIOS-Recipe": "chatgpt.coding.stepwise"},
            json={"model": "router", "messages": [{"role": "system", "content": "Answer in French."},
                                                  {"role": "user", "content": question}]})
        assert response.status_code == 200
        sent = upstream.chat_requests[-1].json["messages"]
    aios = response.json()["aios"]
    assert (aios["recipe_id"], aios["recipe_policy"]) == ("chatgpt.coding.stepwise", "explicit")
    assert "selection_id" not in aios
    recipe = RecipeStore(build_settings()).get().get("chatgpt.coding.stepwise")
    recipe_system, prompt = compute_local_transform(recipe, question)
    assert prompt == "Why does my python loop never end?"  # the recipe's normalize_ws ran
    assert sent == [{"role": "system", "content": recipe_system + "\n\nAnswer in French."},
                    {"role": "user", "content": prompt}]
    log = build_settings().paths.log
    assert read_events(log, event_types={"bandit_selection"}).events == []  # explicit: not a bandit pick
    [answer] = read_events(log, event_types={"response"}).events
    assert (answer["question"], answer["recipe_id"]) == (prompt, "chatgpt.coding.stepwise")


def test_a_named_pair_fills_the_other_default_and_an_empty_one_counts_as_named(make_client, monkeypatch):
    client = make_client()
    hello = {"model": "router", "messages": [{"role": "user", "content": "What is DNS?"}]}
    by_header = client.post("/v1/chat/completions", headers={"X-AIOS-Assistant": ""}, json=hello).json()["aios"]
    assert (by_header["assistant"], by_header["category"], by_header["recipe_policy"]) == (
        "chatgpt", "general", "fixed")
    by_meta = client.post("/v1/chat/completions", json={**hello, "metadata": {"category": "coding"}}).json()["aios"]
    assert (by_meta["assistant"], by_meta["category"], by_meta["recipe_id"]) == (
        "chatgpt", "coding", "chatgpt.coding.baseline")
    unknown = client.post("/v1/chat/completions", json={**hello, "metadata": {"category": "astrology"}})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "UNKNOWN_ARM"
    # /choose takes the pair as given: an empty assistant is a pair without recipes.
    empty = client.post("/choose", json={"assistant": "", "category": "coding"})
    assert empty.status_code == 404 and empty.json()["error"]["code"] == "UNKNOWN_ARM"
