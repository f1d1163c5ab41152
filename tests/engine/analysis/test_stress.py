"""The stress test's measurements on their own: a rewording flips a router only when the router reads
what changed, the load counts every answer and names every failure, stops at its time limit, and only
a gateway on loopback is a target."""

from __future__ import annotations

import threading
import time

import pytest

from engine.analysis.stress import (
    PERTURBATIONS,
    check_loopback,
    check_stress_options,
    compute_load,
    compute_stability,
)
from engine.errors import InputError
from engine.routing.routers import Router

QUESTIONS = [("What is the capital of Peru?", "general"), ("Explain how a hash map resolves collisions.", "coding"),
             ("Compare microservices and a monolith for a team of six.", "technical")]


class ShoutRouter(Router):
    """Main exactly for questions written in capitals: it reads case and nothing else."""

    name = "shout"

    def score(self, question: str, trait: str = "general") -> float:
        return 1.0 if question.isupper() else 0.0


def test_only_the_rewording_a_router_reads_flips_its_route():
    rates = compute_stability([ShoutRouter()], QUESTIONS, boundary=0.5)["shout"]
    assert set(rates) == {*PERTURBATIONS, "any"}
    assert rates["uppercase"] == 1.0 and rates["any"] == 1.0
    assert all(rates[name] == 0.0 for name in PERTURBATIONS if name != "uppercase")


def test_the_load_counts_every_answer_and_names_each_failure():
    seen = []
    lock = threading.Lock()

    def call(question: str, trait: str) -> str | None:
        with lock:
            seen.append(question)
        if "Peru" in question:
            return "PROVIDER_ERROR"
        if trait == "technical":
            raise TimeoutError("upstream too slow")
        return None

    result = compute_load(call, QUESTIONS * 4, concurrency=3, max_seconds=30, target="in-process")
    assert sorted(seen) == sorted(q for q, _ in QUESTIONS * 4)
    assert result.requests == result.completed == 12 and not result.stopped_early
    assert result.errors == {"PROVIDER_ERROR": 4, "TimeoutError": 4}
    assert result.p50_ms is not None and result.p99_ms is not None and result.p50_ms <= result.p99_ms


def test_the_load_stops_at_its_time_limit():
    def slow(question: str, trait: str) -> None:
        time.sleep(0.2)

    result = compute_load(slow, QUESTIONS * 10, concurrency=1, max_seconds=0.3, target="in-process")
    assert result.stopped_early and 1 <= result.completed < result.requests == 30


def test_only_a_gateway_on_loopback_is_a_target():
    assert check_loopback("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert check_loopback("http://localhost:8000") == "http://localhost:8000"
    for url in ("http://10.0.0.1:8000", "https://example.com", "ftp://127.0.0.1:21"):
        with pytest.raises(InputError, match="loopback"):
            check_loopback(url)


@pytest.mark.parametrize("options, option", [
    ({"n": 0}, "--n"), ({"n": 10_001}, "--n"), ({"concurrency": 65}, "--concurrency"),
    ({"max_seconds": 0}, "--max-seconds"), ({"router": "nope"}, "--router"),
])
def test_each_option_out_of_range_is_named(options, option):
    values = {"n": 10, "concurrency": 2, "max_seconds": 5.0, "router": None, **options}
    with pytest.raises(InputError, match=option):
        check_stress_options(**values)
    check_stress_options(10, 2, 5.0, "length")
