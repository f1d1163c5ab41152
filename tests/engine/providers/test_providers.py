"""The OpenAI-compatible provider and the egress policy against a real loopback server."""

from __future__ import annotations

import time

import pytest
import requests

from engine.providers.base import (
    EGRESS_BLOCKED,
    PROVIDER_BAD_RESPONSE,
    PROVIDER_HTTP_ERROR,
    PROVIDER_TIMEOUT,
    PROVIDER_UNREACHABLE,
    UNKNOWN_SOURCE,
)
from engine.providers.egress import check_egress, is_loopback_host, safe_url
from engine.providers.openai_compat import OpenAICompatProvider, parse_retry_after
from engine.providers.select import http_provider, probe_server, resolve_providers
from engine.settings import ModelSpec, build_settings, load_model_config
from tests.support.fake_openai import Behaviour, FakeOpenAIServer, closed_port

MESSAGES = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture
def server():
    with FakeOpenAIServer(models=["main-7b", "small-1b"], reply="Paris is the capital of France.") as srv:
        yield srv


def make_provider(endpoint: str, *, session: requests.Session | None = None, provider: str = "lmstudio",
                  **settings_overrides) -> OpenAICompatProvider:
    settings_overrides.setdefault("aios_retry_backoff_s", 0.01)
    settings_overrides.setdefault("aios_request_timeout_s", 5.0)
    settings = build_settings(**settings_overrides)
    spec = ModelSpec("main", "main-7b", endpoint, provider)
    return http_provider(settings, spec, session=session)


def proxied_session(server: FakeOpenAIServer) -> requests.Session:
    """A session that sends every http request to `server` as its proxy, whatever the URL's host."""
    session = OpenAICompatProvider._new_session()
    session.trust_env = False
    session.proxies = {"http": f"http://127.0.0.1:{server.port}"}
    return session


def test_success_returns_text_usage_and_the_model_that_answered(server):
    result = make_provider(server.chat_url).chat(MESSAGES, max_tokens=64, temperature=0.0)

    assert result.ok and result.error_code is None
    assert result.text == "Paris is the capital of France."
    assert result.source == "main-7b" and result.provider == "lmstudio" and not result.simulated
    # The fake counts words: 2 + 6 in the messages, 6 in the reply.
    assert (result.prompt_tokens, result.completion_tokens, result.total_tokens) == (8, 6, 14)
    assert result.attempts == 1 and result.latency_ms > 0
    sent = server.chat_requests[0].json
    assert sent["model"] == "main-7b" and sent["messages"] == MESSAGES
    assert sent["max_tokens"] == 64 and sent["temperature"] == 0.0 and sent["stream"] is False


def test_a_slow_server_gives_provider_timeout_without_retrying(server):
    server.script(Behaviour(delay_s=3.0))
    started = time.perf_counter()
    result = make_provider(server.chat_url, aios_request_timeout_s=0.3).chat(MESSAGES)
    elapsed = time.perf_counter() - started

    assert result.error_code == PROVIDER_TIMEOUT
    assert result.source == UNKNOWN_SOURCE and result.text == ""
    assert "0.3 s" in result.error_message
    assert elapsed < 2.0
    assert result.error_dict() == {"error": {"code": PROVIDER_TIMEOUT, "message": result.error_message}}


def test_a_500_is_retried_and_the_second_attempt_succeeds(server):
    server.script(Behaviour(status=500))
    result = make_provider(server.chat_url).chat(MESSAGES)

    assert result.ok and result.attempts == 2
    assert result.text == "Paris is the capital of France."
    assert len(server.chat_requests) == 2


def test_persistent_500_gives_http_error_after_the_retry_budget(server):
    server.script(*[Behaviour(status=503)] * 5)
    result = make_provider(server.chat_url, aios_max_retries=2).chat(MESSAGES)

    assert result.error_code == PROVIDER_HTTP_ERROR and result.attempts == 3
    assert "HTTP 503" in result.error_message
    assert len(server.chat_requests) == 3 and result.source == UNKNOWN_SOURCE


def test_a_400_is_not_retried(server):
    server.script(Behaviour(status=400))
    result = make_provider(server.chat_url).chat(MESSAGES)
    assert result.error_code == PROVIDER_HTTP_ERROR and result.attempts == 1
    assert len(server.chat_requests) == 1


def test_429_waits_for_retry_after_before_the_next_attempt(server):
    server.script(Behaviour(status=429, headers={"Retry-After": "1"}))
    # Backoff alone would wait 0.01 s: a gap of about 1 s can only come from Retry-After.
    result = make_provider(server.chat_url, aios_retry_backoff_s=0.01).chat(MESSAGES)

    assert result.ok and result.attempts == 2
    first, second = server.chat_requests
    gap = second.received_at - first.received_at
    assert 0.95 <= gap < 2.0, gap


def test_retry_after_is_capped_by_the_setting(server):
    server.script(Behaviour(status=429, headers={"Retry-After": "120"}))
    started = time.perf_counter()
    result = make_provider(server.chat_url, aios_max_retry_after_s=0.2).chat(MESSAGES)
    assert result.ok and result.attempts == 2
    assert time.perf_counter() - started < 2.0


def test_parse_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after("2", cap=30) == 2.0
    assert parse_retry_after("100", cap=30) == 30.0
    assert parse_retry_after(None, cap=30) is None
    assert parse_retry_after("soon", cap=30) is None
    assert parse_retry_after("Wed, 99 Foo 2026", cap=30) is None
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 10))
    assert 8.0 <= parse_retry_after(date, cap=30) <= 10.0


@pytest.mark.parametrize("body", [b"{not json", b'{"choices": []}', b'{"id": "x"}',
                                  b'{"choices": [{"message": {"content": null}}]}', b"[1, 2]"])
def test_a_malformed_answer_gives_bad_response(server, body):
    server.script(Behaviour(body=body))
    result = make_provider(server.chat_url).chat(MESSAGES)

    assert result.error_code == PROVIDER_BAD_RESPONSE, result
    assert result.source == UNKNOWN_SOURCE and result.text == ""
    assert "not a chat completion" in result.error_message


def test_a_closed_port_gives_unreachable_and_unknown_source():
    url = f"http://127.0.0.1:{closed_port()}/v1/chat/completions"
    result = make_provider(url, aios_max_retries=1).chat(MESSAGES)

    assert result.error_code == PROVIDER_UNREACHABLE
    assert result.source == UNKNOWN_SOURCE and result.attempts == 2
    assert "cannot connect" in result.error_message and url in result.error_message


def test_a_garbled_retry_after_falls_back_to_backoff(server):
    server.script(Behaviour(status=429, headers={"Retry-After": "soon"}))
    result = make_provider(server.chat_url).chat(MESSAGES)
    assert result.ok and result.attempts == 2


def test_a_dropped_connection_is_retried(server):
    server.script(Behaviour(disconnect=True))
    result = make_provider(server.chat_url).chat(MESSAGES)
    assert result.ok and result.attempts == 2


def test_the_proxy_trick_really_reaches_the_listener_when_egress_allows_it(server):
    """Control for the blocked cases below: the same session and remote URL do reach the listener
    when the policy allows them, so a connection count of 0 there means "refused before any socket"."""
    endpoint = "http://models.example.com/v1/chat/completions"
    provider = make_provider(endpoint, session=proxied_session(server), provider="openai",
                             provider_allowlist="openai", egress_allowlist="models.example.com")
    result = provider.chat(MESSAGES)

    assert result.ok, result.error_message
    assert server.connections >= 1
    assert server.chat_requests[0].headers["host"] == "models.example.com"


def test_a_host_outside_egress_allowlist_is_blocked_before_any_connection(server):
    provider = make_provider("http://models.example.com/v1/chat/completions",
                             session=proxied_session(server), provider="openai",
                             provider_allowlist="openai", egress_allowlist="api.other.example")
    result = provider.chat(MESSAGES)

    assert result.error_code == EGRESS_BLOCKED and result.attempts == 0
    assert result.source == UNKNOWN_SOURCE
    assert "EGRESS_ALLOWLIST" in result.error_message
    assert result.error_dict()["error"]["code"] == "EGRESS_BLOCKED"
    assert provider.ping()[0] is False
    assert server.connections == 0 and server.requests == []


def test_a_provider_outside_provider_allowlist_is_blocked(server):
    provider = make_provider("http://models.example.com/v1/chat/completions",
                             session=proxied_session(server), provider="hf",
                             provider_allowlist="openai", egress_allowlist="models.example.com")
    result = provider.chat(MESSAGES)
    assert result.error_code == EGRESS_BLOCKED and "PROVIDER_ALLOWLIST" in result.error_message
    assert server.connections == 0


def test_no_net_mode_blocks_a_name_that_is_not_loopback_as_written(server):
    # localhost.localdomain resolves to loopback on many machines, but as written it is a remote
    # name: NO_NET_MODE must refuse it without a DNS lookup or a socket, even when allowlisted.
    endpoint = f"http://localhost.localdomain:{server.port}/v1/chat/completions"
    provider = make_provider(endpoint, session=proxied_session(server), provider="openai",
                             no_net_mode=True, provider_allowlist="openai",
                             egress_allowlist="localhost.localdomain")
    result = provider.chat(MESSAGES)

    assert result.error_code == EGRESS_BLOCKED and "NO_NET_MODE" in result.error_message
    answers, detail = provider.ping()
    assert not answers and "NO_NET_MODE" in detail
    assert server.connections == 0


def test_no_net_mode_still_allows_loopback(server):
    result = make_provider(server.chat_url, no_net_mode=True).chat(MESSAGES)
    assert result.ok and server.connections >= 1


@pytest.mark.parametrize("host,loopback", [("localhost", True), ("127.0.0.1", True), ("127.9.9.9", True),
                                           ("[::1]", True), ("localhost.localdomain", False),
                                           ("10.0.0.1", False), ("example.com", False)])
def test_loopback_is_decided_from_the_name_as_written(host, loopback):
    assert is_loopback_host(host) is loopback
    decision = check_egress(f"http://{host}:1234/v1", "lmstudio", no_net_mode=True,
                            provider_allowlist=[], egress_allowlist=[])
    assert decision.allowed is loopback


def test_an_ambiguous_url_cannot_smuggle_a_remote_host_past_the_loopback_rule(server):
    # urlsplit reads the host of this URL as 127.0.0.1, but requests connects to evil.example:
    # the policy must not judge one host while the client calls another.
    endpoint = f"http://evil.example\\@127.0.0.1:{server.port}/v1/chat/completions"
    provider = make_provider(endpoint, session=proxied_session(server), no_net_mode=True)
    result = provider.chat(MESSAGES)

    assert result.error_code == EGRESS_BLOCKED and "ambiguous" in result.error_message
    assert provider.ping()[0] is False
    assert server.connections == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:1234\\@evil.example/v1", "http://127.0.0.1:5/v 1",
                                 "http://127.0.0.1:5/v1\r\nHost: evil.example"])
def test_urls_that_http_clients_read_differently_are_refused(url):
    decision = check_egress(url, "lmstudio", no_net_mode=False, provider_allowlist=["lmstudio"],
                            egress_allowlist=["evil.example", "127.0.0.1"])
    assert not decision.allowed and decision.rule == "ambiguous_url"


def test_a_non_http_endpoint_is_refused():
    decision = check_egress("file:///etc/passwd", "lmstudio", no_net_mode=False,
                            provider_allowlist=["lmstudio"], egress_allowlist=["etc"])
    assert not decision.allowed and decision.rule == "bad_url"


def test_safe_url_drops_credentials():
    assert safe_url("http://user:s3cret@host:8080/v1?x=1") == "http://host:8080/v1?x=1"


def test_ping_reports_whether_the_model_is_loaded(server):
    assert make_provider(server.chat_url).ping() == (True, "main-7b loaded")
    provider = OpenAICompatProvider(endpoint=server.chat_url, model="absent-model", provider="lmstudio",
                                    egress=lambda url: check_egress(url, "lmstudio", no_net_mode=False,
                                                                    provider_allowlist=[], egress_allowlist=[]))
    loaded, detail = provider.ping()
    assert not loaded and "main-7b" in detail and "absent-model is not loaded" in detail


def test_auto_mode_uses_the_server_when_it_answers(server, monkeypatch):
    monkeypatch.setenv("AIOS_PROVIDER", "auto")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", server.chat_url)
    monkeypatch.setenv("AIOS_MAIN_MODEL", "main-7b")
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", server.chat_url)
    monkeypatch.setenv("AIOS_EMBEDDER_MODEL", "small-1b")
    settings = build_settings()
    choice = resolve_providers(settings, load_model_config(settings))

    assert choice.mode == "openai" and not choice.simulated
    assert "AIOS_PROVIDER=auto" in choice.reason and server.base_url in choice.reason
    assert choice.for_route("embedder").model == "small-1b"
    assert choice.main.chat(MESSAGES).source == "main-7b"


def test_auto_mode_falls_back_to_the_simulator_on_a_closed_port_and_says_why(monkeypatch):
    url = f"http://127.0.0.1:{closed_port()}/v1/chat/completions"
    monkeypatch.setenv("AIOS_PROVIDER", "auto")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", url)
    settings = build_settings()
    choice = resolve_providers(settings, load_model_config(settings))

    assert choice.mode == "sim" and choice.simulated
    assert choice.main.simulated and choice.main.name == "sim"
    assert "no model server at" in choice.reason and "simulator" in choice.reason


def test_auto_mode_probe_respects_the_egress_policy(server, monkeypatch):
    monkeypatch.setenv("AIOS_PROVIDER", "auto")
    monkeypatch.setenv("NO_NET_MODE", "true")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", f"http://localhost.localdomain:{server.port}/v1/chat/completions")
    settings = build_settings()
    answers, detail = probe_server(settings, load_model_config(settings).main)
    assert not answers and "NO_NET_MODE" in detail
    assert resolve_providers(settings, load_model_config(settings)).mode == "sim"
    assert server.connections == 0


def test_sim_mode_never_probes(server, monkeypatch):
    monkeypatch.setenv("AIOS_PROVIDER", "sim")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", server.chat_url)
    settings = build_settings()
    choice = resolve_providers(settings, load_model_config(settings))
    assert choice.mode == "sim" and server.connections == 0


def test_a_proxy_in_the_environment_does_not_swallow_loopback_calls(server, monkeypatch):
    """HTTP(S)_PROXY set for the user's internet access must not break LM Studio on localhost."""
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIOS_PROVIDER", "auto")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", server.chat_url)
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", server.chat_url)
    settings = build_settings()
    choice = resolve_providers(settings, load_model_config(settings))

    assert choice.mode == "openai", choice.reason
    result = choice.main.chat(MESSAGES)
    assert result.ok and result.source != "unknown", result.error_message
