"""`engine.api.ask_stream`: routing known before the first delta, the same answer and the same single
response event as `ask`, and an abandoned stream logged once as CLIENT_DISCONNECTED, not learnt from."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from engine.api import ask, ask_stream, clear_engines, get_engine
from engine.errors import InputError
from engine.provenance.reader import read_events

QUESTION = "Explain how a hash map resolves collisions and why lookups stay fast."


@pytest.fixture(autouse=True)
def fresh_engines():
    clear_engines()
    yield
    clear_engines()


def responses(data_dir: Path) -> list[dict]:
    result = read_events(data_dir / "analytics" / "hypotheses.ndjson", event_types={"response"})
    assert result.skipped == 0
    return result.events


def samples() -> int:
    return sum(b.sample_count for b in get_engine().load_state().buckets.values())


def test_stream_announces_the_route_then_ends_like_ask(data_dir: Path) -> None:
    stream = ask_stream(QUESTION, session_id="alice", origin="gateway")
    assert stream.route in ("main", "embedder") and stream.bucket in ("control", "treatment")
    assert stream.session_id == "alice" and stream.result is None
    assert responses(data_dir) == []  # nothing is logged before the answer is complete

    deltas = list(stream)
    result = stream.result
    assert len(deltas) > 5 and "".join(deltas) == result.answer
    plain = ask(QUESTION, session_id="alice", record=False)
    assert (result.answer, result.route, result.bucket, result.quality) == \
        (plain.answer, plain.route, plain.bucket, plain.quality)

    [event] = responses(data_dir)
    assert event["message_id"] == stream.message_id == result.message_id
    assert (event["route"], event["bucket"], event["answer"], event["origin"]) == \
        (stream.route, stream.bucket, result.answer, "gateway")
    assert event["error_code"] is None and event["quality"] == result.quality
    assert samples() == 1  # the adaptive controller counted it, once
    stream.close()  # closing a finished stream logs nothing more
    assert len(responses(data_dir)) == 1


def test_a_stream_abandoned_midway_is_logged_once_and_not_learnt_from(data_dir: Path) -> None:
    stream = ask_stream(QUESTION, session_id="bob")
    deltas = iter(stream)
    partial = next(deltas) + next(deltas)
    stream.close()
    stream.close()

    [event] = responses(data_dir)
    assert event["error_code"] == "CLIENT_DISCONNECTED" and event["answer"] == partial
    assert event["route"] == stream.route and event["bucket"] == stream.bucket
    assert event["quality"] == 0.0
    assert stream.result.error_code == "CLIENT_DISCONNECTED"
    assert samples() == 0


def test_a_stream_closed_before_the_first_delta_is_logged_with_no_answer(data_dir: Path) -> None:
    stream = ask_stream(QUESTION)
    stream.close()
    [event] = responses(data_dir)
    assert event["error_code"] == "CLIENT_DISCONNECTED" and event["answer"] == ""
    assert samples() == 0


def test_a_dropped_stream_is_still_logged(data_dir: Path) -> None:
    stream = ask_stream(QUESTION)
    deltas = iter(stream)
    next(deltas)
    del stream, deltas  # the consumer went away without close(): the collector finalises it
    gc.collect()
    [event] = responses(data_dir)
    assert event["error_code"] == "CLIENT_DISCONNECTED"


def test_record_false_streams_without_events_or_learning(data_dir: Path) -> None:
    stream = ask_stream(QUESTION, record=False)
    assert "".join(stream) == stream.result.answer
    assert responses(data_dir) == [] and samples() == 0


def test_a_provider_that_raises_mid_stream_is_recorded_as_provider_error(data_dir: Path) -> None:
    engine = get_engine()

    class Breaking:
        name, model, simulated = "broken", "broken-1b", False

        def chat_stream(self, messages, *, max_tokens=None, temperature=0.2):
            def deltas():
                yield "Half an"
                raise RuntimeError("secret-ish detail")
            from engine.providers.base import ChatStream
            return ChatStream(deltas())

    engine.providers.main = engine.providers.embedder = Breaking()
    stream = ask_stream(QUESTION)
    assert list(stream) == ["Half an"]
    [event] = responses(data_dir)
    assert event["error_code"] == "PROVIDER_ERROR" and event["answer"] == "Half an"
    assert "secret-ish" not in event["error_message"]
    assert samples() == 1  # a provider failure is an observation, as in ask()


def test_bad_input_raises_before_anything_streams() -> None:
    with pytest.raises(InputError):
        ask_stream("   ")
    with pytest.raises(InputError):
        ask_stream(QUESTION, route="sideways")
