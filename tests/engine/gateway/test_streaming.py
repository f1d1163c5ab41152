"""Real streaming through the gateway process over a loopback upstream that writes slowly: the first
chunk reaches the client long before the upstream is done; failures before the first byte are a JSON
5xx, later ones an SSE error event; a client that hangs up leaves one CLIENT_DISCONNECTED event."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from openai import APIError, OpenAI

from engine.provenance import read_events
from engine.settings import build_settings
from tests.support.fake_openai import Behaviour, FakeOpenAIServer

REPLY = ("A hash map keeps its keys in buckets picked by a hash function so one lookup checks one "
         "bucket and collisions are chained or probed while resizing keeps every bucket short")
QUESTION = "Explain how a hash map resolves collisions and why lookups stay fast."
CHUNK_DELAY_S = 0.05  # 29 words: the upstream takes about 1.4 s to finish


@pytest.fixture
def upstream():
    with FakeOpenAIServer(models=["fake-7b"], reply=REPLY, chunk_delay_s=CHUNK_DELAY_S) as server:
        yield server


@pytest.fixture
def gateway(live_gateway, upstream) -> str:
    return live_gateway(AIOS_PROVIDER="openai", AIOS_MAIN_ENDPOINT=upstream.chat_url,
                        AIOS_EMBEDDER_ENDPOINT=upstream.chat_url, AIOS_MAX_RETRIES="0")


def responses() -> list[dict]:
    return read_events(build_settings().paths.log, event_types={"response"}).events


def wait_for_responses(n: int, timeout_s: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = responses()
        if len(found) >= n:
            return found
        time.sleep(0.05)
    return responses()


def sse_payloads(text: str) -> list[str]:
    return [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]


def test_the_first_chunk_arrives_long_before_the_upstream_finishes(gateway, upstream):
    client = OpenAI(base_url=gateway + "/v1", api_key="unused", max_retries=0, timeout=30)
    started = time.perf_counter()
    raw = client.chat.completions.with_raw_response.create(
        model="router", user="carol", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": QUESTION}])
    first_text_at = None
    chunks = []
    for chunk in raw.parse():
        if first_text_at is None and chunk.choices and chunk.choices[0].delta.content:
            first_text_at = time.perf_counter() - started
        chunks.append(chunk)
    total = time.perf_counter() - started

    assert first_text_at is not None and first_text_at < total / 2, \
        f"first text after {first_text_at:.3f} s of {total:.3f} s"
    assert total >= CHUNK_DELAY_S * (len(REPLY.split()) - 1)  # the upstream really was slow
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == REPLY
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    aios = final.model_extra["aios"]
    assert raw.headers["x-aios-route"] == aios["route"] and raw.headers["x-aios-bucket"] == aios["bucket"]
    assert raw.headers["x-aios-message-id"] == aios["message_id"]
    # Usage is the upstream's own count (the fake counts words), relayed in the last chunk.
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(REPLY.split())

    [event] = wait_for_responses(1)
    assert (event["message_id"], event["route"], event["bucket"], event["session_id"]) == \
        (aios["message_id"], aios["route"], aios["bucket"], "carol")
    assert event["answer"] == REPLY and event["error_code"] is None and event["origin"] == "gateway"
    assert upstream.chat_requests[-1].json["stream"] is True


def test_an_upstream_failing_before_the_first_byte_gives_a_json_5xx(gateway, upstream):
    upstream.script(Behaviour(status=500))
    response = httpx.post(gateway + "/v1/chat/completions", timeout=30, json={
        "model": "router", "stream": True, "messages": [{"role": "user", "content": QUESTION}]})

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "PROVIDER_HTTP_ERROR" and error["route"] == response.headers["x-aios-route"]
    [event] = wait_for_responses(1)
    assert event["message_id"] == error["message_id"] and event["error_code"] == "PROVIDER_HTTP_ERROR"


def test_an_upstream_failing_mid_stream_ends_with_an_sse_error_then_done(gateway, upstream):
    upstream.script(Behaviour(stream_break_after=4))
    response = httpx.post(gateway + "/v1/chat/completions", timeout=30, json={
        "model": "router", "stream": True, "messages": [{"role": "user", "content": QUESTION}]})

    assert response.status_code == 200  # the headers were already out when the upstream broke
    payloads = sse_payloads(response.text)
    assert payloads[-1] == "[DONE]"
    error = json.loads(payloads[-2])["error"]
    assert error["code"] == "PROVIDER_UNREACHABLE" and error["message_id"] == response.headers["x-aios-message-id"]
    text = "".join(json.loads(p)["choices"][0]["delta"].get("content") or "" for p in payloads[:-2])
    assert text == " ".join(REPLY.split()[:4])
    [event] = wait_for_responses(1)
    assert event["error_code"] == "PROVIDER_UNREACHABLE" and event["answer"] == text

    # The official client turns that event into an exception instead of a silently short answer.
    upstream.script(Behaviour(stream_break_after=4))
    client = OpenAI(base_url=gateway + "/v1", api_key="unused", max_retries=0, timeout=30)
    with pytest.raises(APIError):
        for _ in client.chat.completions.create(model="router", stream=True,
                                                messages=[{"role": "user", "content": QUESTION}]):
            pass


def test_a_client_hanging_up_mid_stream_leaves_one_disconnected_event(gateway, upstream):
    parts = urlsplit(gateway)
    body = json.dumps({"model": "router", "stream": True, "user": "dave",
                       "messages": [{"role": "user", "content": QUESTION}]}).encode()
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {parts.netloc}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while b'"content":"A"' not in received:  # the first word of the answer has arrived
            block = sock.recv(4096)
            assert block, "the gateway closed the connection"
            received += block
    # Hung up about 1.3 s before the upstream would have finished.

    [event] = wait_for_responses(1)
    assert event["error_code"] == "CLIENT_DISCONNECTED" and event["session_id"] == "dave"
    assert event["answer"] and REPLY.startswith(event["answer"]) and event["answer"] != REPLY
    time.sleep(CHUNK_DELAY_S * len(REPLY.split()))  # long enough for a second event to show up
    assert len(responses()) == 1
    state = build_settings().paths.adaptive_state
    if state.exists():  # the controller did not learn from the abandoned answer
        counts = [b["sample_count"] for b in json.loads(state.read_text())["buckets"].values()]
        assert counts == [0, 0]
