"""`engine.api.ask` / `ask_stream` with `history`: earlier turns reach the model between the system
prompt and the question, routing and quality stay on the question, the event counts the turns
without their text, and bad history items are refused naming the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.api import ask, ask_stream, clear_engines
from engine.errors import InputError
from engine.provenance.reader import read_events
from engine.settings import reset_settings
from tests.support.fake_openai import FakeOpenAIServer

QUESTION = "And how would that look in Python?"
HISTORY = [
    {"role": "user", "content": "Explain how a hash map resolves collisions with open addressing."},
    {"role": "assistant", "content": "Open addressing probes the next free slot zebracorn until one is empty."},
]
HISTORY_WORDS = sum(len(turn["content"].split()) for turn in HISTORY)


@pytest.fixture(autouse=True)
def fresh_engines():
    clear_engines()
    yield
    clear_engines()


def log_path(data_dir: Path) -> Path:
    return data_dir / "analytics" / "hypotheses.ndjson"


def responses(data_dir: Path) -> list[dict]:
    result = read_events(log_path(data_dir), event_types={"response"})
    assert result.skipped == 0
    return result.events


def test_history_is_sent_but_routing_quality_and_log_see_only_the_question(data_dir: Path) -> None:
    alone = ask(QUESTION, session_id="alice")
    followup = ask(QUESTION, session_id="alice", history=HISTORY)

    # The simulator answers the last user message and counts every message's words as prompt tokens:
    # same answer, more prompt tokens by the history's words (x 1.3, its token estimate).
    assert followup.answer == alone.answer
    extra = followup.tokens["prompt"] - alone.tokens["prompt"]
    assert int(HISTORY_WORDS * 1.3) - 1 <= extra <= int(HISTORY_WORDS * 1.3) + 1
    # Routing and quality are functions of the current question (and its answer) only.
    assert (followup.complexity, followup.route, followup.bucket) == (alone.complexity, alone.route, alone.bucket)
    assert followup.quality == alone.quality
    assert (alone.history_turns, followup.history_turns) == (0, 2)

    logged = {e["message_id"]: e for e in responses(data_dir)}
    assert logged[alone.message_id]["history_turns"] == 0
    assert logged[followup.message_id]["history_turns"] == 2
    assert logged[followup.message_id]["question"] == QUESTION
    # The history's text is never written to the log (a marker word only it contains).
    assert "zebracorn" not in log_path(data_dir).read_text(encoding="utf-8")


def test_stream_with_history_matches_ask(data_dir: Path) -> None:
    expected = ask(QUESTION, session_id="bob", history=HISTORY, record=False)
    stream = ask_stream(QUESTION, session_id="bob", history=HISTORY)
    text = "".join(stream)
    assert text == expected.answer
    assert stream.result.history_turns == 2 and stream.result.tokens["prompt"] == expected.tokens["prompt"]
    assert [e["history_turns"] for e in responses(data_dir)] == [2]


def test_turns_reach_the_model_in_order_after_the_system_prompt(data_dir: Path, monkeypatch) -> None:
    with FakeOpenAIServer(models=["m"], reply="Like this.") as server:
        monkeypatch.setenv("AIOS_PROVIDER", "openai")
        monkeypatch.setenv("AIOS_MAIN_ENDPOINT", server.chat_url)
        monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", server.chat_url)
        reset_settings()
        result = ask(QUESTION, session_id="carol", system_prompt="Be brief.", history=HISTORY)
        assert result.error_code is None
        sent = server.chat_requests[-1].json["messages"]
    assert sent == [{"role": "system", "content": "Be brief."}, *HISTORY, {"role": "user", "content": QUESTION}]


@pytest.mark.parametrize(("history", "field"), [
    ("not a list", "field history:"),
    ([HISTORY[0], "hello"], "field history[1]:"),
    ([{"role": "system", "content": "x"}], "field history[0].role"),
    ([{"role": "tool", "content": "x"}], "field history[0].role"),
    ([HISTORY[0], {"role": "assistant", "content": 42}], "field history[1].content"),
    ([{"role": "user"}], "field history[0].content"),
])
def test_bad_history_is_refused_naming_the_field(data_dir: Path, history, field: str) -> None:
    with pytest.raises(InputError, match=re.escape(field)):
        ask(QUESTION, history=history)
    with pytest.raises(InputError, match=re.escape(field)):
        ask_stream(QUESTION, history=history)
    assert not log_path(data_dir).exists() or responses(data_dir) == []


def test_empty_history_is_a_single_turn(data_dir: Path) -> None:
    assert ask(QUESTION, session_id="dave", history=[]).tokens == ask(QUESTION, session_id="dave").tokens
