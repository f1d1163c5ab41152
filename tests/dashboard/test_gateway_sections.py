"""The gateway's dashboard sections: the bandit's arms on Hypotheses (pulls, mean reward, explored
share against epsilon, the same numbers as the engine) and the gateway's address and health on
Settings, against a real gateway served on loopback."""

from __future__ import annotations

import random
import socket
import threading
import time

import pandas as pd
import pytest
import uvicorn

from dashboard.components.format import fmt_count, fmt_pct
from dashboard.components.tables import BANDIT_ARMS, format_table
from engine.api import clear_engines
from engine.gateway.app import create_app
from engine.prompts.bandit import Bandit, compute_arm_table, load_bandit_stats
from engine.prompts.store import RecipeStore
from engine.settings import build_settings, reset_settings
from tests.dashboard.conftest import chart, metrics, open_page, tables, texts, trace, values


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hypotheses_page_shows_the_bandit_arms_like_the_engine(fixture_log, monkeypatch):
    monkeypatch.setenv("BANDIT_ENABLED", "1")
    reset_settings()
    settings = build_settings()
    bandit = Bandit(settings, RecipeStore(settings), rng=random.Random(4))
    bandit.configure(epsilon=0.2)
    for _ in range(200):
        pick = bandit.choose("chatgpt", "coding")
        bandit.feedback("chatgpt", "coding", pick.recipe_id, 0.9 if pick.recipe_id.endswith("stepwise") else 0.2)
    stats = load_bandit_stats(settings)

    at = open_page("hypotheses")
    shown = metrics(at)
    assert shown["Bandit"] == "on"
    assert shown["Epsilon"] == "0.2"
    assert shown["Selections"] == fmt_count(200)
    assert shown["Explored share"] == fmt_pct(stats["totals"]["explored_share"])
    arms = next(t for t in tables(at) if "Recipe" in t.columns)
    expected = format_table(pd.DataFrame(compute_arm_table(stats)), BANDIT_ARMS)
    pd.testing.assert_frame_equal(arms.reset_index(drop=True), expected, check_dtype=False)
    assert "None" not in arms.to_string()
    figure = chart(at, "Pulls per recipe")
    pulls = pd.DataFrame(compute_arm_table(stats))["pulls"]
    assert values(trace(figure, "exploit").x).sum() + values(trace(figure, "explore").x).sum() == pulls.sum()


def test_hypotheses_page_without_selections_explains_where_they_come_from(fixture_log):
    at = open_page("hypotheses")
    assert metrics(at)["Bandit"] == "off"
    assert metrics(at)["Selections"] == "0"
    assert "POST /choose" in texts(at)


@pytest.fixture
def served_gateway(monkeypatch):
    """The real gateway app on a free loopback port, in a thread; AIOS_GATEWAY_URL points at it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(build_settings()), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    monkeypatch.setenv("AIOS_GATEWAY_URL", f"http://127.0.0.1:{port}")
    reset_settings()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    clear_engines()


def test_settings_page_shows_the_gateway_up(fixture_log, served_gateway):
    at = open_page("settings")
    shown = metrics(at)
    assert shown["Gateway"] == "up"
    assert f"Address (AIOS_GATEWAY_URL): `{served_gateway}`" in texts(at)
    assert f"{served_gateway}/docs" in texts(at)


def test_settings_page_shows_the_gateway_down(fixture_log, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AIOS_GATEWAY_URL", url)
    reset_settings()
    at = open_page("settings")
    assert metrics(at)["Gateway"] == "down"
    assert f"`{url}`" in texts(at)
    assert "python -m engine serve" in texts(at)


def test_no_net_mode_never_contacts_a_remote_gateway(fixture_log, monkeypatch):
    monkeypatch.setenv("AIOS_GATEWAY_URL", "http://gateway.example.com:8000")
    monkeypatch.setenv("NO_NET_MODE", "true")
    reset_settings()
    at = open_page("settings")
    assert metrics(at)["Gateway"] == "down"
    assert "NO_NET_MODE" in texts(at)
