"""Routing page, replay section: the curve of each router on the current log equals the engine's
replay, the boundaries in use are marked, and the train button trains the learned router from the
log (or says why it cannot)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.analysis import EventStore, Filters, compute_current_boundaries
from engine.analysis.replay import compute_replay_view, load_log_events
from engine.api import simulate
from engine.settings import get_settings, reset_settings
from tests.dashboard.conftest import chart, open_page, texts, trace, values

TITLE = "Replay: quality against main share, per router, on the logged traffic"


def test_replay_curves_equal_the_engine(fixture_log):
    at = open_page("routing")
    figure = chart(at, TITLE)
    with EventStore(fixture_log) as store:
        boundaries = compute_current_boundaries(store, Filters())
    view = compute_replay_view(load_log_events(fixture_log), boundaries)
    for router in ("complexity", "length"):
        expected = [p for p in view["curves"] if p["router"] == router]
        np.testing.assert_allclose(values(trace(figure, router).y), [p["quality"] for p in expected])
        np.testing.assert_allclose(values(trace(figure, router).x), [p["main_share"] for p in expected])
    for mark in view["marks"]:
        point = trace(figure, f"{mark['bucket']} boundary in use")
        assert values(point.x)[0] == pytest.approx(mark["main_share"])


def test_train_button_with_too_few_labels_says_so(fixture_log):
    at = open_page("routing")
    at.button(key="train_learned_router").click().run()
    assert not at.exception, at.exception
    assert "too few labels" in texts(at)


def test_train_button_trains_the_learned_router_and_shows_its_estimate(data_dir, monkeypatch):
    monkeypatch.setenv("AIOS_EXPLORE_RATE", "0.2")
    reset_settings()
    simulate(320, seed=4, settings=get_settings())
    at = open_page("routing")
    at.button(key="train_learned_router").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "trained on 320 questions" in shown and "Held out" in shown
    model = data_dir / "analytics" / "learned_router.json"
    assert json.loads(model.read_text())["format"] == "aios-learned-router"
    # The next run draws the learned router's curve beside the baselines.
    at.run()
    assert {t.name for t in chart(at, TITLE).data} >= {"complexity", "length", "learned"}
