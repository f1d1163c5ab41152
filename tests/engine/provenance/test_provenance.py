"""The provenance log: concurrent appends stay whole, the reader skips and counts bad lines,
offsets return only new events, and rotation loses nothing, even with a writer running."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.provenance import EventSink, ResponseEvent, read_events, rotate_log, tail_events
from engine.provenance.events import SCHEMA_VERSION, ErrorEvent, parse_event
from engine.settings import REPO_ROOT

# Runs in a child process: waits for the go file so that writers start together, then appends
# one event per append() call (the worst case for interleaving) with ids "<writer>-<n>".
WRITER = """
import os, sys, time
from engine.provenance import EventSink
path, writer, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
deadline = time.monotonic() + 30
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.001)
pad = "x" * 200
with EventSink(path) as sink:
    for n in range(count):
        sink.append({"event_type": "response", "message_id": f"{writer}-{n}", "writer": writer,
                     "seq": n, "question": f"question {n} from {writer} " + pad})
"""


def start_writer(path: Path, writer: str, count: int, go: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), writer, str(count), str(go)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_ok(proc: subprocess.Popen, timeout: float = 120) -> None:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()


def ids_in(events: list[dict]) -> list[str]:
    return [e["message_id"] for e in events]


def read_archive(path: Path) -> list[dict]:
    with gzip.open(path, "rb") as handle:
        return [json.loads(line) for line in handle.read().splitlines() if line.strip()]


@pytest.mark.slow
def test_two_processes_appending_50000_events_each_lose_and_splice_nothing(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    go = tmp_path / "go"
    writers = [start_writer(log, name, 50_000, go) for name in ("a", "b")]
    go.touch()
    for proc in writers:
        wait_ok(proc)

    raw_lines = log.read_bytes().split(b"\n")
    assert raw_lines[-1] == b"" and len(raw_lines) - 1 == 100_000
    result = read_events(log)
    assert result.skipped == 0 and not result.truncated_tail
    assert len(result.events) == 100_000
    # Parsing is not enough: a spliced line can still be valid JSON with fields of two events.
    written = {f"{w}-{n}" for w in ("a", "b") for n in range(50_000)}
    assert set(ids_in(result.events)) == written
    for event in result.events:
        writer, seq = event["message_id"].split("-")
        assert event["writer"] == writer and event["seq"] == int(seq)
        assert event["question"].startswith(f"question {seq} from {writer} ")
        assert event["schema_version"] == SCHEMA_VERSION and event["ts"].endswith("Z")
    # Each writer's events keep their order, and the two writers really ran at the same time.
    for writer in ("a", "b"):
        seqs = [e["seq"] for e in result.events if e["writer"] == writer]
        assert seqs == sorted(seqs)
    switches = sum(1 for x, y in zip(result.events, result.events[1:]) if x["writer"] != y["writer"])
    assert switches > 1, "the writers did not overlap; the test proved nothing about interleaving"


def test_the_reader_skips_and_counts_garbage_and_leaves_a_truncated_tail(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    good = [{"event_type": "response", "message_id": f"m{i}", "quality": i / 10} for i in range(5)]
    lines = [json.dumps(good[0]), "this is not json", json.dumps(good[1]), '{"event_type": "resp',
             "[1, 2, 3]", "", json.dumps(good[2]), '"a string"', json.dumps(good[3]), json.dumps(good[4])]
    body = ("\n".join(lines) + "\n").encode() + b"\xff\xfe garbage bytes\n"
    log.write_bytes(body + b'{"event_type": "response", "message_id": "half-writ')

    result = read_events(log)

    assert ids_in(result.events) == ["m0", "m1", "m2", "m3", "m4"]
    assert result.skipped == 5
    assert result.skipped_lines == [2, 4, 5, 8, 11]
    assert result.truncated_tail and result.unreadable == 6
    # The partial last line is not consumed: once completed it is read from next_offset.
    assert result.next_offset == len(body)
    with open(log, "ab") as handle:
        handle.write(b'e"}\n')
    rest = read_events(log, result.next_offset, file_id=result.file_id)
    assert ids_in(rest.events) == ["half-write"] and rest.skipped == 0 and not rest.truncated_tail


def test_events_without_event_type_are_read_as_responses_and_can_be_filtered(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    log.write_text('{"message_id": "legacy", "route": "main"}\n'
                   '{"event_type": "adaptation", "message_id": "adapt"}\n')
    assert [e["event_type"] for e in read_events(log).events] == ["response", "adaptation"]
    assert ids_in(read_events(log, event_types={"response"}).events) == ["legacy"]


def test_reading_from_an_offset_returns_only_new_events(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    with EventSink(log) as sink:
        sink.append([{"event_type": "feedback", "message_id": f"old{i}", "reward": 1.0} for i in range(10)])
        first = read_events(log)
        assert len(first.events) == 10 and first.next_offset == log.stat().st_size
        sink.append([{"event_type": "feedback", "message_id": f"new{i}", "reward": 0.0} for i in range(3)])

    second = read_events(log, first.next_offset, file_id=first.file_id)
    assert ids_in(second.events) == ["new0", "new1", "new2"]
    assert not second.restarted and second.bytes_read < log.stat().st_size
    third = read_events(log, second.next_offset, file_id=second.file_id)
    assert third.events == [] and third.next_offset == second.next_offset


def test_an_offset_into_a_rotated_log_restarts_from_the_new_file(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    with EventSink(log) as sink:
        sink.append([{"event_type": "feedback", "message_id": f"a{i}", "reward": 1.0} for i in range(4)])
        before = read_events(log)
        rotate_log(log)
        sink.append({"event_type": "feedback", "message_id": "after", "reward": 1.0})

    after = read_events(log, before.next_offset, file_id=before.file_id)
    assert after.restarted and ids_in(after.events) == ["after"]
    missing = read_events(tmp_path / "absent.ndjson", 100)
    assert missing.events == [] and missing.restarted and missing.next_offset == 0


def test_tail_returns_the_last_events_by_seeking_from_the_end(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    with EventSink(log) as sink:
        sink.append([{"event_type": "feedback", "message_id": f"m{i}", "reward": 0.5} for i in range(2000)])
    result = tail_events(log, 7, chunk=4096)
    assert ids_in(result.events) == [f"m{i}" for i in range(1993, 2000)]
    assert result.bytes_read < log.stat().st_size and result.next_offset == log.stat().st_size


def test_typed_events_round_trip_through_the_sink(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    event = ResponseEvent(question="What is 2+2?", bucket="control", complexity=0.2, boundary=0.5,
                          route="embedder", source="unknown", provider="sim", simulated=True,
                          latency_ms=12.5, quality=0.0, error_code="PROVIDER_TIMEOUT", message_id="r1")
    with EventSink(log) as sink:
        assert sink.append([event, ErrorEvent(code="X", message="boom", message_id="e1")]) == 2
        assert sink.append([]) == 0
    events = read_events(log).events
    back = parse_event(events[0])
    assert isinstance(back, ResponseEvent) and back == event
    assert parse_event(events[1]).code == "X"
    with pytest.raises(ValueError):
        EventSink(log).append({"message_id": "no type"})


def test_rotation_while_another_process_appends_loses_no_event(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    go = tmp_path / "go"
    writer = start_writer(log, "w", 20_000, go)
    go.touch()
    archives = []
    while writer.poll() is None:
        time.sleep(0.05)
        result = rotate_log(log)
        if result.archive is not None:
            archives.append(result.archive)
    wait_ok(writer)
    final = rotate_log(log)
    if final.archive is not None:
        archives.append(final.archive)

    assert len(archives) >= 2, "no rotation happened while the writer was running"
    assert not list(tmp_path.glob("*.rotating")) and log.stat().st_size == 0
    seen: list[str] = []
    for archive in archives:
        seen += ids_in(read_archive(archive))
    assert len(seen) == 20_000 and set(seen) == {f"w-{n}" for n in range(20_000)}


def test_rotate_produces_a_dated_gzip_and_an_empty_log(tmp_path):
    from datetime import datetime, timezone

    log = tmp_path / "hypotheses.ndjson"
    with EventSink(log) as sink:
        sink.append([{"event_type": "feedback", "message_id": f"m{i}", "reward": 1.0} for i in range(25)])
    now = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    result = rotate_log(log, now=now)
    assert result.archive == tmp_path / "hypotheses_20260304T050607Z.ndjson.gz"
    assert result.lines == 25 and log.exists() and log.stat().st_size == 0
    assert ids_in(read_archive(result.archive)) == [f"m{i}" for i in range(25)]
    # Same second again: a second archive, not an overwrite.
    append_one = EventSink(log)
    append_one.append({"event_type": "feedback", "message_id": "later", "reward": 1.0})
    append_one.close()
    again = rotate_log(log, now=now)
    assert again.archive != result.archive and ids_in(read_archive(again.archive)) == ["later"]
    assert rotate_log(log).archive is None and "nothing to rotate" in rotate_log(log).message


def test_a_crash_leftover_rotating_file_is_finished_by_the_next_rotation(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    leftover = tmp_path / "hypotheses_20260101T000000Z.ndjson.rotating"
    leftover.write_text("".join(json.dumps({"event_type": "feedback", "message_id": f"old{i}",
                                            "reward": 1.0}) + "\n" for i in range(10)))
    # A half-written gzip from the crashed compression must not block or survive the retry.
    (tmp_path / "hypotheses_20260101T000000Z.ndjson.gz.tmp").write_bytes(b"\x1f\x8b partial")
    with EventSink(log) as sink:
        sink.append({"event_type": "feedback", "message_id": "current", "reward": 1.0})

    result = rotate_log(log)

    finished = tmp_path / "hypotheses_20260101T000000Z.ndjson.gz"
    assert not leftover.exists() and finished.exists()
    assert ids_in(read_archive(finished)) == [f"old{i}" for i in range(10)]
    assert ids_in(read_archive(result.archive)) == ["current"]
    assert not list(tmp_path.glob("*.tmp"))


def test_concurrent_rotations_with_a_leftover_lose_and_duplicate_nothing(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    log = tmp_path / "hypotheses.ndjson"
    leftover = tmp_path / "hypotheses_20260101T000000Z.ndjson.rotating"
    leftover.write_text("".join(json.dumps({"event_type": "feedback", "message_id": f"old{i}",
                                            "reward": 1.0}) + "\n" for i in range(5000)))
    with EventSink(log) as sink:
        sink.append([{"event_type": "feedback", "message_id": f"new{i}", "reward": 1.0} for i in range(5000)])
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: rotate_log(log), range(4)))

    assert sum(r.archive is not None for r in results) == 1
    seen = [i for archive in tmp_path.glob("*.gz") for i in ids_in(read_archive(archive))]
    assert sorted(seen) == sorted([f"old{i}" for i in range(5000)] + [f"new{i}" for i in range(5000)])
    assert not list(tmp_path.glob("*.rotating")) and not list(tmp_path.glob("*.tmp"))


def test_a_sink_reopens_the_log_after_rotation_by_another_handle(tmp_path):
    log = tmp_path / "hypotheses.ndjson"
    sink = EventSink(log)
    sink.append({"event_type": "feedback", "message_id": "before", "reward": 1.0})
    archive = rotate_log(log).archive
    log.unlink()  # even a deleted log is recreated rather than written into the void
    sink.append({"event_type": "feedback", "message_id": "after", "reward": 1.0})
    sink.close()
    assert ids_in(read_archive(archive)) == ["before"]
    assert ids_in(read_events(log).events) == ["after"]
