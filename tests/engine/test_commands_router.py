"""train-router, score --router learned --model, replay, optimize and stress-test as a user runs them,
and their HTTP twins (POST /replay, /optimize, /stress-test) returning the same JSON."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.api import clear_engines, simulate
from engine.cli import main
from engine.errors import EXIT_BAD_INPUT
from engine.gateway.app import create_app
from engine.providers.sim_world import generate_questions, p_correct, truth_of
from engine.settings import build_settings, get_settings, reset_settings


@pytest.fixture(autouse=True)
def keep_root_logging():
    """main() installs its own stderr handler on the root logger; give later tests theirs back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    clear_engines()


def write_pairs(path: Path, n: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    with path.open("w") as handle:
        for item in generate_questions(n, seed):
            truth = truth_of(item.question)
            d = truth.difficulty if truth else 0.3
            row = {"question": item.question, "trait": item.trait, "ignored": [1, 2],
                   "main_correct": rng.random() < p_correct("main", d),
                   "embedder_correct": rng.random() < p_correct("embedder", d)}
            if rng.random() < 0.5:
                row.pop("main_correct" if rng.random() < 0.5 else "embedder_correct")
            handle.write(json.dumps(row) + "\n")
    return path


def run_json(capsys, *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def simulated_log(monkeypatch):
    monkeypatch.setenv("AIOS_EXPLORE_RATE", "0.2")
    reset_settings()
    simulate(300, seed=2, settings=get_settings())
    clear_engines()
    return get_settings().paths.log


def test_train_router_from_pairs_then_score_with_it(tmp_path, capsys, monkeypatch):
    pairs = write_pairs(tmp_path / "pairs.jsonl", 450)
    out = tmp_path / "model" / "router.json"
    summary = run_json(capsys, "train-router", "--pairs", str(pairs), "--out", str(out), "--target-main-share", "0.35")
    assert out.exists() and summary["out"] == str(out)
    assert summary["size"] == 450 and summary["target_main_share"] == 0.35
    assert summary["held_out"]["questions"] > 0 and "apgr" in summary["held_out"]

    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(
        '{"question": "What is the capital of Peru?"}\nCompare microservices and a monolith for a team of six.\n'))
    assert main(["score", "--router", "learned", "--model", str(out)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["router"] for r in rows] == ["learned", "learned"]
    assert all(r["router_version"] == summary["version"] for r in rows)
    assert all(0.0 <= r["score"] <= 1.0 for r in rows)


def test_score_with_a_missing_model_warns_and_uses_the_default(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("hello there\n"))
    assert main(["score", "--router", "learned", "--model", str(tmp_path / "none.json")]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["router"] == "complexity"
    assert "learned router unusable" in captured.err


def test_train_router_refuses_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "main_correct": true}\n{"question": "q2", "main_correct": 1}\n')
    assert main(["train-router", "--pairs", str(bad), "--out", str(tmp_path / "m.json")]) == EXIT_BAD_INPUT
    assert "line 2" in capsys.readouterr().err
    few = write_pairs(tmp_path / "few.jsonl", 60)
    assert main(["train-router", "--pairs", str(few), "--out", str(tmp_path / "m.json")]) == EXIT_BAD_INPUT
    assert "too few labels" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_train_router_from_the_log_then_replay_and_optimize(simulated_log, tmp_path, capsys):
    out = tmp_path / "router.json"
    summary = run_json(capsys, "train-router", "--out", str(out))
    assert summary["size"] == 300
    assert set(summary["label_sources"]) <= {"comparison", "response:truth", "response:quality"}

    replay = run_json(capsys, "replay")
    assert replay["events"] == 300 and replay["boundary"] is None
    assert replay["main_share"] == replay["logged_main_share"]
    assert replay["quality"]["value"] == pytest.approx(replay["logged_quality"], abs=1e-6)
    learned = run_json(capsys, "replay", "--router", "learned", "--model", str(out), "--boundary", "0.5")
    assert learned["router"] == "learned" and learned["router_version"] == summary["version"]
    assert set(learned["curves"]) == {"learned", "complexity", "length"}

    optimized = run_json(capsys, "optimize", "--target-main-share", "0.3")
    assert optimized["goal"].startswith("main share") and optimized["replay"]["main_share"] is not None
    assert main(["optimize", "--target-main-share", "0.3"]) == 0
    assert "boundary" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:  # argparse: the two are mutually exclusive
        main(["replay", "--boundary", "0.4", "--target-main-share", "0.3"])
    assert exited.value.code == EXIT_BAD_INPUT


def test_stress_test_reports_flips_and_a_bounded_load(capsys):
    result = run_json(capsys, "stress-test", "--n", "30", "--concurrency", "2")
    assert set(result["stability"]) == {"complexity", "length"}
    for rates in result["stability"].values():
        assert set(rates) == {*result["perturbations"], "any"}
        assert all(0.0 <= v <= 1.0 for v in rates.values())
        assert rates["lowercase"] == 0.0  # no router here reads case
    load = result["load"]
    assert load["completed"] == load["requests"] == 30 and load["errors"] == {}
    assert load["p50_ms"] <= load["p99_ms"]
    # In-process stress answers are not recorded.
    assert not get_settings().paths.log.exists() or get_settings().paths.log.stat().st_size == 0
    assert main(["stress-test", "--url", "http://192.0.2.1:8000", "--no-load"]) == EXIT_BAD_INPUT
    assert "loopback" in capsys.readouterr().err
    assert main(["stress-test", "--n", "0"]) == EXIT_BAD_INPUT


def test_http_routes_return_the_cli_json(simulated_log, capsys):
    cli_replay = run_json(capsys, "replay", "--boundary", "0.55")
    with TestClient(create_app(build_settings()), raise_server_exceptions=False) as client:
        replay = client.post("/replay", json={"boundary": 0.55})
        assert replay.status_code == 200, replay.text
        assert replay.json() == cli_replay
        optimize = client.post("/optimize", json={"target_main_share": 0.4})
        assert optimize.status_code == 200 and optimize.json()["replay"]["main_share"] is not None
        refused = client.post("/stress-test", json={"url": "http://10.0.0.1:8000", "load": False})
        assert refused.status_code in (400, 422)
        assert refused.json()["error"]["code"]
        both = client.post("/optimize", json={})
        assert both.status_code in (400, 422) and "goal" in both.json()["error"]["message"]
        stress = client.post("/stress-test", json={"n": 10, "load": False})
        assert stress.status_code == 200 and stress.json()["load"] is None
