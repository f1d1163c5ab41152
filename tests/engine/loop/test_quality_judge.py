"""The judge asks for its verdict with a JSON schema where the server supports one, falls back to the
prompt alone and then to the heuristic, and records which happened; a real loopback server each time."""

from __future__ import annotations

import json

from engine.loop.quality import (
    ASSIST_JSON_INVALID,
    JUDGE_SCHEMA,
    compute_quality,
    parse_judge_reply,
    score_answer,
)
from engine.providers.select import http_provider
from engine.settings import ModelSpec, get_settings
from tests.support.fake_openai import Behaviour, FakeOpenAIServer

QUESTION = "What is the capital of France?"
ANSWER = "The capital of France is Paris."
VERDICT = json.dumps({"score": 0.9, "reason": "correct"})


def judge_on(server: FakeOpenAIServer, retries: int = 0):
    settings = get_settings().model_copy(update={"aios_max_retries": retries})
    return http_provider(settings, ModelSpec("main", "judge-7b", server.chat_url))


def formats(server: FakeOpenAIServer) -> list[str]:
    return [(r.json.get("response_format") or {}).get("type", "prompt") for r in server.chat_requests]


def test_a_server_with_json_schema_gets_the_schema_and_its_verdict_is_used() -> None:
    with FakeOpenAIServer(models=["judge-7b"], reply=VERDICT) as server:
        result = score_answer(QUESTION, ANSWER, 0.2, judge=judge_on(server))
        sent = server.chat_requests[0].json["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == JUDGE_SCHEMA
    assert result.method == "judge" and result.quality == 0.9
    assert result.detail == {"judge_format": "json_schema"} and result.fallback_reason is None


def test_a_server_that_refuses_json_schema_gets_the_json_object_form_and_is_remembered() -> None:
    with FakeOpenAIServer(models=["judge-7b"], reply=VERDICT) as server:
        server.script(Behaviour(status=422))
        judge = judge_on(server)
        first = score_answer(QUESTION, ANSWER, 0.2, judge=judge)
        second = score_answer(QUESTION, ANSWER, 0.2, judge=judge)
        assert formats(server) == ["json_schema", "json_object", "json_object"]
        assert server.chat_requests[1].json["response_format"]["schema"] == JUDGE_SCHEMA
    assert first.method == second.method == "judge"
    assert first.detail["judge_format"] == second.detail["judge_format"] == "json_object"


def test_a_server_without_response_formats_gets_the_prompt_alone() -> None:
    with FakeOpenAIServer(models=["judge-7b"], reply=f"Here you go: {VERDICT}") as server:
        server.script(Behaviour(status=400), Behaviour(status=400))
        result = score_answer(QUESTION, ANSWER, 0.2, judge=judge_on(server))
        assert formats(server) == ["json_schema", "json_object", "prompt"]
    assert result.method == "judge" and result.detail["judge_format"] == "prompt" and result.quality == 0.9


def test_a_reply_that_is_not_a_verdict_keeps_the_heuristic_and_says_how_it_was_asked() -> None:
    with FakeOpenAIServer(models=["judge-7b"], reply="It is a fine answer.") as server:
        result = score_answer(QUESTION, ANSWER, 0.2, judge=judge_on(server))
    assert result.method == "heuristic_fallback" and result.fallback_reason == ASSIST_JSON_INVALID
    assert result.detail["judge_format"] == "json_schema"
    assert result.quality == compute_quality(QUESTION, ANSWER, 0.2).quality


def test_a_server_error_on_every_format_falls_back_with_its_code() -> None:
    with FakeOpenAIServer(models=["judge-7b"], reply=VERDICT) as server:
        server.script(Behaviour(status=500), Behaviour(status=500), Behaviour(status=500))
        result = score_answer(QUESTION, ANSWER, 0.2, judge=judge_on(server))
    assert result.method == "heuristic_fallback"
    assert result.fallback_reason == "JUDGE_FAILED:PROVIDER_HTTP_ERROR"
    assert result.detail["judge_format"] == "prompt"


def test_a_verdict_cut_off_after_its_score_still_counts() -> None:
    assert parse_judge_reply('{"score": 0.75, "reason": "Paris is the capi') == 0.75
    assert parse_judge_reply('{ "score": 1, "reason') == 1.0
    assert parse_judge_reply('The "score": 0.5 is what I give') is None  # not a JSON reply
    assert parse_judge_reply('{"score": 3, "reason": "x') is None
