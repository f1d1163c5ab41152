"""Secrets (HF_TOKEN, AIOS_API_KEY) reach the model server's Authorization header and nothing else:
no event, log line, error message or `status` output."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from engine.errors import ConfigError
from engine.logging_setup import MASK, RedactSecrets, configure_logging, redact
from engine.provenance import ErrorEvent, EventSink, ResponseEvent
from engine.providers.base import EGRESS_BLOCKED, PROVIDER_HTTP_ERROR, PROVIDER_UNREACHABLE
from engine.providers.select import http_provider, resolve_providers
from engine.settings import REPO_ROOT, ModelSpec, build_settings, load_model_config
from tests.support.fake_openai import Behaviour, FakeOpenAIServer, closed_port

HF = "hf_SECRETtokenABCDEF0123456789"
KEY = "sk-aios-SECRET-key-9876543210"
SECRETS = (HF, KEY)


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret leaked into {where}"


@pytest.fixture
def secrets_env(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", HF)
    monkeypatch.setenv("AIOS_API_KEY", KEY)


@pytest.fixture
def echo_server():
    """A server whose error bodies quote the Authorization header back, as some proxies do."""
    with FakeOpenAIServer(models=["main-7b", "small-1b"], reply="An answer.") as srv:
        yield srv


def run_engine(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **(extra_env or {}))
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True,
                          env=env, cwd=REPO_ROOT, timeout=60)


def test_the_tokens_really_reach_the_server_as_bearer_headers(secrets_env, echo_server):
    settings = build_settings()
    hf = http_provider(settings, ModelSpec("main", "main-7b", echo_server.chat_url, "hf"))
    local = http_provider(settings, ModelSpec("embedder", "small-1b", echo_server.chat_url, "lmstudio"))
    assert hf.chat([{"role": "user", "content": "hi"}]).ok
    assert local.chat([{"role": "user", "content": "hi"}]).ok
    auth = [r.headers.get("authorization") for r in echo_server.chat_requests]
    assert auth == [f"Bearer {HF}", f"Bearer {KEY}"]


def test_no_authorization_header_without_a_token(echo_server):
    provider = http_provider(build_settings(), ModelSpec("main", "main-7b", echo_server.chat_url, "lmstudio"))
    assert provider.chat([{"role": "user", "content": "hi"}]).ok
    assert "authorization" not in echo_server.chat_requests[0].headers


def test_error_messages_and_events_never_carry_a_secret(secrets_env, echo_server, data_dir):
    settings = build_settings()
    echoed = json.dumps({"error": {"message": f"bad token Bearer {HF} / {KEY}"}})
    echo_server.script(Behaviour(status=401, body=echoed))
    results = [http_provider(settings, ModelSpec("main", "main-7b", echo_server.chat_url, "hf"))
               .chat([{"role": "user", "content": "hi"}])]
    # Credentials written into the endpoint itself are dropped from messages too.
    leaky_url = f"http://user:{KEY}@127.0.0.1:{closed_port()}/v1/chat/completions"
    results.append(http_provider(build_settings(aios_max_retries=0),
                                 ModelSpec("main", "main-7b", leaky_url, "lmstudio"))
                   .chat([{"role": "user", "content": "hi"}]))
    results.append(http_provider(settings, ModelSpec("main", "m", f"http://{KEY}.example.com/v1", "x"))
                   .chat([{"role": "user", "content": "hi"}]))
    assert [r.error_code for r in results] == [PROVIDER_HTTP_ERROR, PROVIDER_UNREACHABLE, EGRESS_BLOCKED]

    log = settings.paths.log
    with EventSink(log) as sink:
        for result in results:
            sink.append(ResponseEvent(question="hi", bucket="control", complexity=0.1, boundary=0.5,
                                      route="main", source=result.source, provider=result.provider,
                                      latency_ms=result.latency_ms, quality=0.0,
                                      error_code=result.error_code))
            sink.append(ErrorEvent(code=result.error_code, message=result.error_message,
                                   where="provider"))
    for result in results[:2]:
        assert_clean(repr(result) + json.dumps(result.error_dict()), "a ChatResult")
    assert_clean(log.read_text(), "the provenance log")


def test_the_redact_filter_masks_messages_arguments_and_tracebacks(secrets_env, caplog):
    settings = build_settings()
    caplog.handler.addFilter(RedactSecrets(settings.secret_values()))
    log = logging.getLogger("engine.test_secrets")
    with caplog.at_level(logging.INFO):
        log.info("calling with token %s", HF)
        log.warning(f"header Authorization: Bearer {KEY}")
        try:
            raise RuntimeError(f"server refused {HF}")
        except RuntimeError:
            log.exception("request failed")
    text = caplog.text
    assert_clean(text, "log lines")
    assert text.count(MASK) == 3 and "RuntimeError" in text and "calling with token" in text


def test_configure_logging_installs_the_filter_on_stderr(secrets_env, capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(build_settings(), logging.INFO)
        logging.getLogger("engine.x").info("using %s and %s", HF, KEY)
        err = capsys.readouterr().err
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert_clean(err, "stderr logging")
    assert f"using {MASK} and {MASK}" in err


def test_redact_and_config_errors_do_not_echo_secrets(secrets_env, monkeypatch):
    assert redact(f"token={HF};key={KEY}", build_settings()) == f"token={MASK};key={MASK}"
    # A secret pasted into the wrong variable must not be quoted back by the validation error.
    monkeypatch.setenv("AIOS_MAX_RETRIES", KEY)
    with pytest.raises(ConfigError) as info:
        build_settings()
    assert "AIOS_MAX_RETRIES" in info.value.message
    assert_clean(info.value.message, "a ConfigError")


def test_status_output_never_shows_a_secret_in_sim_mode(secrets_env):
    outputs = {}
    for args in (("status",), ("-v", "status", "--json")):
        done = run_engine(*args)
        assert done.returncode == 0, done.stderr
        assert_clean(done.stdout + done.stderr, f"`python -m engine {' '.join(args)}`")
        outputs[args] = done.stdout
    assert "[SIMULATED]" in outputs[("status",)]
    assert json.loads(outputs[("-v", "status", "--json")])["simulated"] is True


def test_status_against_a_real_server_uses_the_tokens_but_prints_none(secrets_env, echo_server):
    extra = {"AIOS_PROVIDER": "openai", "AIOS_MAIN_ENDPOINT": echo_server.chat_url,
             "AIOS_MAIN_MODEL": "main-7b", "AIOS_MAIN_PROVIDER": "hf",
             "AIOS_EMBEDDER_ENDPOINT": f"http://user:{KEY}@127.0.0.1:{echo_server.port}/v1/chat/completions",
             "AIOS_EMBEDDER_MODEL": "small-1b"}
    outputs = []
    for args in (("status",), ("status", "--json")):
        done = run_engine(*args, extra_env=extra)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout + done.stderr)
        assert_clean(outputs[-1], f"`python -m engine {' '.join(args)}`")
    payload = json.loads(outputs[1].strip())
    assert payload["simulated"] is False
    assert [m["answers"] for m in payload["models"]] == [True, True]
    auth = {r.headers.get("authorization") for r in echo_server.requests if r.path == "/v1/models"}
    assert f"Bearer {HF}" in auth  # the token is really used, just never shown


def test_the_loop_writes_no_secret_into_its_events(secrets_env, echo_server, monkeypatch, data_dir):
    api = pytest.importorskip("engine.api", reason="the routing loop (engine.api) is not merged yet")
    monkeypatch.setenv("AIOS_PROVIDER", "openai")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", echo_server.chat_url)
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", echo_server.chat_url)
    settings = build_settings()
    assert resolve_providers(settings, load_model_config(settings)).mode == "openai"
    echo_server.script(Behaviour(status=401, body=f"Bearer {KEY} rejected"))
    results = [api.ask("Why is the sky blue?", settings=settings),
               api.ask("What is 2+2?", settings=settings)]
    assert any(r.error_code is None for r in results)
    assert_clean(settings.paths.log.read_text() + repr(results), "the loop's events")
    assert any(r.headers.get("authorization") == f"Bearer {KEY}" for r in echo_server.chat_requests)


def test_a_pasted_token_is_trimmed_and_a_broken_one_refused_by_name_only(monkeypatch, echo_server):
    monkeypatch.setenv("HF_TOKEN", f"  {HF}\r\n")
    settings = build_settings()
    assert settings.secret_values() == [HF]
    assert http_provider(settings, ModelSpec("main", "main-7b", echo_server.chat_url, "hf")).chat(
        [{"role": "user", "content": "hi"}]).ok
    assert echo_server.chat_requests[-1].headers["authorization"] == f"Bearer {HF}"

    broken = "hf_SECRET\u2019quoted"
    monkeypatch.setenv("HF_TOKEN", broken)
    with pytest.raises(ConfigError) as info:
        build_settings()
    assert "HF_TOKEN" in info.value.message and broken not in info.value.message


def test_a_key_http_cannot_carry_fails_as_a_result_not_an_exception(echo_server):
    from pydantic import SecretStr

    from engine.providers.egress import check_egress
    from engine.providers.openai_compat import OpenAICompatProvider

    broken = "sk-SECRET\u2019quoted"
    provider = OpenAICompatProvider(
        endpoint=echo_server.chat_url, model="main-7b", provider="lmstudio", api_key=SecretStr(broken),
        egress=lambda url: check_egress(url, "lmstudio", no_net_mode=False, provider_allowlist=[],
                                        egress_allowlist=[]))
    result = provider.chat([{"role": "user", "content": "hi"}])
    assert result.error_code == PROVIDER_UNREACHABLE and "characters HTTP cannot carry" in result.error_message
    assert broken not in result.error_message
    answers, detail = provider.ping()
    assert not answers and broken not in detail


UNCONFIGURED = "tok-NOT-configured-anywhere-42"  # a token this process never knew: masked by its form


def sse(*payloads: dict) -> str:
    return "".join(f"data: {json.dumps(p)}\n\n" for p in payloads)


def test_a_key_echoed_by_the_upstream_is_masked_in_the_log_and_in_diagnostics(secrets_env, echo_server,
                                                                              monkeypatch):
    """Issue 13 item 3: the client already saw it masked; the response event and /diagnostics did not."""
    from fastapi.testclient import TestClient

    from engine.api import clear_engines
    from engine.gateway.app import create_app

    monkeypatch.setenv("AIOS_PROVIDER", "openai")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", echo_server.chat_url)
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", echo_server.chat_url)
    monkeypatch.setenv("AIOS_SHADOW_RATE", "0")
    echoed = f"invalid credentials: Bearer {KEY} (also tried Authorization: Bearer {UNCONFIGURED})"
    chunk = {"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}
    echo_server.script(
        Behaviour(body=sse(chunk, {"error": {"message": echoed}})),   # mid-stream error
        Behaviour(body=sse({"error": {"message": echoed}})),          # error before any text
    )
    settings = build_settings()
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            served = []
            for _ in range(2):
                response = client.post("/v1/chat/completions", json={
                    "model": "router", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
                served.append(response.text)
            diagnostics = client.get("/diagnostics")
    finally:
        clear_engines()

    log_text = settings.paths.log.read_text()
    assert log_text.count('"error_message"') >= 2 and "invalid credentials" in log_text
    assert diagnostics.status_code == 200 and "invalid credentials" in diagnostics.text
    for where, text in (("the log", log_text), ("/diagnostics", diagnostics.text),
                        ("the response stream", "".join(served))):
        assert_clean(text, where)
        assert UNCONFIGURED not in text, f"a quoted bearer token leaked into {where}"


def test_every_event_line_is_masked_at_the_sink_whoever_builds_it(secrets_env, data_dir):
    build_settings()  # the secrets of this process are known from the first settings object on
    path = data_dir / "events.ndjson"
    with EventSink(path) as sink:
        sink.append({"event_type": "error", "code": "X", "message": f"quoted {HF} and Bearer {UNCONFIGURED}"})
        sink.append(ErrorEvent(code="X", message=json.dumps({"key": KEY}), where="test"))
    text = path.read_text()
    assert_clean(text, "an event line")
    assert UNCONFIGURED not in text and text.count(MASK) == 3
    assert all(json.loads(line) for line in text.split("\n") if line)


def test_secrets_are_absent_from_health_metrics_models_and_cli_help(secrets_env, monkeypatch):
    """Keep held: nothing a client or operator reads without asking for a secret shows one."""
    from fastapi.testclient import TestClient

    from engine.api import clear_engines
    from engine.gateway.app import create_app

    monkeypatch.setenv("AIOS_GATEWAY_TOKEN", "gw-SECRET-token-55555")
    try:
        with TestClient(create_app(build_settings()), raise_server_exceptions=False) as client:
            auth = {"Authorization": "Bearer gw-SECRET-token-55555"}
            texts = [client.get("/health").text, client.get("/metrics").text,
                     client.get("/v1/models", headers=auth).text, client.get("/diagnostics", headers=auth).text]
    finally:
        clear_engines()
    done = run_engine("--help", extra_env={"HF_TOKEN": HF, "AIOS_API_KEY": KEY})
    for text in [*texts, done.stdout + done.stderr]:
        assert_clean(text, "an endpoint or the CLI help")
        assert "gw-SECRET-token-55555" not in text


def test_the_log_filter_masks_a_quoted_bearer_token_even_with_no_secret_configured(caplog):
    caplog.handler.addFilter(RedactSecrets([]))
    with caplog.at_level(logging.INFO):
        logging.getLogger("engine.test_secrets").warning("upstream said: Authorization: Bearer %s", UNCONFIGURED)
    assert UNCONFIGURED not in caplog.text and f"Bearer {MASK}" in caplog.text


def test_every_secret_setting_is_masked_including_a_store_urls_password(monkeypatch, data_dir):
    monkeypatch.setenv("AIOS_STORE_URL", "postgresql://aios:pg-SECRET-pw-777@db.internal/aios")
    monkeypatch.setenv("AIOS_GATEWAY_TOKEN", "gw-SECRET-token-88888")
    values = build_settings().secret_values()
    assert "pg-SECRET-pw-777" in values and "gw-SECRET-token-88888" in values
    path = data_dir / "events.ndjson"
    with EventSink(path) as sink:
        sink.append(ErrorEvent(code="STORE", message='connection failed: password "pg-SECRET-pw-777" rejected; '
                                                     "token gw-SECRET-token-88888", where="store"))
    text = path.read_text()
    assert "pg-SECRET-pw-777" not in text and "gw-SECRET-token-88888" not in text
