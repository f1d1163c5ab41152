"""Shadow comparisons: a sampled share of answers is also asked of the other model after the served
answer; each is one `comparison` event naming the served message, and its label feeds the controller."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.api import ask, clear_engines, run_shadow
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState, Observation, step
from engine.settings import get_settings, reset_settings

REPO_ROOT = Path(__file__).resolve().parents[3]


def simulate(data_dir: Path, n: int, rate: str) -> list[dict]:
    env = {**os.environ, "AIOS_DATA_DIR": str(data_dir), "AIOS_PROVIDER": "sim", "AIOS_SHADOW_RATE": rate}
    done = subprocess.run([sys.executable, "-m", "engine", "simulate", "--n", str(n), "--json"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    log = data_dir / "analytics" / "hypotheses.ndjson"
    return [json.loads(line) for line in log.read_bytes().decode().split("\n") if line]


def test_a_fifth_of_answers_get_a_comparison_naming_the_served_answer(tmp_path):
    events = simulate(tmp_path, 1000, "0.2")
    responses = {e["message_id"]: e for e in events if e["event_type"] == "response"}
    comparisons = [e for e in events if e["event_type"] == "comparison"]
    # 20 % of 1,000: binomial sd 12.6, so 4 sd either side (an honest test that fails 1 in 15,000).
    assert abs(len(comparisons) - 200) <= 4 * math.sqrt(1000 * 0.2 * 0.8), len(comparisons)
    for comparison in comparisons:
        served = responses[comparison["message_id"]]
        assert comparison["served_route"] == served["route"] != comparison["shadow_route"]
        assert comparison["sampling_probability"] == 0.2 and comparison["simulated"] is True
        assert 0.0 <= comparison["agreement"] <= 1.0 and comparison["shadow_error_code"] is None
    # Agreement tracks the simulator's ground truth: when both are right they agree.
    both_right = [c for c in comparisons if c["served_sim_correct"] and c["shadow_sim_correct"]]
    assert both_right and sum(c["agreement"] == 1.0 for c in both_right) / len(both_right) > 0.95
    one_wrong = [c for c in comparisons if c["served_sim_correct"] is not None and c["shadow_sim_correct"] is not None
                 and c["served_sim_correct"] != c["shadow_sim_correct"]]
    # Partial agreement of short spans (token overlap) keeps this above 0: 0.07-0.17 in six runs here.
    assert one_wrong and sum(c["agreement"] for c in one_wrong) / len(one_wrong) < 0.35


def test_rate_zero_makes_no_comparison(tmp_path):
    events = simulate(tmp_path, 200, "0")
    assert sum(e["event_type"] == "response" for e in events) == 200
    assert not [e for e in events if e["event_type"] == "comparison"]


@pytest.fixture
def sim_env(tmp_path, monkeypatch):
    monkeypatch.setenv("AIOS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AIOS_PROVIDER", "sim")
    monkeypatch.setenv("AIOS_SHADOW_RATE", "1")
    reset_settings()
    clear_engines()
    yield tmp_path
    clear_engines()
    reset_settings()


def test_deferred_shadow_runs_after_the_answer_and_never_changes_it(sim_env):
    settings = get_settings()
    result = ask("What is 12 times 7?", settings=settings, shadow="defer")
    log = settings.paths.log
    before = [json.loads(line) for line in log.read_text().splitlines()]
    assert result.shadow is not None and not [e for e in before if e["event_type"] == "comparison"]
    comparison = run_shadow(result, settings)
    after = [json.loads(line) for line in log.read_text().splitlines()]
    logged = [e for e in after if e["event_type"] == "comparison"]
    assert len(logged) == 1 and logged[0]["message_id"] == result.message_id == comparison.message_id
    assert [e for e in after if e["event_type"] == "response"] == [e for e in before if e["event_type"] == "response"]


def test_a_failed_shadow_call_is_logged_with_its_code_and_no_agreement(sim_env, monkeypatch):
    from tests.support.fake_openai import closed_port

    port = closed_port()
    monkeypatch.setenv("AIOS_PROVIDER", "openai")
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("AIOS_MAX_RETRIES", "0")
    reset_settings()
    clear_engines()
    settings = get_settings()
    result = ask("hello there", settings=settings, shadow="defer")
    assert result.error_code == "PROVIDER_UNREACHABLE" and result.shadow is None  # failed answers are not compared


def test_labels_near_the_boundary_move_it_and_say_so():
    config = AdaptiveConfig()
    state = AdaptiveState.fresh("seed", config)
    for _ in range(config.min_label_samples + 10):  # the embedder agrees with main near the boundary
        state, _ = step(state, Observation("control", "main", 0.52, 0.0, 0.0, agreement=1.0))
    assert state.buckets["control"].sample_count == 0  # labels are not answers
    moves = []
    for i in range(60):
        state, adaptation = step(state, Observation("treatment", "main" if i % 2 else "embedder", 0.51 + (i % 3) * 0.01,
                                                    0.9, 1000.0))
        if adaptation is not None:
            moves.append(adaptation)
    assert moves and moves[0].evidence == "labels" and moves[0].new_boundary > moves[0].old_boundary
    assert "shadow comparisons" in moves[0].reason
