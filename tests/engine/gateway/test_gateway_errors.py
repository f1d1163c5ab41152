"""Every failure is {"error": {"code", "message", "type", "param"}} with a fitting status (OpenAI's: 400 for
a request the gateway cannot take): bad requests (4xx, and the real server keeps serving), provider
failures over a real loopback upstream (502/504), egress (403), and no secret in any error."""

from __future__ import annotations

import httpx
import pytest

from engine.provenance import read_events
from engine.settings import build_settings
from tests.support.fake_openai import Behaviour, FakeOpenAIServer, closed_port

CHAT = "/v1/chat/completions"
HELLO = {"model": "router", "messages": [{"role": "user", "content": "What is DNS?"}]}


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["error"]["type"] == ("server_error" if status >= 500 else "invalid_request_error"), body
    assert "param" in body["error"]
    return body["error"]


def test_bad_requests_get_the_error_object_and_the_server_keeps_serving(live_gateway):
    base = live_gateway()
    with httpx.Client(base_url=base, timeout=30) as http:
        assert_error(http.post(CHAT, content=b"{not json", headers={"content-type": "application/json"}),
                     400, "INVALID_JSON")
        assert_error(http.post("/feedback", content=b"reward=7", headers={"content-type": "application/json"}),
                     400, "INVALID_JSON")
        wrong = assert_error(http.post(CHAT, json={"model": "router", "messages": "hi"}), 400, "INPUT_INVALID")
        assert "messages" in wrong["message"] and wrong["param"] == "messages"
        assert assert_error(http.post(CHAT, json={**HELLO, "stream": "yes"}), 400, "INPUT_INVALID")["param"] == "stream"
        assert_error(http.post("/choose", json=["chatgpt"]), 400, "INPUT_INVALID")
        assert_error(http.post(CHAT, json={**HELLO, "model": "gpt-17"}), 404, "MODEL_NOT_FOUND")
        assert_error(http.post(CHAT, json={**HELLO, "metadata": {"recipe_id": "no.such.recipe"}}),
                     404, "UNKNOWN_RECIPE")
        no_trait = assert_error(http.post(CHAT, json={**HELLO, "metadata": {"trait": ""}}), 400, "INPUT_INVALID")
        assert no_trait["param"] == "metadata.trait"
        assert_error(http.post("/engine/plan", json={"prompt": "x", "recipe_id": "nope"}), 404, "UNKNOWN_RECIPE")
        feedback = {"assistant": "chatgpt", "category": "coding", "recipe_id": "chatgpt.coding.baseline"}
        assert_error(http.post("/feedback", json={**feedback, "reward": 7}), 400, "REWARD_OUT_OF_RANGE")
        assert_error(http.post("/feedback", json={**feedback, "reward": "0.5"}), 400, "INPUT_INVALID")
        assert_error(http.post("/feedback", json={**feedback, "recipe_id": "x", "reward": 1}), 404, "UNKNOWN_ARM")
        assert_error(http.post("/choose", json={"assistant": "chatgpt", "category": "astrology"}), 404, "UNKNOWN_ARM")
        assert_error(http.post("/bandit_config", json={"epsilon": 3}), 400, "INPUT_INVALID")
        assert_error(http.get("/no/such/page"), 404, "NOT_FOUND")
        assert_error(http.get("/choose"), 405, "METHOD_NOT_ALLOWED")

        assert http.post(CHAT, json=HELLO).status_code == 200
        assert http.post("/feedback", json={**feedback, "reward": 1}).json()["ok"] is True
        diagnostics = http.get("/diagnostics").json()
    assert diagnostics["runtime"]["by_code"]["INVALID_JSON"] == 2
    assert diagnostics["runtime"]["by_code"]["REWARD_OUT_OF_RANGE"] == 1


def use_upstream(monkeypatch, url: str, *, provider: str = "lmstudio") -> None:
    monkeypatch.setenv("AIOS_PROVIDER", "openai")
    for role in ("MAIN", "EMBEDDER"):
        monkeypatch.setenv(f"AIOS_{role}_ENDPOINT", url)
        monkeypatch.setenv(f"AIOS_{role}_PROVIDER", provider)
    monkeypatch.setenv("AIOS_MAX_RETRIES", "0")


def test_unreachable_upstream_is_502_and_logged(make_client, monkeypatch):
    use_upstream(monkeypatch, f"http://127.0.0.1:{closed_port()}/v1/chat/completions")
    response = make_client().post(CHAT, json=HELLO)
    error = assert_error_extra(response, 502, "PROVIDER_UNREACHABLE")
    assert response.headers["x-aios-route"] == error["route"]
    event = read_events(build_settings().paths.log, event_types={"response"}).events[-1]
    assert (event["message_id"], event["error_code"], event["source"]) == (error["message_id"],
                                                                         "PROVIDER_UNREACHABLE", "unknown")


def assert_error_extra(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert {"message_id", "route", "bucket"} <= set(error)
    assert (error["type"], error["param"]) == ("permission_error" if status == 403 else "server_error", None)
    return error


def test_slow_upstream_is_504(make_client, monkeypatch):
    with FakeOpenAIServer(models=["m"], delay_s=2.0) as server:
        use_upstream(monkeypatch, server.chat_url)
        monkeypatch.setenv("AIOS_REQUEST_TIMEOUT_S", "0.3")
        assert_error_extra(make_client().post(CHAT, json=HELLO), 504, "PROVIDER_TIMEOUT")


def test_upstream_http_error_is_502_and_no_secret_leaks(make_client, monkeypatch):
    secret = "sk-gateway-test-secret-123456"
    monkeypatch.setenv("AIOS_API_KEY", secret)
    with FakeOpenAIServer(models=["m"], reply=lambda body: f"echo {secret}") as server:
        server.script(Behaviour(status=500))
        use_upstream(monkeypatch, server.chat_url)
        client = make_client()
        response = client.post(CHAT, json=HELLO)
        assert_error_extra(response, 502, "PROVIDER_HTTP_ERROR")
        assert server.chat_requests[0].headers["authorization"] == f"Bearer {secret}"  # really sent upstream
        for path in ("/diagnostics", "/health", "/bandit_stats", "/metrics"):
            assert secret not in client.get(path).text
    assert secret not in response.text


@pytest.mark.parametrize("stream", [False, True])
def test_egress_blocked_is_403_without_a_socket(make_client, monkeypatch, stream):
    use_upstream(monkeypatch, "https://api.example.com/v1/chat/completions", provider="hf")
    monkeypatch.setenv("NO_NET_MODE", "true")
    response = make_client().post(CHAT, json={**HELLO, "stream": stream})
    error = assert_error_extra(response, 403, "EGRESS_BLOCKED")
    assert "NO_NET_MODE" in error["message"]
