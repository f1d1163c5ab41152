"""The quality scorer: named components, the gates, and the judge with its recorded fallbacks."""

from __future__ import annotations

import json

import pytest

from engine.loop.quality import ASSIST_JSON_INVALID, compute_quality, parse_judge_reply, score_answer
from engine.providers.select import http_provider
from engine.providers.sim import SimProvider
from engine.settings import ModelSpec, get_settings
from tests.support.fake_openai import FakeOpenAIServer, closed_port

QUESTION = "How does DNS resolve a domain name to an IP address?"
GOOD = ("DNS resolves a domain name in steps: the resolver asks a root server, then the TLD server, then "
        "the authoritative server, which returns the IP address for the name. The answer is cached.")


def test_components_are_named_and_in_the_unit_interval() -> None:
    result = compute_quality(QUESTION, GOOD, 0.4)
    assert set(result.components) == {"empty_or_error", "refusal", "coverage", "length", "repetition", "hedging",
                                      "consistency", "answers_question", "grounding", "concision"}
    assert all(0.0 <= v <= 1.0 for v in result.components.values())
    assert 0.9 <= result.quality <= 1.0
    assert result.method == "heuristic"


@pytest.mark.parametrize("answer,error", [("", None), ("   ", None), ("partial", "PROVIDER_TIMEOUT")])
def test_empty_or_error_scores_zero(answer: str, error: str | None) -> None:
    result = compute_quality(QUESTION, answer, 0.4, error)
    assert result.quality == 0.0 and result.components["empty_or_error"] == 0.0


def test_refusal_caps_quality() -> None:
    result = compute_quality(QUESTION, "I'm sorry, but I can't help with that. DNS domain name IP address.", 0.4)
    assert result.components["refusal"] == 0.0
    assert result.quality <= 0.1


def test_coverage_counts_the_question_terms_the_answer_uses() -> None:
    off_topic = compute_quality(QUESTION, "Bananas are rich in potassium and taste sweet when ripe, "
                                "especially in smoothies with yoghurt.", 0.4)
    assert off_topic.components["coverage"] < 0.2
    assert off_topic.quality < compute_quality(QUESTION, GOOD, 0.4).quality - 0.3


def test_length_is_judged_against_the_complexity() -> None:
    short = "Paris is the capital of France."
    assert compute_quality("What is the capital of France?", short, 0.1).components["length"] == 1.0
    hard = "Compare microservices and monoliths: trade-offs in cost, risk, testing, deployment. Recommend one."
    assert compute_quality(hard, "Microservices cost more.", 0.9).components["length"] < 0.2


def test_degenerate_repetition_is_penalised() -> None:
    loop = " ".join(["DNS resolves the domain name to an IP address."] * 12)
    result = compute_quality(QUESTION, loop, 0.4)
    assert result.components["repetition"] < 0.2
    assert result.quality < compute_quality(QUESTION, GOOD, 0.4).quality - 0.2


def test_judge_reply_parsing() -> None:
    assert parse_judge_reply('{"score": 0.8, "reason": "ok"}') == 0.8
    assert parse_judge_reply('Sure! {"score": 1, "reason": "fine"} Hope it helps') == 1.0
    for bad in ("0.8", '{"score": "high"}', '{"score": 7}', "{not json}", ""):
        assert parse_judge_reply(bad) is None


def judge_on(server: FakeOpenAIServer):
    return http_provider(get_settings(), ModelSpec("main", "judge-7b", server.chat_url))


def test_judge_score_is_used_when_its_json_is_valid() -> None:
    with FakeOpenAIServer(models=["judge-7b"], reply=json.dumps({"score": 0.42, "reason": "half right"})) as server:
        result = score_answer(QUESTION, GOOD, 0.4, judge=judge_on(server))
        assert len(server.chat_requests) == 1
    assert result.method == "judge" and result.quality == 0.42
    assert result.components["judge"] == 0.42 and result.fallback_reason is None


def test_invalid_judge_json_falls_back_to_the_heuristic_with_the_reason() -> None:
    with FakeOpenAIServer(models=["judge-7b"], reply="The answer looks great to me!") as server:
        result = score_answer(QUESTION, GOOD, 0.4, judge=judge_on(server))
    assert result.method == "heuristic_fallback" and result.fallback_reason == ASSIST_JSON_INVALID
    assert result.quality == compute_quality(QUESTION, GOOD, 0.4).quality


def test_unreachable_judge_falls_back_with_its_error_code() -> None:
    spec = ModelSpec("main", "judge-7b", f"http://127.0.0.1:{closed_port()}/v1/chat/completions")
    settings = get_settings().model_copy(update={"aios_max_retries": 0})
    result = score_answer(QUESTION, GOOD, 0.4, judge=http_provider(settings, spec))
    assert result.method == "heuristic_fallback"
    assert result.fallback_reason == "JUDGE_FAILED:PROVIDER_UNREACHABLE"


def test_the_simulator_never_passes_a_quality_number_through_the_judge() -> None:
    result = score_answer(QUESTION, GOOD, 0.4, judge=SimProvider("main", "sim-7b", latency_scale=0))
    assert result.method == "heuristic_fallback" and result.fallback_reason == ASSIST_JSON_INVALID


def test_no_judge_for_an_empty_answer() -> None:
    result = score_answer(QUESTION, "", 0.4, judge=SimProvider("main", "sim-7b", latency_scale=0))
    assert result.method == "heuristic" and result.quality == 0.0
