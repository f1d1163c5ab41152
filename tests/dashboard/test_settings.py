"""Settings page: raw state, redacted settings, paths, kill switch and unreadable line count."""

from __future__ import annotations

import json

from dashboard.components.format import fmt_count
from dashboard.components.tables import EVENT_COUNTS, format_table
from engine.analysis import compute_event_counts
from engine.provenance import read_events
from engine.settings import reset_settings
from tests.dashboard.conftest import assert_same_frame, engine_store, metrics, open_page, tables, texts

SECRET = "hf_dashboardSecretValue123"


def test_settings_show_state_paths_and_counts(fixture_log, data_dir):
    state = {"version": 1, "buckets": {"control": {"boundary": 0.5, "sample_count": 60},
                                       "treatment": {"boundary": 0.46, "sample_count": 60}}}
    (data_dir / "analytics" / "adaptive_routing_state.json").write_text(json.dumps(state))
    at = open_page("settings")
    shown = metrics(at)
    assert shown["Events in log"] == fmt_count(engine_store(fixture_log).counters.events)
    assert shown["Unreadable log lines"] == "0"
    assert shown["Adaptive routing"] == "on"
    assert shown["Provider"] == "sim" and "SIMULATED" in texts(at)
    assert json.loads(at.json[0].value) == state
    assert_same_frame(tables(at)[0], format_table(compute_event_counts(engine_store(fixture_log)), EVENT_COUNTS))
    assert dict(zip(tables(at)[0]["Event type"], tables(at)[0]["Events"])) == {
        "response": "120", "hypothesis": "120", "adaptation": "4"}
    paths = at.table[0].value
    assert str(fixture_log) in set(paths.iloc[:, 0])


def test_settings_count_unreadable_lines_like_the_engine_reader(corrupt_log):
    at = open_page("settings")
    assert metrics(at)["Unreadable log lines"] == fmt_count(read_events(corrupt_log).unreadable) == "4"


def test_settings_redact_secrets_and_show_the_kill_switch(fixture_log, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    monkeypatch.setenv("AIOS_MAIN_ENDPOINT", f"http://user:{SECRET}x@localhost:1234/v1/chat/completions")
    monkeypatch.setenv("AIOS_ADAPTIVE_ENABLED", "0")
    reset_settings()
    at = open_page("settings")
    assert metrics(at)["Adaptive routing"] == "off"
    page = texts(at)
    assert SECRET not in page
    shown_settings = next(json.loads(j.value) for j in at.json if "HF_TOKEN" in json.loads(j.value))
    assert shown_settings["HF_TOKEN"] == "**********"
    assert shown_settings["AIOS_MAIN_ENDPOINT"] == "http://localhost:1234/v1/chat/completions"


def test_settings_report_an_unreadable_state_file(fixture_log, data_dir):
    (data_dir / "analytics" / "adaptive_routing_state.json").write_text("{not json")
    at = open_page("settings")
    assert "adaptive_routing_state.json: not valid JSON" in texts(at)


def test_settings_without_data(no_data_log):
    at = open_page("settings")
    assert at.button(key="generate_demo_empty")
    assert metrics(at)["Events in log"] == "0"
    assert metrics(at)["Unreadable log lines"] == ("3" if no_data_log == "corrupt_only" else "0")
