"""Live monitoring: an event appended while a page is open shows on the next run, and the
refresh reads only the appended bytes."""

from __future__ import annotations

import random

from dashboard import services
from engine.provenance import EventSink
from tests.dashboard.conftest import metrics, open_page, tables
from tests.dashboard.fixture_log import response


def test_appended_event_shows_up_and_only_new_bytes_are_read(fixture_log):
    at = open_page()
    assert metrics(at)["Answers"] == "120"
    store = services.shared_store(str(fixture_log))
    size_before = fixture_log.stat().st_size
    read_before = store.counters.bytes_read_total
    assert read_before == size_before

    event = response(500, random.Random(1))
    with EventSink(fixture_log) as sink:
        sink.append(event)
    appended = fixture_log.stat().st_size - size_before

    at.run()  # what the 10 s fragment tick does in a browser
    assert not at.exception
    assert metrics(at)["Answers"] == "121"
    assert store.counters.bytes_read_total - read_before == appended
    assert store.counters.restarts == 0


def test_drilldown_shows_an_appended_event_first(fixture_log):
    at = open_page("drilldown")
    event = response(900, random.Random(2))
    event.ts = "2026-11-26T00:00:00.000Z"
    with EventSink(fixture_log) as sink:
        sink.append(event)
    at.run()
    assert tables(at)[0]["Message id"].iloc[0] == "m00900"


def test_auto_refresh_toggle_runs_the_live_part_in_a_timed_fragment(fixture_log):
    at = open_page()
    assert services.AUTO_REFRESH_SECONDS == 10
    at.toggle(key="auto_refresh").set_value(True).run()
    assert not at.exception
    assert at.session_state["auto_refresh"] is True
    assert metrics(at)["Answers"] == "120"


def test_disable_cache_reads_the_whole_log_again(fixture_log):
    at = open_page()
    at.toggle(key="disable_cache").set_value(True).run()
    assert not at.exception
    uncached = at.session_state["_uncached_store"]
    assert uncached is not services.shared_store(str(fixture_log))
    # One whole-log read per run, shared by every figure of that run.
    assert uncached.counters.bytes_read_total == fixture_log.stat().st_size
    assert uncached.counters.refreshes > 1
    at.run()
    assert at.session_state["_uncached_store"] is not uncached
    assert metrics(at)["Answers"] == "120"
