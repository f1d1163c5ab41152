"""Gateway endpoints in process: plan/transform/diagnostics, the bandit's endpoints, the chat path
with BANDIT_ENABLED=1, and the OpenAPI page."""

from __future__ import annotations

import json

from engine.provenance import read_events
from engine.settings import build_settings
from tests.support.fake_openai import FakeOpenAIServer

CODING = {"assistant": "chatgpt", "category": "coding"}


def test_plan_calls_no_model_and_transform_reports_assist_json_invalid(make_client, monkeypatch):
    with FakeOpenAIServer(models=["m"], reply="Sure, here is a clearer prompt for you.") as server:
        monkeypatch.setenv("AIOS_PROVIDER", "openai")
        monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", server.chat_url)
        monkeypatch.setenv("AIOS_MAIN_ENDPOINT", server.chat_url)
        client = make_client()
        body = {"prompt": "Why does my python loop   never end?", **CODING, "recipe_id": "chatgpt.coding.assisted"}
        plan = client.post("/engine/plan", json=body).json()
        assert server.connections == 0  # planning never calls a model
        assert plan["recipe"]["id"] == "chatgpt.coding.assisted" and plan["packs_applied"] == ["code_fence"]
        assert [step["op"] for step in plan["operator_plan"]][:2] == ["normalize_ws", "assist_clarify"]

        result = client.post("/engine/transform", json=body)
        assert result.status_code == 200
        data = result.json()
        assert len(server.chat_requests) == 1
        assert data["assist_outcomes"][0]["code"] == "ASSIST_JSON_INVALID"
        assert data["errors"][0]["code"] == "ASSIST_JSON_INVALID"
        assert [s["op"] for s in data["operator_trace"]] == [s["op"] for s in plan["operator_plan"]]
        assert data["prompt"] == "Why does my python loop never end?"
        assert 0 <= data["quality"]["score"] <= 1 and data["quality"]["components"]

        server.reply = lambda request: json.dumps({"prompt": "Why does my Python while-loop never terminate?"})
        rewritten = client.post("/engine/transform", json=body).json()
        assert rewritten["prompt"] == "Why does my Python while-loop never terminate?"
        assert rewritten["assist_outcomes"][0]["ok"] is True and rewritten["errors"] == []

        default = client.post("/engine/plan", json={"prompt": "hi", **CODING}).json()
        assert default["recipe_selection"] == "default" and default["recipe"]["id"] == "chatgpt.coding.baseline"


def test_diagnostics_lists_recipe_validation_and_runtime_issues(make_client, data_dir):
    folder = data_dir / "recipes"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps({
        "id": "acme.general.main", "assistant": "acme", "category": "general", "default": True,
        "system_prompt": "You are {assistant}.", "operators": ["normalize_ws", "sparkle"]}))
    (folder / "broken.json").write_text('{"id": "acme.general.broken",\n "assistant": ')
    client = make_client()
    client.post("/choose", json={"assistant": "acme", "category": "nope"})
    diagnostics = client.get("/diagnostics").json()
    recipes = diagnostics["recipes"]
    assert (recipes["source"], recipes["loaded"], recipes["errors"], recipes["warnings"]) == ("data", 1, 1, 1)
    issues = {i["error_type"]: i for i in recipes["issues"]}
    assert issues["json_parse"]["line_number"] == 2 and issues["json_parse"]["file_path"].endswith("broken.json")
    assert issues["semantic_validation"]["field"] == "operators[1]"
    assert diagnostics["runtime"]["by_code"] == {"UNKNOWN_ARM": 1}
    assert diagnostics["runtime"]["recent"][0]["where"] == "gateway POST /choose"
    assert diagnostics["status"] == "error"
    plan = client.post("/engine/plan", json={"prompt": "x", "assistant": "acme"}).json()
    assert plan["warnings"][0]["field"] == "operators[1]"


def test_bandit_endpoints_round_trip(make_client, monkeypatch):
    monkeypatch.setenv("BANDIT_ENABLED", "1")
    client = make_client()
    config = client.post("/bandit_config", json={"epsilon": 0.25, "min_initial_samples": 2,
                                                   "optimistic_initial_value": 0.6}).json()
    assert config == {"epsilon": 0.25, "min_initial_samples": 2, "optimistic_initial_value": 0.6, "enabled": True}
    picks = [client.post("/choose", json=CODING).json() for _ in range(30)]
    assert all(p["policy"] == "epsilon_greedy" and p["bandit_enabled"] for p in picks)
    for pick in picks[:10]:
        ok = client.post("/feedback", json={**CODING, "recipe_id": pick["recipe_id"], "reward": 0.75,
                                            "message_id": pick["selection_id"]})
        assert ok.status_code == 200
    stats = client.get("/bandit_stats", params=CODING).json()
    assert stats["epsilon"] == 0.25 and stats["enabled"] is True
    assert stats["totals"]["selections"] == 30
    assert sum(a["reward_count"] for a in stats["arms"]) == 10
    assert {a["recipe_id"] for a in stats["arms"]} == {"chatgpt.coding.baseline", "chatgpt.coding.assisted",
                                                      "chatgpt.coding.stepwise"}
    backfill = client.post("/bandit_backfill", json=CODING).json()
    assert backfill["events_used"] == 40
    assert client.get("/bandit_stats", params=CODING).json()["arms"] == stats["arms"]
    feedback_events = read_events(build_settings().paths.log, event_types={"feedback"}).events
    assert [e["message_id"] for e in feedback_events] == [p["selection_id"] for p in picks[:10]]


def test_chat_with_bandit_enabled_logs_the_selection_and_the_recipe(make_client, monkeypatch):
    monkeypatch.setenv("BANDIT_ENABLED", "1")
    client = make_client()
    response = client.post("/v1/chat/completions", headers={"X-Session-Id": "s-42"}, json={
        "model": "router", "metadata": {"category": "coding", "trait": "technical"},
        "messages": [{"role": "user", "content": "Write a python function that reverses a list."}]})
    assert response.status_code == 200
    aios = response.json()["aios"]
    assert aios["recipe_policy"] == "epsilon_greedy" and aios["session_id"] == "s-42"
    assert response.headers["x-aios-recipe-id"] == aios["recipe_id"]
    events = read_events(build_settings().paths.log).events
    selection = next(e for e in events if e["event_type"] == "bandit_selection")
    answer = next(e for e in events if e["event_type"] == "response")
    assert selection["recipe_id"] == answer["recipe_id"] == aios["recipe_id"]
    assert selection["session_id"] == answer["session_id"] == "s-42"
    assert answer["trait"] == "technical" and answer["origin"] == "gateway"


def test_openapi_page_and_health(make_client):
    client = make_client()
    assert "swagger" in client.get("/docs").text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/chat/completions", "/v1/models", "/engine/plan", "/engine/transform", "/diagnostics",
                 "/choose", "/feedback", "/bandit_stats", "/bandit_config", "/bandit_backfill", "/metrics"):
        assert path in paths
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["simulated"] is True and health["bandit_enabled"] is False
