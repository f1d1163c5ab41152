"""Routing page, replay section: the curve of each router on the current log equals the engine's
replay, the boundaries in use are marked, and the train button trains the learned router from the
log (or says why it cannot)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.analysis import EventStore, Filters, compute_current_boundaries
from engine.analysis.replay import compute_logged, compute_replay_view, load_log_events, load_logged
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


def odd_lines(log: Path) -> None:
    """Lines a replay must read as the engine's JSON reader does: an answer the caller forced to a
    route, a golden answer, a legacy line without event_type, a zero boundary, an unknown router, a
    comparison without agreement for a real answer, and a line that is no JSON."""
    first = next(e for e in load_log_events(log) if e["event_type"] == "response")
    base = {k: first[k] for k in ("question", "trait", "complexity", "quality", "route", "bucket")}
    lines = [
        {**base, "event_type": "response", "message_id": "forced", "route_forced": True},
        {**base, "event_type": "response", "message_id": "golden", "origin": "golden"},
        {**base, "message_id": "legacy", "boundary": 0, "router": "", "route_probability": 0.85},
        {**base, "event_type": "response", "message_id": "odd-router", "router": "random", "error_code": "X",
         "sim_correct": True},
        {"event_type": "comparison", "message_id": first["message_id"], "served_route": "main",
         "shadow_route": "embedder", "agreement": None},
    ]
    with open(log, "a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(line) + "\n" for line in lines)
        handle.write("not json\n")


def test_the_pages_replay_reads_the_log_as_the_engines_reader_does(data_dir, monkeypatch):
    """The Routing page reads the replay's fields with one DuckDB scan (a 1M-event log in seconds, not
    a dict per event): every answer, score, chance, outcome and comparison equals the JSON reader's."""
    monkeypatch.setenv("AIOS_EXPLORE_RATE", "0.15")
    monkeypatch.setenv("AIOS_SHADOW_RATE", "0.2")
    reset_settings()
    log = get_settings().paths.log
    simulate(240, seed=5, settings=get_settings())
    odd_lines(log)
    expected, fast = compute_logged(load_log_events(log)), load_logged(log)
    assert len(fast.questions) == 240 + 2 and fast.explore_rate == pytest.approx(0.15)
    assert sum(b is not None for b in fast.both) > 10
    for name in ("questions", "traits", "routers", "versions", "both", "explore_rate"):
        assert getattr(fast, name) == getattr(expected, name), name
    for name in ("scores", "boundaries", "main", "probability", "quality", "outcome"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(expected, name), err_msg=name)
    # And the page draws the engine's curves for that log.
    at = open_page("routing")
    figure = chart(at, TITLE)
    with EventStore(log) as store:
        boundaries = compute_current_boundaries(store, Filters())
    view = compute_replay_view(load_log_events(log), boundaries)
    expected_length = [p["quality"] for p in view["curves"] if p["router"] == "length"]
    np.testing.assert_allclose(values(trace(figure, "length").y), expected_length)


def test_an_empty_or_missing_log_replays_nothing(tmp_path):
    assert load_logged(tmp_path / "missing.ndjson").questions == []
    (tmp_path / "empty.ndjson").write_text("")
    assert load_logged(tmp_path / "empty.ndjson").questions == []


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
