"""Issue 13 item 1 and "keep held": no request the engine makes follows a redirect to a host the egress
policy never judged, and address tricks are refused before any socket opens.

The refused host is 2130706433, the decimal form of 127.0.0.1: the policy does not read it as loopback,
but the system resolver does, so a client that followed the redirect would reach `target` (a real
listener on loopback) and `target.connections` would count it.
"""

from __future__ import annotations

import socket

import pytest

from engine.analysis.status import compute_status
from engine.gateway.probe import probe_gateway
from engine.providers.base import EGRESS_BLOCKED, PROVIDER_HTTP_ERROR
from engine.providers.select import http_provider, resolve_providers
from engine.settings import ModelSpec, build_settings, load_model_config
from tests.support.fake_openai import FakeOpenAIServer

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
REFUSED_ALIAS = "2130706433"  # 127.0.0.1 as one decimal number


@pytest.fixture
def target():
    """The listener a followed redirect would reach (answers /v1/models, so a follow would 'succeed')."""
    with FakeOpenAIServer(models=["main-7b", "small-1b"]) as srv:
        yield srv


@pytest.fixture
def redirector(target):
    with FakeOpenAIServer(redirect_to=f"http://{REFUSED_ALIAS}:{target.port}") as srv:
        yield srv


def test_the_refused_alias_really_reaches_the_target_when_connected_to(target):
    """Control: a connection to the alias lands on `target`, so 0 connections below means none was made."""
    with socket.create_connection((REFUSED_ALIAS, target.port), timeout=2) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert sock.recv(12) == b"HTTP/1.1 200"
    assert target.connections == 1


def test_auto_probe_does_not_follow_a_redirect_to_a_refused_host(redirector, target, monkeypatch):
    monkeypatch.setenv("NO_NET_MODE", "true")
    monkeypatch.setenv("AIOS_PROVIDER", "auto")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", redirector.chat_url)
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", redirector.chat_url)
    settings = build_settings()
    choice = resolve_providers(settings, load_model_config(settings))

    assert choice.mode == "sim"
    assert "302" in choice.reason and "not followed" in choice.reason
    assert redirector.requests[0].path == "/v1/models"
    assert target.connections == 0


def test_status_check_does_not_follow_a_redirect(redirector, target, monkeypatch):
    monkeypatch.setenv("NO_NET_MODE", "true")
    monkeypatch.setenv("AIOS_PROVIDER", "openai")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", redirector.chat_url)
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", redirector.chat_url)
    status = compute_status(build_settings())

    assert [m.answers for m in status.models] == [False, False]
    assert all("302" in m.detail for m in status.models)
    assert target.connections == 0


def test_dashboard_gateway_check_does_not_follow_a_redirect(redirector, target):
    settings = build_settings(no_net_mode=True, aios_gateway_url=f"http://127.0.0.1:{redirector.port}")
    health = probe_gateway(settings, timeout_s=2)

    assert not health.up and "302" in health.detail
    assert redirector.requests[0].path == "/health"
    assert target.connections == 0


@pytest.mark.parametrize("status", [302, 307, 308])
def test_chat_posts_do_not_follow_redirects(target, status):
    with FakeOpenAIServer(redirect_to=f"http://127.0.0.1:{target.port}", redirect_status=status) as redirector:
        provider = http_provider(build_settings(aios_max_retries=0),
                                 ModelSpec("main", "main-7b", redirector.chat_url, "lmstudio"))
        plain = provider.chat(MESSAGES)
        streamed = provider.chat_stream(MESSAGES)
        list(streamed)

    assert plain.error_code == PROVIDER_HTTP_ERROR and str(status) in plain.error_message
    assert streamed.result is not None and streamed.result.error_code == PROVIDER_HTTP_ERROR
    assert target.connections == 0


@pytest.mark.parametrize("host", [
    REFUSED_ALIAS,            # decimal
    "0x7f.0.0.1",             # hex
    "0177.0.0.1",             # octal
    "127.1",                  # short form
    "[::ffff:127.0.0.1]",     # IPv4-mapped IPv6
    "127.0.0.1.",             # trailing dot
    "localhost.",
    "ⅼocalhost",              # a Unicode look-alike (U+217C)
    "evil.example@127.0.0.1",  # userinfo: the host is 127.0.0.1, but written to mislead
    "127.0.0.1@evil.example",  # userinfo: the host is evil.example
    "vm",                      # a hosts-file alias of 127.0.0.1 on the test machine, if present
])
def test_address_tricks_are_refused_under_no_net_mode_without_a_socket(target, host):
    if host == "vm" and socket.gethostname() != "vm":
        host = socket.gethostname()
    endpoint = f"http://{host}:{target.port}/v1/chat/completions"
    if "@" in host:
        endpoint = f"http://{host.split('@')[0]}@{host.split('@')[1]}:{target.port}/v1/chat/completions"
    provider = http_provider(build_settings(no_net_mode=True, aios_max_retries=0),
                             ModelSpec("main", "main-7b", endpoint, "lmstudio"))
    result = provider.chat(MESSAGES)

    if host == "evil.example@127.0.0.1":
        # Written with userinfo, but the host really is loopback: allowed, and the key never goes
        # elsewhere. The point is that the reading is the same as the HTTP client's.
        assert result.ok and target.connections == 1
        return
    assert result.error_code == EGRESS_BLOCKED, result.error_message
    assert provider.ping()[0] is False
    assert target.connections == 0


def test_the_policy_session_follows_no_redirect_whatever_method_is_used(redirector, target):
    """Code that uses the engine's sessions directly (an exporter, a command) is held too."""
    from engine.providers.egress import policy_session
    from engine.providers.openai_compat import OpenAICompatProvider

    for session in (policy_session(), OpenAICompatProvider._new_session()):
        with session:
            assert session.get(redirector.models_url, timeout=2).status_code == 302
            assert session.post(redirector.chat_url, json={}, timeout=2).status_code == 302
            assert session.trust_env is False
    assert target.connections == 0
