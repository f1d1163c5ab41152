"""engine.analysis.store: the incremental store (both ingestion paths agree, only new bytes are read,
rotation, torn lines and gzip archives handled) and the one scan of the log, typed by the schema."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from engine.analysis import store as store_module
from engine.analysis.store import EventStore, Filters, scan_log
from engine.errors import InputError
from engine.provenance import EventSink, read_events, rotate_log
from tests.engine.analysis.helpers import assert_same_figures, compute_all


def test_duckdb_and_python_ingestion_agree(log):
    python = EventStore(log, bulk_threshold=1 << 40)
    bulk = EventStore(log, bulk_threshold=1)
    assert python.refresh().method == "python" and bulk.refresh().method == "duckdb"
    assert_same_figures(compute_all(python), compute_all(bulk))
    for store in (python, bulk):
        # Garbage, a JSON array and an empty object are unreadable; the line with odd values
        # is kept, its bad fields NULL.
        assert store.counters.skipped_lines == 3
        assert store.counters.events == 100 * 2 + 3 + 1
    assert read_events(log).skipped == 2  # the engine's reader also counts `{}` as an event
    columns = ["ts", "event_type", "message_id", "session_id", "bucket", "quality", "source_kind", "error"]
    query = f"SELECT {', '.join(columns)} FROM events ORDER BY ts NULLS LAST, message_id, event_type, quality"
    assert python.rows(query) == bulk.rows(query)
    sessions = python.rows("SELECT count(DISTINCT session_id) FROM events WHERE event_type = 'response'")[0][0]
    assert sessions == 100 // 3 + 1  # three answers per session in the fixture log


def test_refresh_reads_only_appended_bytes_and_finishes_torn_lines(log):
    from engine.analysis.figures import compute_headline

    store = EventStore(log)
    first = store.refresh()
    assert first.bytes_read == log.stat().st_size and store.offset == log.stat().st_size
    assert store.refresh().bytes_read == 0

    line = json.dumps({"event_type": "response", "bucket": "control", "route": "main", "source": "m",
                       "quality": 0.9, "latency_ms": 10.0, "ts": "2026-11-25T15:00:00.000Z"}).encode()
    with open(log, "ab") as handle:
        handle.write(line[:20])  # a writer in the middle of its line
    torn = store.refresh()
    assert torn.events_added == 0 and store.counters.truncated_tail and store.counters.unreadable == 4
    with open(log, "ab") as handle:
        handle.write(line[20:] + b"\n")
    done = store.refresh()
    assert done.events_added == 1 and done.skipped == 0 and not store.counters.truncated_tail
    assert store.offset == log.stat().st_size
    assert compute_headline(store, Filters()).events == 102


def test_rotation_and_deletion_start_over(log):
    from engine.analysis.figures import compute_headline

    store = EventStore(log)
    store.refresh()
    rotate_log(log)
    with EventSink(log) as sink:
        sink.append({"event_type": "response", "bucket": "treatment", "route": "embedder", "source": "s",
                     "quality": 0.5, "latency_ms": 3.0})
    stats = store.refresh()
    assert stats.restarted and store.counters.restarts == 1
    assert compute_headline(store, Filters()).events == 1
    os.unlink(log)
    assert store.refresh().restarted
    assert compute_headline(store, Filters()).events == 0


def test_missing_log_is_empty_not_an_error(tmp_path):
    from engine.analysis.figures import compute_bucket_split, compute_headline

    store = EventStore(tmp_path / "absent.ndjson")
    assert store.refresh().bytes_read == 0
    head = compute_headline(store, Filters())
    assert head.events == 0 and head.pass_rate is None and head.trend.empty
    assert compute_bucket_split(store, Filters()).empty


def test_a_gzip_archive_reads_like_the_live_log_and_again_only_when_replaced(log, tmp_path):
    archive = tmp_path / "hypotheses_20261125T000000Z.ndjson.gz"
    archive.write_bytes(gzip.compress(log.read_bytes()))
    live, packed = EventStore(log), EventStore(archive)
    live.refresh()
    first = packed.refresh()
    assert first.method == "duckdb" and first.events_added == live.counters.events
    assert packed.counters.skipped_lines == live.counters.skipped_lines == 3
    assert_same_figures(compute_all(live), compute_all(packed))
    assert packed.refresh().bytes_read == 0  # unchanged: not read again
    archive.write_bytes(gzip.compress(b"".join(log.read_bytes().splitlines(keepends=True)[:10])))
    again = packed.refresh()
    assert again.restarted and packed.counters.events < live.counters.events


def test_an_archive_that_is_no_gzip_is_an_input_error(tmp_path):
    broken = tmp_path / "hypotheses_20261125T000000Z.ndjson.gz"
    broken.write_bytes(b"not gzip at all\n")
    with EventStore(broken) as store, pytest.raises(InputError, match="cannot be read as an NDJSON log"):
        store.refresh()


def test_bulk_read_falls_back_to_parsing_when_the_lock_cannot_be_taken(log, tmp_path, monkeypatch):
    # A lock file under a path that is a plain file cannot be created, as in a read-only folder.
    blocked = tmp_path / "blocked"
    blocked.write_text("")

    class Unlockable(store_module.LogLock):
        def __init__(self, path):
            super().__init__(path)
            self.path = blocked / "hypotheses.ndjson.lock"

    monkeypatch.setattr(store_module, "LogLock", Unlockable)
    store = EventStore(log, bulk_threshold=1)
    stats = store.refresh()
    assert stats.method == "python"
    assert store.counters.events == 204 and store.counters.skipped_lines == 3


def test_the_scan_types_columns_by_the_schema_and_keeps_whole_lines(log):
    from engine.analysis.store import connect

    con = connect()
    try:
        typed = con.execute(f"SELECT typeof(ts), typeof(quality), typeof(passed), typeof(samples) "
                            f"FROM {scan_log(log, ['ts', 'quality', 'passed', 'samples'])} LIMIT 1").fetchall()
        whole = con.execute(f"SELECT json FROM {scan_log(log)} WHERE json IS NOT NULL LIMIT 1").fetchall()
    finally:
        con.close()
    assert typed == [("TIMESTAMP WITH TIME ZONE", "DOUBLE", "BOOLEAN", "VARCHAR")]
    assert json.loads(whole[0][0]) == read_events(log).events[0]
    with pytest.raises(KeyError):
        scan_log(log, ["no_such_field"])
