"""Streamed chat calls: the OpenAI-compatible provider against a real loopback server that streams
slowly, and the simulator's word deltas. Deltas arrive while the model writes; failures keep the
same error codes as `chat`; retries happen only before the first text."""

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
    ChatStream,
    stream_chat,
)
from engine.providers.openai_compat import OpenAICompatProvider
from engine.providers.select import http_provider
from engine.providers.sim import SimProvider, word_pieces
from engine.settings import ModelSpec, build_settings
from tests.support.fake_openai import Behaviour, FakeOpenAIServer, closed_port

REPLY = "Paris is the capital of France and has been for a very long time indeed."
MESSAGES = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the capital of France?"}]


def make_provider(endpoint: str, *, session: requests.Session | None = None, provider: str = "lmstudio",
                  **overrides) -> OpenAICompatProvider:
    overrides.setdefault("aios_retry_backoff_s", 0.01)
    overrides.setdefault("aios_request_timeout_s", 5.0)
    return http_provider(build_settings(**overrides), ModelSpec("main", "main-7b", endpoint, provider),
                         session=session)


def timed(stream: ChatStream) -> list[tuple[float, str]]:
    started = time.perf_counter()
    return [(time.perf_counter() - started, delta) for delta in stream]


@pytest.fixture
def slow_server():
    # 15 words, 40 ms apart: the whole answer takes about 0.56 s after the first word.
    with FakeOpenAIServer(models=["main-7b"], reply=REPLY, chunk_delay_s=0.04) as srv:
        yield srv


def test_deltas_arrive_while_the_server_is_still_writing(slow_server):
    stream = make_provider(slow_server.chat_url).chat_stream(MESSAGES, max_tokens=64)
    started = time.perf_counter()
    received = timed(stream)
    total = time.perf_counter() - started

    assert "".join(d for _, d in received) == REPLY
    assert len(received) == len(REPLY.split())
    assert received[0][0] < total / 2, f"first delta at {received[0][0]:.3f} s of {total:.3f} s"
    result = stream.result
    assert result.ok and result.text == REPLY and result.source == "main-7b"
    # The fake counts words: usage came from its final chunk, not our estimate.
    assert (result.prompt_tokens, result.completion_tokens) == (8, len(REPLY.split()))
    assert not result.usage_estimated
    assert 0 < result.first_token_ms < result.latency_ms
    sent = slow_server.chat_requests[0].json
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["max_tokens"] == 64


def test_without_a_usage_chunk_usage_is_estimated_and_marked():
    body = ('data: {"model": "m", "choices": [{"index": 0, "delta": {"content": "Hello"}}]}\n\n'
            'data: {"model": "m", "choices": [{"index": 0, "delta": {"content": " world"}, '
            '"finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')
    with FakeOpenAIServer() as server:
        server.script(Behaviour(body=body))
        stream = make_provider(server.chat_url).chat_stream(MESSAGES)
        assert list(stream) == ["Hello", " world"]
    result = stream.result
    assert result.ok and result.text == "Hello world" and result.source == "m"
    assert result.usage_estimated and result.completion_tokens == 3 and result.prompt_tokens > 0


def test_a_500_before_the_stream_is_retried(slow_server):
    slow_server.script(Behaviour(status=500))
    stream = make_provider(slow_server.chat_url).chat_stream(MESSAGES)
    assert "".join(stream) == REPLY
    assert stream.result.ok and stream.result.attempts == 2 and len(slow_server.chat_requests) == 2


def test_persistent_500_gives_http_error_and_no_text(slow_server):
    slow_server.script(*[Behaviour(status=503)] * 3)
    stream = make_provider(slow_server.chat_url, aios_max_retries=2).chat_stream(MESSAGES)
    assert list(stream) == []
    assert stream.result.error_code == PROVIDER_HTTP_ERROR and stream.result.attempts == 3
    assert stream.result.source == "unknown"


def test_a_stream_dropped_before_any_text_is_retried(slow_server):
    slow_server.script(Behaviour(stream_break_after=0))
    stream = make_provider(slow_server.chat_url).chat_stream(MESSAGES)
    assert "".join(stream) == REPLY
    assert stream.result.ok and stream.result.attempts == 2


def test_a_stream_dropped_after_text_is_not_retried_and_keeps_the_partial_text(slow_server):
    slow_server.script(Behaviour(stream_break_after=3))
    stream = make_provider(slow_server.chat_url, aios_max_retries=2).chat_stream(MESSAGES)
    deltas = list(stream)
    assert "".join(deltas) == " ".join(REPLY.split(" ")[:3])
    result = stream.result
    assert result.error_code == PROVIDER_UNREACHABLE and "before it finished" in result.error_message
    assert result.text == "".join(deltas) and result.attempts == 1
    assert len(slow_server.chat_requests) == 1


def test_a_garbled_event_gives_bad_response():
    with FakeOpenAIServer() as server:
        server.script(Behaviour(body='data: {"choices": [{"delta": {"content": "Hi"}}]}\n\ndata: {oops\n\n'))
        stream = make_provider(server.chat_url).chat_stream(MESSAGES)
        assert list(stream) == ["Hi"]
    assert stream.result.error_code == PROVIDER_BAD_RESPONSE and stream.result.text == "Hi"


def test_an_error_object_in_the_stream_gives_http_error():
    with FakeOpenAIServer() as server:
        server.script(Behaviour(body='data: {"error": {"message": "model crashed"}}\n\n'))
        stream = make_provider(server.chat_url).chat_stream(MESSAGES)
        assert list(stream) == []
    assert stream.result.error_code == PROVIDER_HTTP_ERROR and "model crashed" in stream.result.error_message


def test_a_silent_stream_gives_timeout_with_the_text_so_far():
    with FakeOpenAIServer(models=["main-7b"], reply="one two three", chunk_delay_s=1.0) as server:
        stream = make_provider(server.chat_url, aios_request_timeout_s=0.3).chat_stream(MESSAGES)
        assert list(stream) == ["one"]
    assert stream.result.error_code == PROVIDER_TIMEOUT and stream.result.text == "one"


def test_a_closed_port_gives_unreachable():
    stream = make_provider(f"http://127.0.0.1:{closed_port()}/v1/chat/completions",
                           aios_max_retries=1).chat_stream(MESSAGES)
    assert list(stream) == []
    assert stream.result.error_code == PROVIDER_UNREACHABLE and stream.result.attempts == 2


def test_egress_blocks_a_stream_before_any_connection(slow_server):
    session = OpenAICompatProvider._new_session()
    session.trust_env = False
    session.proxies = {"http": f"http://127.0.0.1:{slow_server.port}"}
    provider = make_provider("http://models.example.com/v1/chat/completions", session=session,
                             provider="openai", provider_allowlist="openai", egress_allowlist="other.example")
    stream = provider.chat_stream(MESSAGES)
    assert list(stream) == []
    assert stream.result.error_code == EGRESS_BLOCKED and stream.result.attempts == 0
    assert slow_server.connections == 0


def test_closing_early_stops_reading_the_upstream(slow_server):
    stream = make_provider(slow_server.chat_url).chat_stream(MESSAGES)
    deltas = iter(stream)
    assert next(deltas) == "Paris"
    started = time.perf_counter()
    stream.close()
    # Closing does not wait for the rest of the answer (about 0.5 s more).
    assert time.perf_counter() - started < 0.2
    assert stream.result is None


def test_sim_stream_gives_the_same_answer_as_chat_in_word_deltas():
    messages = [{"role": "user", "content": "Explain how a hash map resolves collisions and why lookups stay fast."}]
    provider = SimProvider("main", "main-7b", seed=3, latency_scale=0.0)
    plain = provider.chat(messages, max_tokens=200)
    stream = provider.chat_stream(messages, max_tokens=200)
    deltas = list(stream)
    assert "".join(deltas) == plain.text and len(deltas) == len(plain.text.split())
    result = stream.result
    assert (result.text, result.latency_ms, result.prompt_tokens, result.completion_tokens) == \
        (plain.text, plain.latency_ms, plain.prompt_tokens, plain.completion_tokens)
    assert 0 < result.first_token_ms < result.latency_ms


def test_sim_stream_sleeps_the_scaled_latency_first_token_early():
    messages = [{"role": "user", "content": "Explain how a hash map resolves collisions."}]
    scale = 0.02  # ~8 s modelled -> ~0.17 s slept
    stream = SimProvider("main", "main-7b", latency_scale=scale).chat_stream(messages)
    started = time.perf_counter()
    received = timed(stream)
    total = time.perf_counter() - started
    assert total >= stream.result.latency_ms * scale / 1000 * 0.95
    assert received[0][0] < total / 2
    assert received[0][0] >= stream.result.first_token_ms * scale / 1000 * 0.9


@pytest.mark.parametrize("text", ["", "a", "  two words  ", "line\nbreak and\ttab."])
def test_word_pieces_join_back_exactly(text):
    assert "".join(word_pieces(text)) == text


def test_stream_chat_falls_back_to_chat_for_a_provider_without_streaming():
    class PlainOnly:
        name = "plain"

        def chat(self, messages, *, max_tokens=None, temperature=0.2):
            return SimProvider("embedder", "small-1b").chat(messages, max_tokens=max_tokens)

    stream = stream_chat(PlainOnly(), MESSAGES)
    deltas = list(stream)
    assert len(deltas) == 1 and deltas[0] == stream.result.text and stream.result.ok
