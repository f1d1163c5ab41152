"""The whole OpenAI chat-completions request against the real gateway process (`python -m engine serve`)
and a loopback upstream that records what it receives: every standard parameter arrives unchanged (plain
and streamed) and is recorded on the response event; wrong types and values are a 400 naming the
`param`, raised by the official client as BadRequestError; n > 1, tools and the like are refused with a
clear 400, never dropped; the response names the requested model; session hints keep one session."""

from __future__ import annotations

import httpx
import pytest
from openai import BadRequestError, NotFoundError

from engine.settings import build_settings
from tests.engine.gateway.conftest import UPSTREAM_REPLY as REPLY
from tests.engine.gateway.conftest import logged_responses
from tests.support.fake_openai import FakeOpenAIServer

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]

# Every standard parameter the gateway forwards, with values unlike any default.
STANDARD = {
    "temperature": 0.7, "top_p": 0.9, "max_tokens": 20, "stop": ["\n\n", "END"], "seed": 7,
    "presence_penalty": 0.5, "frequency_penalty": -0.5, "response_format": {"type": "json_object"},
    "logit_bias": {"50256": -100}, "reasoning_effort": "low", "verbosity": "low",
}
# Sampling extensions of local model servers, sent by clients through `extra_body`.
EXTENSIONS = {"top_k": 40, "min_p": 0.05, "repetition_penalty": 1.1}


def sent(upstream: FakeOpenAIServer, names) -> dict:
    body = upstream.chat_requests[-1].json
    return {name: body[name] for name in names if name in body}


def test_every_standard_parameter_reaches_the_upstream_unchanged_plain_and_streamed(client, upstream):
    expected = {**STANDARD, **EXTENSIONS}

    plain = client.chat.completions.create(model="router", user="alice", messages=QUESTION, **STANDARD,
                                           extra_body=EXTENSIONS)
    assert plain.choices[0].message.content == REPLY
    assert sent(upstream, expected) == expected and upstream.chat_requests[-1].json["stream"] is False

    chunks = list(client.chat.completions.create(model="router", user="alice", messages=QUESTION, stream=True,
                                                 **STANDARD, extra_body=EXTENSIONS))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert sent(upstream, expected) == expected and upstream.chat_requests[-1].json["stream"] is True

    # OpenAI's newer name for the limit goes alone: no max_tokens beside it.
    client.chat.completions.create(model="router", user="alice", messages=QUESTION, max_completion_tokens=33)
    body = upstream.chat_requests[-1].json
    assert body["max_completion_tokens"] == 33 and "max_tokens" not in body
    # No limit in the request: the loop's own (AIOS_MAX_TOKENS) applies, and only then.
    client.chat.completions.create(model="router", user="alice", messages=QUESTION)
    limit = build_settings().aios_max_tokens
    assert upstream.chat_requests[-1].json["max_tokens"] == limit != STANDARD["max_tokens"]
    # Parameters the gateway reads itself never reach the model server.
    for body in (r.json for r in upstream.chat_requests):
        assert not {"user", "metadata", "n", "safety_identifier", "tools"} & set(body)

    events = logged_responses(4)
    assert [e["request_params"] for e in events] == [expected, expected, {"max_completion_tokens": 33},
                                                     {"max_tokens": limit}]


def test_the_simulator_honours_the_requested_limit(make_client):
    client = make_client()
    long = "Explain in detail how TCP congestion control works, with slow start and fast recovery."
    ask = {"model": "router", "messages": [{"role": "user", "content": long}]}
    short = client.post("/v1/chat/completions", json={**ask, "max_tokens": 8}).json()
    full = client.post("/v1/chat/completions", json=ask).json()
    assert len(short["choices"][0]["message"]["content"].split()) <= 8
    assert len(full["choices"][0]["message"]["content"].split()) > 8


# (request fields, param, code): wrong types and out-of-range values as OpenAI defines them.
BAD = [
    ({"temperature": "hot"}, "temperature", "INPUT_INVALID"),
    ({"temperature": 2.5}, "temperature", "INPUT_INVALID"),
    ({"temperature": True}, "temperature", "INPUT_INVALID"),
    ({"max_tokens": "many"}, "max_tokens", "INPUT_INVALID"),
    ({"max_tokens": 0}, "max_tokens", "INPUT_INVALID"),
    ({"max_completion_tokens": 2.5}, "max_completion_tokens", "INPUT_INVALID"),
    ({"top_p": 1.5}, "top_p", "INPUT_INVALID"),
    ({"presence_penalty": -3}, "presence_penalty", "INPUT_INVALID"),
    ({"frequency_penalty": "0.5"}, "frequency_penalty", "INPUT_INVALID"),
    ({"seed": 1.5}, "seed", "INPUT_INVALID"),
    ({"stop": 5}, "stop", "INPUT_INVALID"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "INPUT_INVALID"),
    ({"logit_bias": {"the": 1}}, "logit_bias", "INPUT_INVALID"),
    ({"logit_bias": {"50256": 200}}, "logit_bias.50256", "INPUT_INVALID"),
    ({"response_format": {"type": "xml"}}, "response_format", "INPUT_INVALID"),
    ({"response_format": {"type": "json_schema"}}, "response_format", "INPUT_INVALID"),
    ({"n": 0}, "n", "INPUT_INVALID"),
    ({"user": 5}, "user", "INPUT_INVALID"),
    ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata", "INPUT_INVALID"),
    ({"stream_options": {"include_usage": "yes"}}, "stream_options.include_usage", "INPUT_INVALID"),
    ({"messages": [{"role": "user", "content": 42}]}, "messages[0].content", "INPUT_INVALID"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "INPUT_INVALID"),
    ({"temprature": 0.5}, "temprature", "UNKNOWN_PARAMETER"),
]


@pytest.mark.parametrize("stream", [False, True])
def test_bad_types_and_values_are_a_400_naming_the_param(client, gateway, upstream, stream):
    for fields, param, code in BAD:
        extra = {name: value for name, value in fields.items() if name != "messages"}
        with pytest.raises(BadRequestError) as caught:  # extra_body: sent as given, whatever the client's types
            client.chat.completions.create(model="router", messages=fields.get("messages", QUESTION),
                                           stream=stream, extra_body=extra)
        error = caught.value
        assert (error.status_code, error.param, error.type, error.code) == \
            (400, param, "invalid_request_error", code), (fields, error.body)
        assert f"field {param}" in error.message
    raw = httpx.post(gateway + "/v1/chat/completions", json={"model": "router", "messages": QUESTION,
                                                            "temperature": "hot"}, timeout=30)
    assert raw.status_code == 400
    assert raw.json() == {"error": {"code": "INPUT_INVALID", "type": "invalid_request_error",
                                    "param": "temperature",
                                    "message": "field temperature: Input should be a valid number"}}
    with pytest.raises(NotFoundError) as missing:
        client.chat.completions.create(model="gpt-17", messages=QUESTION, stream=stream)
    assert (missing.value.code, missing.value.type, missing.value.param) == \
        ("MODEL_NOT_FOUND", "invalid_request_error", None)
    assert upstream.chat_requests == []  # nothing invalid reached the model


TOOL = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}}}
# (request fields, param): features the loop cannot carry, refused rather than silently dropped.
REFUSED = [
    ({"n": 2}, "n"),
    ({"tools": [TOOL]}, "tools"),
    ({"tools": [TOOL], "tool_choice": "auto"}, "tools"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"functions": [TOOL["function"]]}, "functions"),
    ({"function_call": {"name": "weather"}}, "function_call"),
    ({"logprobs": True}, "logprobs"),
    ({"top_logprobs": 2}, "top_logprobs"),
    ({"modalities": ["text", "audio"]}, "modalities"),
    ({"messages": [*QUESTION, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "t1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
        {"role": "tool", "content": "sunny", "tool_call_id": "t1"}, *QUESTION]}, "messages[1].tool_calls"),
    ({"messages": [*QUESTION, {"role": "tool", "content": "sunny", "tool_call_id": "t1"}, *QUESTION]},
     "messages[1].role"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                {"type": "image_url", "image_url": {"url": "x"}}]}]},
     "messages[0].content[1].type"),
]


def test_n_above_one_and_tools_are_refused_with_a_clear_400(client, upstream):
    for stream in (False, True):
        for fields, param in REFUSED:
            with pytest.raises(BadRequestError) as caught:
                client.chat.completions.create(**{"model": "router", "messages": QUESTION, "stream": stream,
                                                  **fields})
            error = caught.value
            assert (error.param, error.type) == (param, "invalid_request_error"), (fields, error.body)
            assert error.code in ("UNSUPPORTED_PARAMETER", "INPUT_INVALID")
            assert "not supported" in error.message or "cannot be sent" in error.message, error.message
    assert upstream.chat_requests == []
    # The values that ask for nothing more are accepted: one choice, and nothing extra upstream.
    reply = client.chat.completions.create(model="router", messages=QUESTION, n=1, tool_choice="none",
                                           logprobs=False, parallel_tool_calls=False, modalities=["text"])
    assert [c.message.content for c in reply.choices] == [REPLY]
    assert not {"n", "tool_choice", "logprobs", "parallel_tool_calls", "modalities"} & \
        set(upstream.chat_requests[-1].json)


def test_the_response_names_the_requested_model_and_the_answering_one(client, upstream):
    raw = client.chat.completions.with_raw_response.create(model="router", messages=QUESTION)
    plain = raw.parse()
    answering = upstream.chat_requests[-1].json["model"]
    assert plain.model == "router" != answering
    assert raw.headers["x-aios-model"] == plain.model_extra["aios"]["source"] == answering

    with client.chat.completions.with_streaming_response.create(model="router", messages=QUESTION,
                                                                stream=True) as response:
        assert response.headers["x-aios-model"] == upstream.chat_requests[-1].json["model"]
        chunks = list(response.parse())
    assert {c.model for c in chunks} == {"router"}
    assert chunks[-1].model_extra["aios"]["source"] == upstream.chat_requests[-1].json["model"]

    forced = client.chat.completions.create(model="main", messages=QUESTION)
    assert forced.model == "main" and forced.model_extra["aios"]["route"] == "main"
    assert forced.model_extra["aios"]["source"] == upstream.chat_requests[-1].json["model"]


def test_session_hints_in_the_body_or_a_header_keep_one_session(client):
    def session(**options) -> str:
        return client.chat.completions.create(model="router", messages=QUESTION, **options).model_extra[
            "aios"]["session_id"]

    assert session(extra_headers={"X-Session-Id": "by-header"}) == "by-header"
    assert session(metadata={"session_id": "by-metadata"}, extra_headers={"X-Session-Id": "h"}) == "by-metadata"
    assert session(safety_identifier="by-safety-id", metadata={"session_id": "m"}) == "by-safety-id"
    assert session(user="by-user", safety_identifier="s", extra_headers={"X-Session-Id": "h"}) == "by-user"
    first, second = session(), session()
    assert first != second  # no hint: every call is a new session (and a new draw of the A/B bucket)
