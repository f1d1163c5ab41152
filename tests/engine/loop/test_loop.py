"""The loop through `engine.api.ask`: what it returns, what it logs, stickiness, failures, kill switch, threads."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.api import ask, clear_engines, get_engine, reset_adaptive_state
from engine.errors import InputError
from engine.provenance.reader import read_events
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState
from engine.routing.bucketing import assign_bucket
from engine.routing.state import save_state
from engine.settings import get_settings, reset_settings
from tests.support.fake_openai import FakeOpenAIServer, closed_port

SEED = "aios-adaptive-routing"


@pytest.fixture(autouse=True)
def fresh_engines():
    clear_engines()
    yield
    clear_engines()


def events(data_dir: Path, kind: str | None = None) -> list[dict]:
    result = read_events(data_dir / "analytics" / "hypotheses.ndjson")
    assert result.skipped == 0
    return [e for e in result.events if kind is None or e["event_type"] == kind]


def session_in(bucket: str) -> str:
    return next(f"s-{i}" for i in range(1000) if assign_bucket(SEED, f"s-{i}")[0] == bucket)


def test_ask_runs_the_loop_and_logs_one_complete_response(data_dir: Path) -> None:
    result = ask("Write a Python function that merges two sorted lists and explain its big-O.", "technical",
                 "session-1")
    assert result.answer and result.source != "unknown" and result.simulated and result.provider == "sim"
    assert result.bucket == assign_bucket(SEED, "session-1")[0]
    assert result.route == ("main" if result.complexity >= result.boundary else "embedder")
    assert 0.0 < result.quality <= 1.0 and result.error_code is None
    assert result.tokens["total"] == result.tokens["prompt"] + result.tokens["completion"] > 0
    responses = events(data_dir, "response")
    assert len(responses) == 1
    event = responses[0]
    for field in ("schema_version", "ts", "message_id", "session_id", "question", "trait", "bucket", "bucket_value",
                  "hash_version", "complexity", "boundary", "route", "source", "provider", "latency_ms", "tokens",
                  "quality", "quality_components", "quality_method", "error_code", "recipe_id", "adaptive_enabled"):
        assert field in event, field
    assert event["message_id"] == result.message_id and event["quality"] == result.quality
    assert event["simulated"] is True and event["origin"] == "ask"
    # Hypotheses are appended in the same batch, right after their response.
    assert all(h["message_id"] == result.message_id for h in events(data_dir, "hypothesis"))
    state = json.loads((data_dir / "analytics" / "adaptive_routing_state.json").read_text())
    assert state["buckets"][result.bucket]["sample_count"] == 1


def test_session_is_sticky(data_dir: Path) -> None:
    buckets = {ask(f"question number {i}?", session_id="sticky-7").bucket for i in range(6)}
    assert buckets == {assign_bucket(SEED, "sticky-7")[0]}


def test_each_bucket_routes_with_its_own_boundary(data_dir: Path) -> None:
    state = AdaptiveState.fresh(SEED, AdaptiveConfig())
    state.buckets["treatment"].boundary = 0.56
    save_state(data_dir / "analytics" / "adaptive_routing_state.json", state)
    assert ask("hello?", session_id=session_in("treatment")).boundary == 0.56
    assert ask("hello?", session_id=session_in("control")).boundary == 0.5


def test_kill_switch_routes_treatment_like_control_and_says_so(data_dir: Path, monkeypatch) -> None:
    state = AdaptiveState.fresh(SEED, AdaptiveConfig())
    state.buckets["treatment"].boundary = 0.56
    save_state(data_dir / "analytics" / "adaptive_routing_state.json", state)
    monkeypatch.setenv("AIOS_ADAPTIVE_ENABLED", "0")
    reset_settings()
    result = ask("hello?", session_id=session_in("treatment"))
    assert result.bucket == "treatment" and result.boundary == 0.5 and result.adaptive_enabled is False
    assert events(data_dir, "response")[0]["adaptive_enabled"] is False


def test_forced_bucket_and_route_are_honoured_and_logged(data_dir: Path) -> None:
    result = ask("What is the capital of Peru?", bucket="control", route="main", recipe_id="r1",
                 system_prompt="Answer briefly.", origin="golden", run_id="run-1")
    assert result.bucket == "control" and result.route == "main" and result.recipe_id == "r1"
    event = events(data_dir, "response")[0]
    assert event["route_forced"] is True and event["origin"] == "golden" and event["run_id"] == "run-1"


def test_record_false_writes_nothing(data_dir: Path) -> None:
    result = ask("What is the capital of Peru?", record=False)
    assert result.answer
    assert not (data_dir / "analytics" / "hypotheses.ndjson").exists()
    assert not (data_dir / "analytics" / "adaptive_routing_state.json").exists()


@pytest.mark.parametrize("kwargs,field", [({"question": "  "}, "question"), ({"trait": " "}, "trait"),
                                          ({"route": "big"}, "route"), ({"bucket": "c"}, "bucket")])
def test_bad_input_raises_input_error_naming_the_field(kwargs: dict, field: str) -> None:
    args = {"question": "hi?", **kwargs}
    with pytest.raises(InputError, match=f"field {field}"):
        ask(**args)


def use_server(monkeypatch, url: str) -> None:
    monkeypatch.setenv("AIOS_PROVIDER", "openai")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", url)
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", url)
    monkeypatch.setenv("AIOS_MAX_RETRIES", "0")
    reset_settings()


def test_provider_failure_never_raises(data_dir: Path, monkeypatch) -> None:
    use_server(monkeypatch, f"http://127.0.0.1:{closed_port()}/v1/chat/completions")
    result = ask("What is the capital of Peru?", session_id="down-1")
    assert result.source == "unknown" and result.quality == 0.0 and result.error_code == "PROVIDER_UNREACHABLE"
    assert result.simulated is False
    event = events(data_dir, "response")[0]
    assert event["error_code"] == "PROVIDER_UNREACHABLE" and event["source"] == "unknown"
    state = json.loads((data_dir / "analytics" / "adaptive_routing_state.json").read_text())
    bucket = state["buckets"][result.bucket]
    assert bucket["sample_count"] == 1 and bucket["errors"] == 1 and bucket["routes"]["embedder"]["count"] == 0


def test_real_server_answer_is_scored_by_the_engine(data_dir: Path, monkeypatch) -> None:
    with FakeOpenAIServer(models=["openhermes-2.5-mistral-7b"], reply="The capital of Peru is Lima.") as server:
        use_server(monkeypatch, server.chat_url)
        result = ask("What is the capital of Peru?")
        body = server.chat_requests[0].json
    assert result.answer == "The capital of Peru is Lima." and result.provider == "lmstudio"
    assert body["messages"][-1] == {"role": "user", "content": "What is the capital of Peru?"}
    assert result.quality_components["coverage"] == 1.0 and result.quality > 0.9


def test_concurrent_asks_from_a_thread_pool_lose_nothing(data_dir: Path) -> None:
    questions = [f"How do I fix bug number {i} in my Python script?" for i in range(40)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda q: ask(q, "technical", f"t-{hash(q) % 7}", origin="golden"), questions))
    assert len({r.message_id for r in results}) == 40
    assert len(events(data_dir, "response")) == 40
    state = json.loads((data_dir / "analytics" / "adaptive_routing_state.json").read_text())
    assert sum(b["sample_count"] for b in state["buckets"].values()) == 40


def test_engine_is_cached_per_settings_and_reset_deletes_the_state(data_dir: Path) -> None:
    settings = get_settings()
    assert get_engine(settings) is get_engine(settings)
    ask("hello?")
    path = data_dir / "analytics" / "adaptive_routing_state.json"
    assert path.exists()
    assert reset_adaptive_state() == path and not path.exists()
    assert reset_adaptive_state() is None


def test_a_corrupt_state_file_does_not_stop_the_loop(data_dir: Path, caplog) -> None:
    path = data_dir / "analytics" / "adaptive_routing_state.json"
    path.parent.mkdir(parents=True)
    path.write_text("{ half a file", encoding="utf-8")
    result = ask("What is the capital of Kenya?")
    assert result.answer and result.boundary == 0.5
    assert json.loads(path.read_text())["buckets"][result.bucket]["sample_count"] == 1
    assert len(list(path.parent.glob("adaptive_routing_state.json.corrupt-*"))) == 1
    assert "corrupt" in caplog.text
