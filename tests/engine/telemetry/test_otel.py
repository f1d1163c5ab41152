"""OpenTelemetry export: plain and streamed chats through the gateway reach a real OTLP/HTTP receiver
as GenAI spans with the loop's aios.* attributes; message content only when asked for; a collector
that is down or hangs costs the answers nothing and logs one warning; the egress policy judges the
collector's host."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient

from engine.api import ask, clear_engines
from engine.gateway.app import create_app
from engine.provenance import read_events
from engine.settings import build_settings, reset_settings
from engine.telemetry.otel import EXPORT_TIMEOUT_S, exporter_for

QUESTION = "What is 17 times 23? Show the steps."
SPAN_KIND_CLIENT = 3  # opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CLIENT
STATUS_ERROR = 2


@pytest.fixture
def client():
    clients: list[TestClient] = []

    def build() -> TestClient:
        reset_settings()
        made = TestClient(create_app(build_settings()), raise_server_exceptions=False)
        clients.append(made)
        return made

    yield build
    for made in clients:
        made.close()
    clear_engines()


def flush() -> None:
    exporter = exporter_for(build_settings())
    assert exporter is not None
    exporter.flush(EXPORT_TIMEOUT_S * 2)


def responses() -> list[dict]:
    return read_events(build_settings().paths.log, event_types={"response"}).events


def test_a_plain_chat_through_the_gateway_arrives_as_a_genai_span(client, receiver, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    response = client().post("/v1/chat/completions", headers={"X-Session-Id": "s-otel"}, json={
        "model": "router", "messages": [{"role": "user", "content": QUESTION}]})
    assert response.status_code == 200
    flush()
    [span] = receiver.wait_for(1)
    [event] = responses()
    attrs = span.attributes
    assert span.name == f"chat {attrs['gen_ai.request.model']}" and span.kind == SPAN_KIND_CLIENT
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == event["provider"] == "sim"
    assert attrs["gen_ai.response.model"] == event["source"]
    assert attrs["gen_ai.usage.input_tokens"] == event["tokens"]["prompt"] > 0
    assert attrs["gen_ai.usage.output_tokens"] == event["tokens"]["completion"] > 0
    assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
    assert attrs["gen_ai.response.id"] == event["message_id"] == response.json()["aios"]["message_id"]
    assert attrs["gen_ai.conversation.id"] == "s-otel"
    assert attrs["aios.route"] == event["route"] and attrs["aios.bucket"] == event["bucket"]
    assert attrs["aios.boundary"] == pytest.approx(event["boundary"])
    assert attrs["aios.complexity"] == pytest.approx(event["complexity"])
    assert attrs["aios.quality"] == pytest.approx(event["quality"])
    assert attrs["aios.quality.method"] == event["quality_method"]
    assert span.resource["service.name"] == "aios-engine"
    # The span lasts as long as the answer took.
    assert (span.end_ns - span.start_ns) / 1e6 == pytest.approx(event["latency_ms"], abs=1.0)
    # No message content unless asked for.
    assert "gen_ai.input.messages" not in attrs and "gen_ai.output.messages" not in attrs


def test_a_streamed_chat_arrives_as_one_span_with_content_when_capture_is_on(client, receiver, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint + "/")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    with client().stream("POST", "/v1/chat/completions", json={
            "model": "router", "stream": True, "user": "dora",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]}) as r:
        assert r.status_code == 200
        text = "".join(r.iter_text())
    assert "[DONE]" in text
    flush()
    [span] = receiver.wait_for(1)
    [event] = responses()
    attrs = span.attributes
    assert attrs["gen_ai.operation.name"] == "chat" and attrs["gen_ai.response.id"] == event["message_id"]
    assert attrs["gen_ai.usage.output_tokens"] == event["tokens"]["completion"] > 0
    assert attrs["aios.route"] == event["route"]
    inputs = json.loads(attrs["gen_ai.input.messages"])
    assert [m["role"] for m in inputs] == ["system", "user"]
    assert inputs[1]["parts"] == [{"type": "text", "content": QUESTION}]
    [output] = json.loads(attrs["gen_ai.output.messages"])
    assert output["role"] == "assistant" and output["parts"][0]["content"] == event["answer"]


def test_a_collector_that_is_down_leaves_answers_alone_and_warns_once(closed_port, monkeypatch, caplog):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    reset_settings()
    caplog.set_level(logging.WARNING, logger="engine.telemetry.otel")
    for round_ in range(3):
        for i in range(5):
            result = ask(question=f"What is {round_} plus {i}?", session_id=f"s{i}")
            assert result.event.error_code is None and result.event.answer
        flush()
    assert len(responses()) == 15
    warnings = [r for r in caplog.records if r.name == "engine.telemetry.otel" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert f"127.0.0.1:{closed_port}" in warnings[0].getMessage()
    clear_engines()


def test_a_collector_that_hangs_does_not_hold_up_an_answer(monkeypatch):
    # Accepts connections and never answers: an export would wait its whole timeout.
    sink = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sink.bind(("127.0.0.1", 0))
    sink.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sink.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(sink.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{sink.getsockname()[1]}")
        reset_settings()
        ask(question="Warm up: what is 1 plus 1?")
        time.sleep(1.0)  # the batch is on its way to the silent collector
        started = time.perf_counter()
        for i in range(10):
            assert ask(question=f"What is {i} times 3?").event.error_code is None
        elapsed = time.perf_counter() - started
        assert elapsed < EXPORT_TIMEOUT_S, f"10 answers took {elapsed:.1f} s behind a hung collector"
        assert accepted, "the exporter never reached the collector"
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        sink.close()
        clear_engines()


def test_the_egress_policy_judges_the_collector_host(monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="engine.telemetry.otel")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.example:4318")
    monkeypatch.setenv("NO_NET_MODE", "true")
    reset_settings()
    exporter = exporter_for(build_settings())
    assert exporter is not None and not exporter.enabled and exporter.decision.rule == "no_net_mode"
    assert ask(question="What is 2 plus 2?").event.error_code is None  # answers go on, nothing exported
    monkeypatch.setenv("NO_NET_MODE", "false")
    reset_settings()
    refused = exporter_for(build_settings())
    assert refused is not None and not refused.enabled and refused.decision.rule == "egress_allowlist"
    monkeypatch.setenv("EGRESS_ALLOWLIST", "collector.example")
    reset_settings()
    allowed = exporter_for(build_settings())
    assert allowed is not None and allowed.enabled and allowed.decision.rule == "allowlisted"
    messages = [r.getMessage() for r in caplog.records if r.name == "engine.telemetry.otel"]
    assert sum("export off" in m for m in messages) == 2
    clear_engines()


def test_no_endpoint_means_no_exporter():
    assert exporter_for(build_settings()) is None
