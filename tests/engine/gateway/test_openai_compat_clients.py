"""Real client libraries against the real gateway process and a recording loopback upstream:
LangChain's ChatOpenAI and `litellm.completion` (plain and streamed) get the upstream's answer, their
parameters arrive upstream unchanged, and with the X-Session-Id header every call of a session lands in
that session and its one A/B bucket (litellm sends no `user`, so without the header each call would
start a new session). The official `openai` client is exercised in test_openai_compat.py."""

from __future__ import annotations

from collections import defaultdict

from engine.loop.engine import HASH_VERSION
from engine.routing.adaptive import AdaptiveConfig
from engine.routing.bucketing import assign_bucket
from engine.settings import build_settings
from tests.engine.gateway.conftest import UPSTREAM_REPLY as REPLY
from tests.engine.gateway.conftest import logged_responses

QUESTION = "What is the capital of France?"


def test_langchain_chat_openai_invoke_and_stream(gateway, upstream):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="router", base_url=gateway + "/v1", api_key="unused", max_retries=0, timeout=30,
                     temperature=0.3, max_tokens=25, top_p=0.8, seed=5, stop=["END"],
                     default_headers={"X-Session-Id": "langchain-session"})
    # LangChain sends its max_tokens as OpenAI's newer max_completion_tokens.
    expected = {"temperature": 0.3, "max_completion_tokens": 25, "top_p": 0.8, "seed": 5, "stop": ["END"]}

    answer = llm.invoke(QUESTION)
    assert answer.content == REPLY and answer.response_metadata["model_name"] == "router"
    body = upstream.chat_requests[-1].json
    assert {name: body.get(name) for name in expected} == expected and body["stream"] is False

    streamed = "".join(str(chunk.content) for chunk in llm.stream(QUESTION))
    assert streamed == REPLY
    body = upstream.chat_requests[-1].json
    assert {name: body.get(name) for name in expected} == expected and body["stream"] is True

    events = logged_responses(2)
    assert [e["session_id"] for e in events] == ["langchain-session"] * 2
    assert len({e["bucket"] for e in events}) == 1
    assert all(e["request_params"] == expected for e in events)


def test_litellm_plain_and_streamed_keeps_one_bucket_per_session(gateway, upstream, monkeypatch):
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download of the price list at import
    import litellm

    options = {"model": "openai/router", "api_base": gateway + "/v1", "api_key": "unused",
               "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 30, "seed": 3,
               "stop": ["END"], "temperature": 0.4}
    expected = {"max_tokens": 30, "seed": 3, "stop": ["END"], "temperature": 0.4}
    sessions = [f"litellm-{i}" for i in range(6)]
    for session in sessions:
        headers = {"X-Session-Id": session}
        plain = litellm.completion(**options, extra_headers=headers)
        assert plain.choices[0].message.content == REPLY
        body = upstream.chat_requests[-1].json
        assert {name: body.get(name) for name in expected} == expected and body["stream"] is False
        stream = litellm.completion(**options, stream=True, extra_headers=headers)
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream) == REPLY
        body = upstream.chat_requests[-1].json
        assert {name: body.get(name) for name in expected} == expected and body["stream"] is True
        assert litellm.completion(**options, extra_headers=headers).choices[0].message.content == REPLY

    buckets: dict[str, set[str]] = defaultdict(set)
    events = logged_responses(3 * len(sessions))
    for event in events:
        buckets[event["session_id"]].add(event["bucket"])
    assert sorted(buckets) == sessions and all(len(found) == 1 for found in buckets.values()), buckets
    # ... and it is the session's own sticky bucket; these six sessions fall in both arms.
    seed, control_pct = build_settings().aios_experiment_seed, AdaptiveConfig().control_bucket_pct
    assert {s: found.pop() for s, found in buckets.items()} == \
        {s: assign_bucket(seed, s, control_pct, HASH_VERSION)[0] for s in sessions}
    assert {e["bucket"] for e in events} == {"control", "treatment"}
    assert all(e["request_params"] == expected for e in events)

    # Without the header litellm sends no session: each call is a session of its own.
    litellm.completion(**options)
    litellm.completion(**options)
    loose = logged_responses(3 * len(sessions) + 2)[-2:]
    assert loose[0]["session_id"] != loose[1]["session_id"]
    assert not set(buckets) & {e["session_id"] for e in loose}
