"""The learned router in the loop and the gateway (AIOS_ROUTER=learned + AIOS_ROUTER_MODEL), with a
good, a missing, a corrupt and an other-version model; and exploration (AIOS_EXPLORE_RATE) recorded
on each answer with the chance its route had."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from engine.api import ask, clear_engines
from engine.gateway.app import create_app
from engine.provenance.reader import read_events
from engine.routing.learned import train_model
from engine.settings import build_settings, get_settings, reset_settings
from tests.engine.routing.test_learned import make_labels


@pytest.fixture(scope="module")
def model_json() -> str:
    return json.dumps(train_model(make_labels(400, seed=5), folds=3).to_dict())


@pytest.fixture
def use_model(monkeypatch, tmp_path, model_json):
    """Point AIOS_ROUTER_MODEL at a model file of the given kind; returns the expected version."""

    def setup(kind: str) -> str | None:
        path = tmp_path / "router.json"
        data = json.loads(model_json)
        if kind == "good":
            path.write_text(model_json)
        elif kind == "corrupt":
            path.write_text(model_json[: len(model_json) // 2])
        elif kind == "other-version":
            data["format_version"] = 2
            path.write_text(json.dumps(data))
        monkeypatch.setenv("AIOS_ROUTER", "learned")
        monkeypatch.setenv("AIOS_ROUTER_MODEL", str(path))
        reset_settings()
        clear_engines()
        return data["version"] if kind == "good" else None

    yield setup
    clear_engines()


def responses() -> list[dict]:
    return read_events(get_settings().paths.log, event_types={"response"}).events


@pytest.mark.parametrize("kind", ["good", "missing", "corrupt", "other-version"])
def test_loop_records_the_router_that_routed(use_model, caplog, kind):
    version = use_model(kind)
    with caplog.at_level(logging.WARNING, logger="engine.routing.learned"):
        result = ask("How do I reverse a linked list in Python?", "technical")
    assert result.error_code is None
    event = responses()[-1]
    if kind == "good":
        assert (event["router"], event["router_version"]) == ("learned", version)
        assert "unusable" not in caplog.text
    else:
        assert (event["router"], event["router_version"]) == ("complexity", None)
        assert "learned router unusable" in caplog.text


@pytest.mark.parametrize("kind", ["good", "corrupt"])
def test_gateway_answers_with_the_learned_router_or_the_default(use_model, kind):
    version = use_model(kind)
    with TestClient(create_app(build_settings()), raise_server_exceptions=False) as client:
        reply = client.post("/v1/chat/completions",
                            json={"model": "router", "messages": [{"role": "user", "content": "What is 12 times 7?"}]})
    assert reply.status_code == 200, reply.text
    event = responses()[-1]
    assert event["origin"] == "gateway"
    assert event["router"] == ("learned" if kind == "good" else "complexity")
    assert event["router_version"] == version


def test_exploration_routes_against_the_router_with_its_probability(monkeypatch):
    monkeypatch.setenv("AIOS_EXPLORE_RATE", "0.3")
    reset_settings()
    clear_engines()
    for i in range(60):
        ask(f"What is {i + 2} times 3?", "general", session_id=f"s{i}")
    events = responses()
    explored = [e for e in events if e["explored"]]
    assert 5 <= len(explored) <= 35
    for e in events:
        decided_main = e["complexity"] >= e["boundary"]
        assert (e["route"] == "main") == (decided_main != e["explored"])
        assert e["route_probability"] == pytest.approx(0.3 if e["explored"] else 0.7)
    clear_engines()


def test_no_exploration_for_forced_routes_goldens_or_a_zero_rate(monkeypatch):
    monkeypatch.setenv("AIOS_EXPLORE_RATE", "0.5")
    reset_settings()
    clear_engines()
    ask("What is 2 times 3?", route="embedder")
    ask("What is 2 times 4?", origin="golden")
    monkeypatch.setenv("AIOS_EXPLORE_RATE", "0")
    reset_settings()
    clear_engines()
    for i in range(10):
        ask(f"What is {i} times 5?")
    forced, golden, *rest = responses()
    assert (forced["explored"], forced["route_probability"]) == (False, None)
    assert (golden["explored"], golden["route_probability"]) == (False, 1.0)
    assert all(not e["explored"] and e["route_probability"] == 1.0 for e in rest)
    clear_engines()
