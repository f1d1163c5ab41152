"""The official `openai` client against the real gateway process: plain and streamed completions
come back through the loop and land in the provenance log with their route and bucket."""

from __future__ import annotations

from openai import OpenAI

from engine.provenance import read_events
from engine.settings import build_settings

QUESTION = "Explain how a hash map resolves collisions and why lookups stay fast."


def test_plain_and_streamed_completions_go_through_the_loop(live_gateway, data_dir):
    base = live_gateway()
    client = OpenAI(base_url=base + "/v1", api_key="not-needed", max_retries=0, timeout=30)

    assert {m.id for m in client.models.list()} >= {"router"}

    raw = client.chat.completions.with_raw_response.create(
        model="router", user="alice", messages=[{"role": "user", "content": QUESTION}])
    plain = raw.parse()
    answer = plain.choices[0].message.content
    aios = plain.model_extra["aios"]
    assert answer and plain.choices[0].finish_reason == "stop"
    assert raw.headers["x-aios-route"] == aios["route"] in ("main", "embedder")
    assert raw.headers["x-aios-bucket"] == aios["bucket"] in ("control", "treatment")
    assert aios["session_id"] == "alice" and aios["simulated"] is True
    assert plain.usage.total_tokens > 0

    stream = client.chat.completions.create(
        model="router", user="bob", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": QUESTION}])
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    stream_aios = final.model_extra["aios"]
    assert streamed.strip() and chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0

    forced = client.chat.completions.create(
        model=build_settings().aios_embedder_model or "llama-3.2-1b-instruct-abliterated",
        user="alice", messages=[{"role": "user", "content": QUESTION}])
    assert forced.model_extra["aios"]["route"] == "embedder"
    assert forced.model_extra["aios"]["bucket"] == aios["bucket"]  # sticky per session

    events = {e["message_id"]: e for e in read_events(build_settings().paths.log, event_types={"response"}).events}
    assert set(events) == {aios["message_id"], stream_aios["message_id"], forced.model_extra["aios"]["message_id"]}
    logged_plain, logged_stream = events[aios["message_id"]], events[stream_aios["message_id"]]
    assert (logged_plain["route"], logged_plain["bucket"], logged_plain["session_id"]) == \
        (aios["route"], aios["bucket"], "alice")
    assert (logged_stream["route"], logged_stream["bucket"], logged_stream["session_id"]) == \
        (stream_aios["route"], stream_aios["bucket"], "bob")
    assert logged_plain["answer"] == answer and logged_stream["answer"] == streamed
    assert all(e["origin"] == "gateway" and e["recipe_id"] == "chatgpt.general.baseline" for e in events.values())
    assert events[forced.model_extra["aios"]["message_id"]]["route_forced"] is True
