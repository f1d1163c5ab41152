"""A whole conversation through the real gateway process with the official `openai` client: the
upstream model receives every earlier turn, in order, after the system prompt (plain and streamed);
the log counts the turns without their text; a malformed conversation is a 400 naming the field."""

from __future__ import annotations

import pytest
from openai import BadRequestError

from engine.settings import build_settings
from tests.engine.gateway.conftest import logged_responses

SYSTEM = "Answer like a patient teacher."
MARKER = "zebracorn"  # appears only in the history, so finding it in the log would be a leak
CONVERSATION = [
    {"role": "user", "content": "Explain how a hash map resolves collisions with open addressing."},
    {"role": "assistant", "content": f"It probes the next free slot ({MARKER}) until one is empty."},
]
FOLLOW_UP = "And in Python?"
ANSWER = "Use a dict; Python probes for you."


@pytest.fixture
def upstream_reply() -> str:
    return ANSWER


def check_sent(sent: list[dict], history: list[dict]) -> None:
    """System prompt (recipe's, then the client's) first, the history verbatim, the question last."""
    assert sent[0]["role"] == "system" and sent[0]["content"].endswith(SYSTEM)
    assert sent[1:-1] == history
    assert sent[-1]["role"] == "user" and FOLLOW_UP in sent[-1]["content"]


def test_every_turn_reaches_the_upstream_in_order_plain_and_streamed(client, upstream):
    messages = [{"role": "system", "content": SYSTEM}, *CONVERSATION, {"role": "user", "content": FOLLOW_UP}]

    plain = client.chat.completions.create(model="router", user="alice", messages=messages)
    assert plain.choices[0].message.content == ANSWER
    assert plain.model_extra["aios"]["history_turns"] == 2
    check_sent(upstream.chat_requests[-1].json["messages"], CONVERSATION)

    chunks = list(client.chat.completions.create(model="router", user="alice", stream=True, messages=messages))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == ANSWER
    assert chunks[-1].model_extra["aios"]["history_turns"] == 2
    assert upstream.chat_requests[-1].json["stream"] is True
    check_sent(upstream.chat_requests[-1].json["messages"], CONVERSATION)

    events = logged_responses(2)
    assert [e["history_turns"] for e in events] == [2, 2]
    # Quality and routing saw the follow-up (after the recipe's local transform), not the history.
    assert all(FOLLOW_UP in e["question"] and MARKER not in e["question"] for e in events)
    assert MARKER not in build_settings().paths.log.read_text(encoding="utf-8")


def test_a_single_turn_request_is_unchanged(client, upstream):
    reply = client.chat.completions.create(
        model="router", user="bob",
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": FOLLOW_UP}])
    assert reply.choices[0].message.content and reply.model_extra["aios"]["history_turns"] == 0
    check_sent(upstream.chat_requests[-1].json["messages"], [])
    assert [e["history_turns"] for e in logged_responses(1)] == [0]


@pytest.mark.parametrize(("messages", "field"), [
    # A tool result cannot be replayed: the loop runs no tools.
    ([*CONVERSATION, {"role": "tool", "content": "42", "tool_call_id": "t1"},
      {"role": "user", "content": FOLLOW_UP}], "field messages[2].role"),
    # The conversation must end with the user's question.
    ([{"role": "user", "content": FOLLOW_UP}, CONVERSATION[1]], "field messages[1].role"),
    ([*CONVERSATION, {"role": "user", "content": "  "}], "field messages[2].content"),
    # Wrong types are caught while parsing the body, with the same field path.
    ([CONVERSATION[0], {"role": "assistant", "content": 42}, {"role": "user", "content": FOLLOW_UP}],
     "field messages[1].content"),
])
@pytest.mark.parametrize("stream", [False, True])
def test_a_malformed_conversation_is_a_400_naming_the_field(client, upstream, messages, field, stream):
    with pytest.raises(BadRequestError) as caught:
        client.chat.completions.create(model="router", user="carol", stream=stream, messages=messages)
    error = caught.value.body if "code" in caught.value.body else caught.value.body["error"]
    assert error["code"] == "INPUT_INVALID" and field in error["message"], error
    assert caught.value.param == field.removeprefix("field ")
    assert upstream.chat_requests == []
