"""engine.analysis.figures: the incremental store (both ingestion paths agree, only new bytes are read,
rotation and torn lines handled) and the figures under filters."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pandas as pd
import pytest

from engine.analysis import figures as analytics
from engine.analysis.figures import EventStore, Filters
from engine.errors import InputError
from engine.provenance import EventSink, read_events, rotate_log
from tests.dashboard.fixture_log import write_fixture_log

ODD = [b"not json at all\n", b"[1, 2]\n", b"{}\n", b'{"event_type": "response", "bucket": "control", '
       b'"route": "main", "source": "m", "quality": "very good", "latency_ms": 5, "ts": "yesterday"}\n']


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "hypotheses.ndjson"
    write_fixture_log(path, n=80)
    with open(path, "ab") as handle:
        handle.writelines(ODD)
    write_fixture_log(path, n=20, first=80)
    return path


def figures(store: EventStore, filters: Filters = Filters()) -> dict:
    return {
        "headline": store and analytics.compute_headline(store, filters).as_dict(),
        "split": analytics.compute_bucket_split(store, filters),
        "sources": analytics.compute_routing_sources(store, filters),
        "quality": analytics.compute_quality_by_bucket_route(store, filters),
        "boundary": analytics.compute_boundary_over_time(store, filters),
        "adaptations": analytics.compute_adaptations(store, filters),
        "hypotheses": analytics.compute_hypothesis_pass_rates(store, filters),
    }


def assert_same(a: dict, b: dict) -> None:
    for key in a:
        if isinstance(a[key], pd.DataFrame):
            pd.testing.assert_frame_equal(a[key], b[key], check_dtype=False)
        else:
            assert a[key] == pytest.approx(b[key]), key


def test_duckdb_and_python_ingestion_agree(log):
    python = EventStore(log, bulk_threshold=1 << 40)
    bulk = EventStore(log, bulk_threshold=1)
    assert python.refresh().method == "python" and bulk.refresh().method == "duckdb"
    assert_same(figures(python), figures(bulk))
    for store in (python, bulk):
        # Garbage, a JSON array and an empty object are unreadable; the line with odd values
        # is kept, its bad fields NULL.
        assert store.counters.skipped_lines == 3
        assert store.counters.events == 100 * 2 + 3 + 1
    assert read_events(log).skipped == 2  # the engine's reader also counts `{}` as an event


def test_figures_match_a_direct_computation(log):
    store = EventStore(log)
    store.refresh()
    events = [e for e in read_events(log).events if e["event_type"] == "response" and e.get("question")]
    head = analytics.compute_headline(store, Filters())
    assert head.events == len(events) + 1  # plus the odd line, which has no question
    frame = pd.DataFrame(events)
    answered = frame["error_code"].isna() & (frame["source"] != "unknown")
    odd_quality = 0  # "very good" is no number: NULL, so it does not pass
    assert head.pass_rate == pytest.approx(((answered & (frame["quality"] >= analytics.PASS_QUALITY)).sum()
                                            + odd_quality) / (len(frame) + 1))
    assert head.mean_quality == pytest.approx(frame["quality"].mean())
    treatment = analytics.compute_bucket_split(store, Filters(bucket="treatment"))
    assert list(treatment["events"]) == [(frame["bucket"] == "treatment").sum()]


def test_refresh_reads_only_appended_bytes_and_finishes_torn_lines(log):
    store = EventStore(log)
    first = store.refresh()
    assert first.bytes_read == log.stat().st_size and store.offset == log.stat().st_size
    assert store.refresh().bytes_read == 0

    line = json.dumps({"event_type": "response", "bucket": "control", "route": "main", "source": "m",
                       "quality": 0.9, "latency_ms": 10.0, "ts": "2026-11-25T15:00:00.000Z"}).encode()
    with open(log, "ab") as handle:
        handle.write(line[:20])  # a writer in the middle of its line
    torn = store.refresh()
    assert torn.events_added == 0 and store.counters.truncated_tail
    with open(log, "ab") as handle:
        handle.write(line[20:] + b"\n")
    done = store.refresh()
    assert done.events_added == 1 and done.skipped == 0 and not store.counters.truncated_tail
    assert store.offset == log.stat().st_size
    assert analytics.compute_headline(store, Filters()).events == 102


def test_rotation_and_deletion_start_over(log):
    store = EventStore(log)
    store.refresh()
    rotate_log(log)
    with EventSink(log) as sink:
        sink.append({"event_type": "response", "bucket": "treatment", "route": "embedder", "source": "s",
                     "quality": 0.5, "latency_ms": 3.0})
    stats = store.refresh()
    assert stats.restarted and store.counters.restarts == 1
    assert analytics.compute_headline(store, Filters()).events == 1
    os.unlink(log)
    assert store.refresh().restarted
    assert analytics.compute_headline(store, Filters()).events == 0


def test_missing_log_is_empty_not_an_error(tmp_path):
    store = EventStore(tmp_path / "absent.ndjson")
    assert store.refresh().bytes_read == 0
    head = analytics.compute_headline(store, Filters())
    assert head.events == 0 and head.pass_rate is None and head.trend.empty
    assert analytics.compute_bucket_split(store, Filters()).empty
    assert analytics.load_event_page(tmp_path / "absent.ndjson", Filters()).total == 0


def test_time_window_filters(log):
    store = EventStore(log)
    store.refresh()
    # Fixture responses are 30 s apart from 12:00 to 12:49:30; 15 minutes before 12:50 hold 30.
    now = datetime(2026, 11, 25, 12, 50, tzinfo=timezone.utc)
    window = analytics.compute_filters("Last 15 minutes", now=now)
    assert analytics.compute_headline(store, window).events == 30
    with pytest.raises(InputError, match="time window"):
        analytics.compute_filters("Last century")


def test_event_page_search_sort_and_bad_input(log):
    page = analytics.load_event_page(log, Filters(), search="kettle", sort_by="quality", descending=False,
                                     page=1, page_size=4)
    assert page.total == 10 and page.pages == 3 and len(page.rows) == 4
    assert list(page.rows["quality"]) == sorted(page.rows["quality"])
    assert analytics.load_event_page(log, Filters(), search="50%_").total == 0  # wildcards are literal
    last = analytics.load_event_page(log, Filters(), page=99, page_size=30)
    assert (last.page, last.pages, len(last.rows), last.total) == (4, 4, 10, 100)
    with pytest.raises(InputError, match="sort column"):
        analytics.load_event_page(log, Filters(), sort_by="question; DROP")
    with pytest.raises(InputError, match="page size"):
        analytics.load_event_page(log, Filters(), page_size=0)
    whole = analytics.load_message_events(log, "m00003")
    assert [e["event_type"] for e in whole] == ["response", "hypothesis"]


def test_bulk_read_falls_back_to_parsing_when_the_lock_cannot_be_taken(log, tmp_path, monkeypatch):
    # A lock file under a path that is a plain file cannot be created, as in a read-only folder.
    blocked = tmp_path / "blocked"
    blocked.write_text("")

    class Unlockable(analytics.LogLock):
        def __init__(self, path):
            super().__init__(path)
            self.path = blocked / "hypotheses.ndjson.lock"

    monkeypatch.setattr(analytics, "LogLock", Unlockable)
    store = EventStore(log, bulk_threshold=1)
    stats = store.refresh()
    assert stats.method == "python"
    assert store.counters.events == 204 and store.counters.skipped_lines == 3


def test_scatter_sample_is_bounded_and_reproducible(log):
    store = EventStore(log)
    store.refresh()
    everything = analytics.compute_complexity_quality(store, Filters())
    assert len(everything) == 100  # the odd line has no complexity
    sample = analytics.compute_complexity_quality(store, Filters(), limit=10)
    assert len(sample) == 10
    pd.testing.assert_frame_equal(sample, analytics.compute_complexity_quality(store, Filters(), limit=10))
