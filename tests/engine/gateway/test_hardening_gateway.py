"""Issue 13 items 7, 12 and 13 (INVALID_JSON): the gateway's front door. Body size limit (413 with the
error object, declared or chunked), history and session-id caps, no work for a client that left, the
Host check against DNS rebinding, the optional bearer token, and bodies that are not JSON at all."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from engine.gateway.errors import CODE_STATUS
from engine.provenance import read_events
from engine.settings import build_settings

CHAT = "/v1/chat/completions"
HELLO = {"model": "router", "messages": [{"role": "user", "content": "What is DNS?"}]}
INPUT_STATUS = CODE_STATUS["INPUT_INVALID"]
TOKEN = "gw-token-0123456789abcdef"


def error_of(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    return body["error"]


def response_events(data_dir) -> list[dict]:
    path = build_settings(aios_data_dir=data_dir).paths.log
    events = read_events(path).events if path.exists() else []
    return [e for e in events if e.get("event_type") == "response"]


# item 7: body size, history and session-id caps

def test_a_body_over_the_limit_is_refused_with_413_declared_or_chunked(make_client, monkeypatch, data_dir):
    monkeypatch.setenv("AIOS_GATEWAY_MAX_BODY_BYTES", "4096")
    client = make_client()
    big = {"model": "router", "messages": [{"role": "user", "content": "x" * 5000}]}
    error = error_of(client.post(CHAT, json=big), 413, "PAYLOAD_TOO_LARGE")
    assert "4096" in error["message"] and "AIOS_GATEWAY_MAX_BODY_BYTES" in error["message"]

    def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(10):
            yield b"x" * 1000

    error_of(client.post(CHAT, content=chunks(), headers={"content-type": "application/json"}),
             413, "PAYLOAD_TOO_LARGE")
    at_limit = {"model": "router", "messages": [{"role": "user", "content": "y" * 3900}]}
    assert client.post(CHAT, json=at_limit).status_code == 200
    assert len(response_events(data_dir)) == 1  # only the request under the limit did any work


def test_history_and_session_id_are_capped(make_client, monkeypatch, data_dir):
    monkeypatch.setenv("AIOS_GATEWAY_MAX_MESSAGES", "5")
    client = make_client()
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"} for i in range(7)]
    error = error_of(client.post(CHAT, json={"model": "router", "messages": turns}), INPUT_STATUS, "INPUT_INVALID")
    assert "messages" in error["message"] and "AIOS_GATEWAY_MAX_MESSAGES" in error["message"]
    error = error_of(client.post(CHAT, json={**HELLO, "user": "s" * 1_000_000}), INPUT_STATUS, "INPUT_INVALID")
    assert "AIOS_GATEWAY_MAX_SESSION_ID_CHARS" in error["message"] and len(error["message"]) < 500
    error_of(client.post(CHAT, json=HELLO, headers={"X-Session-Id": "h" * 300}), INPUT_STATUS, "INPUT_INVALID")
    assert client.post(CHAT, json={**HELLO, "user": "s" * 256}).status_code == 200
    assert [len(e["session_id"]) for e in response_events(data_dir)] == [256]


def test_no_work_is_done_for_a_client_that_has_gone(live_gateway, data_dir):
    base = live_gateway(AIOS_SIM_LATENCY_SCALE="0")
    port = int(base.rsplit(":", 1)[1])
    body = b'{"model": "router", "messages": [{"role": "user", "content": "What is DNS?"}]}'
    request = (f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode()
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(request + body)  # the whole request, then gone before any answer
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(request + body[:20])  # half a body, then gone
    time.sleep(1.5)
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/health").status_code == 200
        assert http.post(CHAT, json=HELLO).status_code == 200  # the control: a client that waits
    assert len(response_events(data_dir)) == 1


# item 12: Host check and bearer token

def test_a_rebound_host_name_reaches_no_state_changing_endpoint(make_client, monkeypatch, data_dir):
    client = make_client()
    evil = {"Host": "rebind.attacker.example:8000"}
    for method, path, body in (("POST", "/bandit_config", {"epsilon": 1.0}), ("POST", "/feedback", {}),
                               ("POST", "/bandit_backfill", {}), ("POST", CHAT, HELLO),
                               ("GET", "/diagnostics", None), ("GET", "/v1/models", None)):
        error = error_of(client.request(method, path, json=body, headers=evil), 421, "HOST_NOT_ALLOWED")
        assert "AIOS_GATEWAY_ALLOWED_HOSTS" in error["message"]
    assert client.get("/health", headers=evil).status_code == 200
    assert client.get("/metrics", headers=evil).status_code == 200
    assert response_events(data_dir) == []

    monkeypatch.setenv("AIOS_GATEWAY_ALLOWED_HOSTS", "rebind.attacker.example")
    assert make_client().get("/v1/models", headers=evil).status_code == 200


def test_the_real_server_accepts_its_own_address_and_localhost_only(live_gateway):
    base = live_gateway()
    port = base.rsplit(":", 1)[1]
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/v1/models").status_code == 200  # Host: 127.0.0.1:PORT
        assert http.get("/v1/models", headers={"Host": f"localhost:{port}"}).status_code == 200
        error_of(http.get("/v1/models", headers={"Host": f"rebind.example:{port}"}), 421, "HOST_NOT_ALLOWED")
        error_of(http.post(CHAT, json=HELLO, headers={"Host": f"127.0.0.1.nip.io:{port}"}),
                 421, "HOST_NOT_ALLOWED")


@pytest.mark.parametrize(("host", "local", "allowed", "ok"), [
    ("127.0.0.1", "127.0.0.1", [], True),
    ("localhost", "127.0.0.1", [], True),
    ("evil.example", "127.0.0.1", [], False),
    ("10.0.0.5", "10.0.0.5", [], True),
    ("localhost", "10.0.0.5", [], False),
    ("10.0.0.5", "0.0.0.0", [], True),
    ("gw.internal", "0.0.0.0", [], False),
    ("gw.internal", "0.0.0.0", ["gw.internal"], True),
    ("anything", "127.0.0.1", ["*"], True),
])
def test_host_rule(host, local, allowed, ok):
    from engine.gateway.guard import compute_host_allowed

    assert compute_host_allowed(host, local, allowed) is ok


def test_host_name_strips_port_and_brackets():
    from engine.gateway.guard import host_name

    assert [host_name(h) for h in ("Example.COM:80", "[::1]:8000", "127.0.0.1", "::1")] == \
        ["example.com", "::1", "127.0.0.1", "::1"]


def test_the_gateway_token_guards_every_endpoint_but_health_and_metrics(make_client, monkeypatch, data_dir):
    monkeypatch.setenv("AIOS_GATEWAY_TOKEN", TOKEN)
    client = make_client()
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN},
                    {"Authorization": f"Basic {TOKEN}"}):
        for method, path, body in (("POST", CHAT, HELLO), ("GET", "/v1/models", None),
                                   ("POST", "/bandit_config", {"epsilon": 1.0}), ("GET", "/diagnostics", None),
                                   ("GET", "/docs", None)):
            response = client.request(method, path, json=body, headers=headers)
            error = error_of(response, 401, "UNAUTHORIZED")
            assert response.headers["www-authenticate"] == "Bearer"
            assert TOKEN not in error["message"]
    assert response_events(data_dir) == []
    assert client.get("/health").status_code == 200 and client.get("/metrics").status_code == 200
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post(CHAT, json=HELLO, headers=auth).status_code == 200
    assert client.get("/v1/models", headers=auth).status_code == 200


# item 13: bodies that are not JSON at all

@pytest.mark.parametrize("body", [b'{"model": "router", "messages": "\xff\xfe"}', b"[" * 100_000,
                                  b'{"a":' * 50_000])
def test_invalid_utf8_and_deep_nesting_answer_invalid_json(make_client, body):
    client = make_client()
    for path in (CHAT, "/feedback", "/engine/plan"):
        error = error_of(client.post(path, content=body, headers={"content-type": "application/json"}),
                         400, "INVALID_JSON")
        assert "not valid JSON" in error["message"]
    assert client.get("/health").status_code == 200
