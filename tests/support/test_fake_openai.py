"""The fake OpenAI server other tests rely on: protocol shapes, scripting, streaming, concurrency."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.fake_openai import Behaviour, FakeOpenAIServer, closed_port


def test_models_and_a_chat_completion_with_usage():
    with FakeOpenAIServer(models=["a", "b"], reply=lambda body: f"echo {body['messages'][-1]['content']}") as srv:
        assert srv.base_url == f"http://127.0.0.1:{srv.port}/v1"
        listed = requests.get(srv.models_url, timeout=5).json()
        assert [m["id"] for m in listed["data"]] == ["a", "b"] and listed["object"] == "list"
        answer = requests.post(srv.chat_url, timeout=5, headers={"Authorization": "Bearer t"},
                               json={"model": "b", "messages": [{"role": "user", "content": "one two"}]}).json()
        assert answer["object"] == "chat.completion" and answer["model"] == "b"
        assert answer["choices"][0]["message"] == {"role": "assistant", "content": "echo one two"}
        assert answer["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
        assert [r.path for r in srv.requests] == ["/v1/models", "/v1/chat/completions"]
        assert srv.chat_requests[0].headers["authorization"] == "Bearer t"
        assert srv.chat_requests[0].json["model"] == "b"
        assert requests.get(f"{srv.base_url}/nothing", timeout=5).status_code == 404


def test_scripted_behaviours_are_consumed_in_order():
    with FakeOpenAIServer() as srv:
        srv.script(Behaviour(status=429, headers={"Retry-After": "3"}), Behaviour(body=b"{oops"),
                   Behaviour(reply="custom"))
        assert srv.pending == 3
        first = requests.post(srv.chat_url, json={}, timeout=5)
        assert first.status_code == 429 and first.headers["Retry-After"] == "3"
        assert "error" in first.json()
        assert requests.post(srv.chat_url, json={}, timeout=5).text == "{oops"
        assert requests.post(srv.chat_url, json={}, timeout=5).json()["choices"][0]["message"]["content"] == "custom"
        assert srv.pending == 0
        assert requests.post(srv.chat_url, json={}, timeout=5).json()["object"] == "chat.completion"


def test_streaming_sends_openai_chunks_ending_with_done():
    with FakeOpenAIServer(models=["m"], reply="Paris is the capital.") as srv:
        response = requests.post(srv.chat_url, stream=True, timeout=5, json={
            "model": "m", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "capital of France"}]})
        assert response.headers["Content-Type"] == "text/event-stream"
        events = [line[len("data: "):] for line in response.iter_lines(decode_unicode=True) if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Paris is the capital."
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


def test_parallel_calls_are_served_concurrently():
    with FakeOpenAIServer(delay_s=0.3) as srv:
        with ThreadPoolExecutor(5) as pool:
            codes = list(pool.map(lambda _: requests.post(srv.chat_url, json={}, timeout=10).status_code,
                                  range(5)))
        assert codes == [200] * 5
        assert srv.max_in_flight >= 2 and srv.connections == 5


def test_a_closed_port_refuses_and_an_untouched_server_counts_no_connection():
    with FakeOpenAIServer() as srv:
        assert srv.connections == 0 and srv.requests == []
    try:
        requests.get(f"http://127.0.0.1:{closed_port()}/v1/models", timeout=2)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("closed_port() had a listener")


def test_a_delayed_answer_does_not_block_stop():
    srv = FakeOpenAIServer().start()
    srv.script(Behaviour(delay_s=30))
    try:
        requests.post(srv.chat_url, json={}, timeout=0.2)
    except requests.Timeout:
        pass
    srv.stop()  # returns promptly: the sleeping handler is woken, the port is released
    assert srv.chat_requests and srv.max_in_flight == 1
