"""Issue 13 item 2: a proxy is a host like any other. Loopback targets never go through one (so the
API key never reaches a proxy for a local model), NO_NET_MODE refuses proxies, and a proxy must pass
the egress policy itself. `proxy` is a real loopback listener that serves what reaches it, so its
recorded requests show exactly what a proxy would have received."""

from __future__ import annotations

import pytest

from engine.gateway.probe import probe_gateway
from engine.providers.base import EGRESS_BLOCKED
from engine.providers.select import http_provider, resolve_providers
from engine.settings import ModelSpec, build_settings, load_model_config
from tests.support.fake_openai import FakeOpenAIServer

KEY = "sk-aios-PROXY-test-key-0123456789"
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def server():
    with FakeOpenAIServer(models=["main-7b", "small-1b"], reply="Paris.") as srv:
        yield srv


@pytest.fixture
def proxy(monkeypatch):
    with FakeOpenAIServer(models=["main-7b", "small-1b"], reply="from the proxy") as srv:
        use_proxy(monkeypatch, f"http://127.0.0.1:{srv.port}")
        yield srv


def use_proxy(monkeypatch, url: str) -> None:
    for name in PROXY_VARS:
        monkeypatch.setenv(name, url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_a_loopback_model_never_goes_through_the_proxy_when_the_other_endpoint_is_remote(
        server, proxy, monkeypatch):
    monkeypatch.setenv("NO_NET_MODE", "true")
    monkeypatch.setenv("AIOS_API_KEY", KEY)
    monkeypatch.setenv("AIOS_PROVIDER", "openai")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", server.chat_url)
    monkeypatch.setenv("AIOS_MAIN_MODEL", "main-7b")
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", "http://models.example.com/v1/chat/completions")
    settings = build_settings()
    choice = resolve_providers(settings, load_model_config(settings))

    result = choice.main.chat(MESSAGES)
    remote = choice.embedder.chat(MESSAGES)

    assert result.ok and result.text == "Paris."
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert remote.error_code == EGRESS_BLOCKED
    assert proxy.connections == 0 and proxy.requests == []
    assert choice.main.ping()[0] is True and proxy.connections == 0


def test_a_proxy_outside_the_egress_allowlist_is_refused_before_any_socket(monkeypatch):
    use_proxy(monkeypatch, "http://proxy.example.net:3128")
    provider = http_provider(build_settings(provider_allowlist="openai", egress_allowlist="models.example.com",
                                            aios_max_retries=0, aios_request_timeout_s=2),
                             ModelSpec("main", "m", "http://models.example.com/v1/chat/completions", "openai"))
    result = provider.chat(MESSAGES)

    assert result.error_code == EGRESS_BLOCKED and result.attempts == 0
    assert "proxy" in result.error_message and "proxy.example.net" in result.error_message
    assert provider.ping()[0] is False


def test_an_allowed_proxy_carries_an_allowed_remote_call(proxy):
    """Control: with the proxy allowed by the policy (it is on loopback), a remote call does use it."""
    provider = http_provider(build_settings(provider_allowlist="openai", egress_allowlist="models.example.com",
                                            aios_max_retries=0),
                             ModelSpec("main", "main-7b", "http://models.example.com/v1/chat/completions", "openai"))
    result = provider.chat(MESSAGES)

    assert result.ok and result.text == "from the proxy"
    assert proxy.chat_requests[0].headers["host"] == "models.example.com"


def test_the_dashboard_gateway_check_goes_direct_to_a_loopback_gateway(server, proxy):
    health = probe_gateway(build_settings(aios_gateway_url=f"http://127.0.0.1:{server.port}"), timeout_s=2)

    assert server.requests[0].path == "/health"  # reached directly (the fake has no /health: 404)
    assert not health.up and "404" in health.detail
    assert proxy.connections == 0
