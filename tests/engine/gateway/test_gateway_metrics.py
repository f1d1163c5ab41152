"""GET /metrics: the runbook's series names exactly, `promtool check metrics` clean, values that
follow the traffic, and the same totals from every worker (they are computed from shared files)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from engine.gateway.metrics import BANDIT_SERIES, LOOP_SERIES, compute_pass_ratio
from engine.settings import build_settings

RUNBOOK_SERIES = [
    "neopr_bandit_selected_total", "neopr_bandit_feedback_total", "neopr_bandit_reward_sum",
    "neopr_bandit_reward_count", "neopr_bandit_epsilon", "neopr_bandit_selection_latency_seconds",
    "neopr_bandit_feedback_latency_seconds",
]
CODING = {"assistant": "chatgpt", "category": "coding"}


def families(text: str) -> dict[str, str]:
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels}")


def traffic(client) -> None:
    client.post("/bandit_config", json={"epsilon": 0.3})
    for _ in range(20):
        pick = client.post("/choose", json=CODING).json()
        client.post("/feedback", json={**CODING, "recipe_id": pick["recipe_id"], "reward": 0.5})
    for i in range(6):
        client.post("/v1/chat/completions", json={"model": "router", "user": f"user-{i}", "messages": [
            {"role": "user", "content": f"Question number {i}: compare quicksort and mergesort in depth."}]})


def test_metrics_hold_every_runbook_series_and_follow_traffic(make_client, monkeypatch, data_dir):
    monkeypatch.setenv("BANDIT_ENABLED", "1")
    client = make_client()
    traffic(client)
    goldens = data_dir / "goldens"
    goldens.mkdir()
    (goldens / "last_report.json").write_text(json.dumps({"pass_rate": 0.9, "summary": {"passed": 9, "total": 10}}))
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    types = families(text)
    assert types["neopr_bandit_selected_total"] == "counter" and types["neopr_bandit_feedback_total"] == "counter"
    assert types["neopr_bandit_reward_sum"] == types["neopr_bandit_reward_count"] == "untyped"
    assert types["neopr_bandit_selection_latency_seconds"] == "histogram"
    assert types["neopr_bandit_feedback_latency_seconds"] == "histogram"
    assert types["neopr_bandit_epsilon"] == "gauge"
    for name in RUNBOOK_SERIES:
        assert re.search(rf"^{name}(_bucket|_count|_sum)?[{{ ]", text, re.M), name
    assert set(RUNBOOK_SERIES) == set(BANDIT_SERIES)
    for name in LOOP_SERIES:
        assert name in types, name

    assert sample(text, "neopr_bandit_epsilon") == 0.3
    selected = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("neopr_bandit_selected_total{") and 'category="coding"' in line]
    assert sum(selected) == 20
    assert re.search(r'neopr_bandit_selected_total\{assistant="chatgpt",category="coding",explored="(true|false)",'
                     r'policy="epsilon_greedy",recipe_id="chatgpt\.coding\.\w+"\}', text)
    assert sample(text, "neopr_bandit_selection_latency_seconds_count") == 26  # 20 /choose + 6 chats
    assert sample(text, "neopr_bandit_feedback_latency_seconds_count") == 20
    answers = sum(sample(text, "aios_answers_total", bucket=b, route=r)
                  for b in ("control", "treatment") for r in ("main", "embedder"))
    assert answers == 6
    assert sum(sample(text, "aios_answer_latency_seconds_count", route=r) for r in ("main", "embedder")) == 6
    assert sample(text, "aios_routing_boundary", bucket="control") == 0.5
    assert sample(text, "aios_golden_pass_ratio") == 0.9


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (apt-get install prometheus)")
def test_promtool_accepts_the_exposition(make_client, monkeypatch):
    monkeypatch.setenv("BANDIT_ENABLED", "1")
    client = make_client()
    traffic(client)
    text = client.get("/metrics").text
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and check.stdout.strip() == "" and check.stderr.strip() == "", \
        check.stdout + check.stderr


def test_every_worker_reports_the_same_totals(make_client, monkeypatch):
    """Two app instances (two workers) on one data dir: traffic through one shows in the other."""
    monkeypatch.setenv("BANDIT_ENABLED", "1")
    worker_a, worker_b = make_client(), make_client()
    traffic(worker_a)
    for _ in range(5):
        worker_b.post("/choose", json=CODING)
    a, b = worker_a.get("/metrics").text, worker_b.get("/metrics").text
    strip = lambda text: [line for line in text.splitlines() if "unreadable" not in line]  # noqa: E731
    assert strip(a) == strip(b)
    assert sample(a, "neopr_bandit_selection_latency_seconds_count") == 31


@pytest.mark.parametrize("report, expected", [
    ({"pass_rate": 1.0}, 1.0), ({"pass_rate": 95}, 0.95), ({"summary": {"passed": 3, "total": 4}}, 0.75),
    ({"results": [{"passed": True}, {"passed": False}]}, 0.5), ({}, None), ([], None)])
def test_pass_ratio_from_golden_reports(report, expected):
    assert compute_pass_ratio(report) == expected


def test_metrics_served_with_the_bandit_disabled(make_client):
    client = make_client()
    client.post("/v1/chat/completions", json={"model": "router", "messages": [{"role": "user", "content": "hi"}]})
    text = client.get("/metrics").text
    assert sample(text, "neopr_bandit_selected_total", policy="fixed", explored="false",
                  recipe_id="chatgpt.general.baseline") == 1
    assert build_settings().bandit_enabled is False
