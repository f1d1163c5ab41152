"""The dashboard's actions change what they should: log events, adaptive state, log rotation."""

from __future__ import annotations

from engine.api import TRAITS
from engine.provenance import read_events
from tests.dashboard.conftest import metrics, open_page, texts


def responses(path):
    return [e for e in read_events(path).events if e["event_type"] == "response"]


def test_generate_demo_traffic_writes_events_and_state(log_path, data_dir):
    at = open_page()
    at.number_input(key="generate_demo_empty_n").set_value(40).run()
    at.button(key="generate_demo_empty").click().run()
    assert not at.exception
    logged = responses(log_path)
    assert len(logged) == 40
    assert {e["origin"] for e in logged} == {"simulate"} and all(e["simulated"] for e in logged)
    assert (data_dir / "analytics" / "adaptive_routing_state.json").exists()
    assert "Generated 40 demo questions" in texts(at)
    assert metrics(at)["Answers"] == "40"
    # The sidebar button adds more on top, with another seed.
    at.number_input(key="generate_demo_n").set_value(10).run()
    at.button(key="generate_demo").click().run()
    assert len(responses(log_path)) == 50
    assert metrics(at)["Answers"] == "50"


def test_ask_answers_and_logs_the_question(fixture_log):
    at = open_page()
    before = len(responses(fixture_log))
    at.text_area(key="ask_question").input("How do I merge two sorted lists in Python?")
    at.selectbox(key="ask_trait").select("technical")
    at.button(key="ask_button").click().run()
    assert not at.exception
    logged = responses(fixture_log)
    assert len(logged) == before + 1
    last = logged[-1]
    assert last["question"] == "How do I merge two sorted lists in Python?" and last["trait"] == "technical"
    shown = metrics(at)
    # The figures above the form are drawn again after the answer: the Answers card counts it.
    assert shown["Answers"] == f"{before + 1:,}"
    assert shown["Route"] == last["route"] and shown["Bucket"] == last["bucket"]
    assert shown["Quality"] == f"{last['quality']:.3f}"
    assert at.success[0].value == last["answer"]


def test_ask_rejects_an_empty_question(fixture_log):
    at = open_page()
    before = len(responses(fixture_log))
    at.button(key="ask_button").click().run()
    assert not at.exception
    assert at.error and len(responses(fixture_log)) == before


def test_reset_adaptive_state_needs_confirmation(fixture_log, data_dir):
    state = data_dir / "analytics" / "adaptive_routing_state.json"
    at = open_page()
    at.text_area(key="ask_question").input("What is the capital of France?")
    at.button(key="ask_button").click().run()
    assert state.exists()
    at.switch_page("app_pages/settings.py").run()
    assert at.button(key="reset_state").disabled
    at.checkbox(key="reset_confirm").check().run()
    at.button(key="reset_state").click().run()
    assert not at.exception
    assert not state.exists()
    assert "Adaptive state reset" in texts(at)


def test_rotate_log_moves_events_to_an_archive(fixture_log):
    at = open_page("settings")
    assert metrics(at)["Events in log"] == "244"
    at.button(key="rotate_log").click().run()
    assert not at.exception
    archives = list(fixture_log.parent.glob("hypotheses_*.ndjson.gz"))
    assert len(archives) == 1
    assert fixture_log.exists() and fixture_log.stat().st_size == 0
    assert "rotated 244 events" in texts(at)
    # The store saw the new file and started over.
    assert metrics(at)["Events in log"] == "0"


def test_ask_offers_the_traits_the_engine_knows(fixture_log):
    at = open_page()
    assert at.selectbox(key="ask_trait").options == list(TRAITS)
    assert at.selectbox(key="ask_trait").value == "general"
