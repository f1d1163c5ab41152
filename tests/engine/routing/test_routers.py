"""Routers: one scoring method, one decision rule, a registry, and an explainable default."""

from __future__ import annotations

import pytest

from engine.errors import InputError
from engine.providers.sim_world import generate_questions
from engine.routing.routers import (
    ROUTERS,
    TRAITS,
    ComplexityRouter,
    Router,
    check_trait,
    get_router,
    warn_unknown_trait,
)


def test_registry_holds_the_default_and_two_baselines() -> None:
    assert {"complexity", "length", "random"} <= set(ROUTERS)
    assert get_router("complexity") is get_router("complexity")
    with pytest.raises(InputError, match="unknown router 'nope'"):
        get_router("nope")


@pytest.mark.parametrize("name", sorted(ROUTERS))
def test_scores_are_deterministic_and_in_the_unit_interval(name: str) -> None:
    router = get_router(name)
    for q in generate_questions(300, seed=4):
        score = router.score(q.question, q.trait)
        assert 0.0 <= score <= 1.0
        assert router.score(q.question, q.trait) == score


def test_decide_is_main_at_or_above_the_boundary() -> None:
    class Fixed(Router):
        name = "fixed"

        def score(self, question: str, trait: str = "general") -> float:
            return 0.5

    router = Fixed()
    assert router.decide("q", "general", 0.5).route == "main"
    assert router.decide("q", "general", 0.5000001).route == "embedder"
    assert router.decide("q", "general", 0.0).route == "main"


def test_harder_questions_score_higher() -> None:
    router = get_router("complexity")
    easy = router.score("What is the capital of France?")
    howto = router.score("How do I repot a houseplant?")
    code = router.score("Write a Python function that implements an LRU cache and explain its big-O complexity.",
                        "technical")
    analysis = router.score("Compare microservices and a monolith for a team of six: what are the trade-offs in "
                            "cost, risk and flexibility? Which would you recommend, and why?", "analytical")
    assert easy < howto < code < analysis
    assert easy < 0.5 <= code


def test_trait_prior_moves_the_score() -> None:
    router = get_router("complexity")
    question = "Tell me something about rivers and how they shape valleys over time."
    assert router.score(question, "casual") < router.score(question, "general") < router.score(question, "analytical")


def test_explain_returns_the_features_that_sum_to_the_score() -> None:
    router = get_router("complexity")
    out = router.explain("A bag has 3 red and 4 blue marbles; what is the probability of two blue?", "analytical")
    assert set(out["features"]) >= {"words", "length", "reasoning", "factual", "code", "math", "multi_part", "trait"}
    assert out["features"]["math"] > 0
    assert sum(out["contributions"].values()) == pytest.approx(out["score"], abs=1e-3)


def test_random_router_is_seeded_by_the_question_and_spreads() -> None:
    router = get_router("random")
    scores = [router.score(f"question {i}") for i in range(2000)]
    assert 0.45 < sum(s >= 0.5 for s in scores) / len(scores) < 0.55


def test_an_empty_trait_is_an_input_error_naming_the_field() -> None:
    assert check_trait("general") == "general"
    assert "analytical" in TRAITS
    for bad in ("", "  ", None, 3):
        with pytest.raises(InputError, match="field trait"):
            check_trait(bad)  # type: ignore[arg-type]


def test_an_unknown_trait_is_accepted_with_no_prior_and_named_once(caplog) -> None:
    warn_unknown_trait.cache_clear()
    router = ComplexityRouter()
    question = "Write a function that reverses a linked list."
    with caplog.at_level("WARNING", logger="engine.routing.routers"):
        assert check_trait("coding") == "coding"
        assert check_trait("coding") == "coding"
    assert [r.getMessage() for r in caplog.records if "coding" in r.getMessage()] == [
        "trait 'coding' is not one of general, casual, empathetic, creative, technical, analytical: "
        "accepted, it adds no routing prior"]
    assert router.features(question, "coding")["trait"] == 0.0
    assert router.score(question, "coding") == router.score(question, "general")


def test_complexity_is_the_default_class() -> None:
    assert isinstance(get_router(), ComplexityRouter)
