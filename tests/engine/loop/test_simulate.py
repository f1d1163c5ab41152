"""`simulate` and the loop's commands: the runbook's A/B figures on 1000 questions, the kill switch,
two processes on one data dir, and the CLI's output and exit codes."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.api import clear_engines, simulate
from engine.loop.simulate import session_plan
from engine.provenance.reader import read_events
from engine.providers.sim_world import generate_questions
from engine.settings import REPO_ROOT, reset_settings


@pytest.fixture(autouse=True)
def fresh_engines():
    clear_engines()
    yield
    clear_engines()


def log_events(data_dir: Path) -> list[dict]:
    result = read_events(data_dir / "analytics" / "hypotheses.ndjson")
    assert result.skipped == 0 and not result.truncated_tail
    return result.events


def state(data_dir: Path) -> dict:
    return json.loads((data_dir / "analytics" / "adaptive_routing_state.json").read_text())


def test_demo_traffic_is_deterministic_and_mixed() -> None:
    first = generate_questions(500, seed=3)
    assert first == generate_questions(500, seed=3) and first != generate_questions(500, seed=4)
    assert {q.category for q in first} >= {"fact", "howto", "code", "math", "analysis"}
    assert len({q.trait for q in first}) >= 4
    plan = session_plan(500, 3)
    assert plan == session_plan(500, 3) and 80 < len(set(plan)) < 250


def test_simulate_1000_meets_the_runbook_figures(data_dir: Path) -> None:
    summary = simulate(1000, seed=0)
    assert summary.n == 1000 and summary.simulated
    sessions = {name: b.sessions for name, b in summary.buckets.items()}
    for name in ("control", "treatment"):
        assert 0.45 <= sessions[name] / summary.sessions <= 0.55, sessions
        assert 0.0 < summary.buckets[name].main_share < 1.0
    events = log_events(data_dir)
    adaptations = [e for e in events if e["event_type"] == "adaptation"]
    assert adaptations and len(adaptations) == summary.adaptations
    assert all(abs(e["new_boundary"] - 0.5) <= 0.1 for e in adaptations)
    first = adaptations[0]
    assert first["bucket"] == "treatment" and first["old_boundary"] == 0.5 and first["reason"]
    assert first["quality_delta"] is not None and first["latency_delta_ms"] is not None
    assert first["samples"]["bucket"] >= 10 and first["samples"]["main_at_boundary"] >= 8
    s = state(data_dir)
    assert abs(s["buckets"]["treatment"]["boundary"] - s["buckets"]["control"]["boundary"]) <= 0.08
    assert s["buckets"]["control"]["boundary"] == 0.5
    responses = [e for e in events if e["event_type"] == "response"]
    assert len(responses) == 1000 and all(e["origin"] == "simulate" and e["simulated"] for e in responses)
    # The log alone tells the bucket of a session, and it never changes.
    by_session = collections.defaultdict(set)
    for e in responses:
        by_session[e["session_id"]].add(e["bucket"])
    assert all(len(b) == 1 for b in by_session.values())


def test_kill_switch_simulation_has_no_adaptation(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("AIOS_ADAPTIVE_ENABLED", "0")
    reset_settings()
    summary = simulate(400, seed=1)
    events = log_events(data_dir)
    assert summary.adaptations == 0 and not [e for e in events if e["event_type"] == "adaptation"]
    responses = [e for e in events if e["event_type"] == "response"]
    assert all(e["adaptive_enabled"] is False and e["boundary"] == 0.5 for e in responses)
    assert state(data_dir)["buckets"]["treatment"]["sample_count"] > 0


def run_cli(*args: str, stdin: str | None = None, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO_ROOT, input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def test_two_simulate_processes_on_one_data_dir(data_dir: Path) -> None:
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-m", "engine", "simulate", "--n", "150", "--seed", str(seed),
                               "--json", "--no-progress"], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    summaries = [json.loads(out) for out, _ in outputs]
    raw_lines = (data_dir / "analytics" / "hypotheses.ndjson").read_text().splitlines()
    parsed = [json.loads(line) for line in raw_lines]  # every line parses
    responses = [e for e in parsed if e["event_type"] == "response"]
    assert len(responses) == 300
    assert {e["run_id"] for e in responses} == {s["run_id"] for s in summaries}
    assert len({e["message_id"] for e in responses}) == 300
    s = state(data_dir)
    for bucket in ("control", "treatment"):
        assert s["buckets"][bucket]["sample_count"] == sum(e["bucket"] == bucket for e in responses)
    adaptations = [e for e in parsed if e["event_type"] == "adaptation"]
    assert len(adaptations) == s["buckets"]["treatment"]["adaptations"] == sum(x["adaptations"] for x in summaries)


def test_simulate_cli_prints_a_summary_and_a_progress_bar(data_dir: Path) -> None:
    out = run_cli("simulate", "--n", "30", "--seed", "5")
    assert out.returncode == 0, out.stderr
    assert "simulated 30 questions" in out.stdout and "control" in out.stdout and "treatment" in out.stdout
    assert "30/30" in out.stderr


def test_ask_cli_json(data_dir: Path) -> None:
    out = run_cli("ask", "How do I back up my laptop?", "--trait", "general", "--session", "cli-1", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["session_id"] == "cli-1" and result["simulated"] is True and result["answer"]


def test_ask_cli_unknown_trait_exits_2() -> None:
    out = run_cli("ask", "hi", "--trait", "pirate")
    assert out.returncode == 2


def test_score_cli_plain_and_jsonl_with_explain() -> None:
    stdin = 'What is the capital of France?\n\n{"question": "Why does my Rust code deadlock?", "trait": "technical"}\n'
    out = run_cli("score", "--explain", "--json", stdin=stdin)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["line"] for r in rows] == [1, 3]
    assert rows[0]["route"] == "embedder" and rows[0]["boundary"] == 0.5
    assert rows[1]["score"] > rows[0]["score"] and "features" in rows[1]["explain"]
    # Without --json a person gets a small table per question: decision first, then what each feature adds.
    table = run_cli("score", "--explain", stdin=stdin)
    assert table.returncode == 0, table.stderr
    assert "line 1: What is the capital of France?" in table.stdout and "-> embedder" in table.stdout
    assert "feature" in table.stdout and "length" in table.stdout and "{" not in table.stdout


def test_a_wrong_option_shows_the_commands_own_usage() -> None:
    out = run_cli("simulate", "--count", "5")
    assert out.returncode == 2
    assert "usage: python -m engine simulate" in out.stderr and "--count 5" in out.stderr


@pytest.mark.parametrize("stdin,needle", [("ok question\n{broken\n", "stdin line 2: not valid JSON"),
                                          ('{"text": "no question field"}\n', "stdin line 1: field question"),
                                          ('{"question": "q", "trait": "pirate"}\n', "stdin line 1: field trait")])
def test_score_cli_bad_line_exits_2_naming_the_line(stdin: str, needle: str) -> None:
    out = run_cli("score", stdin=stdin)
    assert out.returncode == 2 and needle in out.stderr


def test_score_cli_quality_mode() -> None:
    stdin = (json.dumps({"question": "What is the capital of France?", "answer": "Paris is the capital of France."})
             + "\n" + json.dumps({"question": "What is the capital of France?", "answer": ""}) + "\n")
    out = run_cli("score", "--quality", stdin=stdin)
    assert out.returncode == 0, out.stderr
    good, empty = (json.loads(line) for line in out.stdout.splitlines())
    assert good["quality"] > 0.9 and empty["quality"] == 0.0
    assert set(good["components"]) == {"empty_or_error", "refusal", "coverage", "length", "repetition", "hedging",
                                       "consistency", "answers_question", "grounding", "concision"}
    missing = run_cli("score", "--quality", stdin='{"question": "q"}\n')
    assert missing.returncode == 2 and "stdin line 1: field answer" in missing.stderr


def test_status_prints_the_adaptive_state_as_a_table(tmp_path) -> None:
    env = {"AIOS_DATA_DIR": str(tmp_path / "data"), "AIOS_PROVIDER": "sim"}
    done = run_cli("simulate", "--n", "40", "--no-progress", env_extra=env)
    assert done.returncode == 0, done.stderr
    out = run_cli("status", env_extra=env)
    lines = out.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if "bucket" in line and "boundary" in line)
    assert lines[header + 1].split()[0] == "control" and lines[header + 2].split()[0] == "treatment"
    assert "{" not in out.stdout  # no raw Python dicts
