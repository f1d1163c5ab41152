"""Issue 13, the files-and-state half: a full disk (4), hostile files where configuration is read
(5), oversized log lines (6), state written only after its events (9), a log path that is a
directory (10) and golden sets with numeric ids or too many cases (13). Numbers are the issue's items."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import EXIT_BAD_INPUT, EXIT_DISK_FULL, DiskFullError, InputError
from engine.provenance import EventSink, read_events
from engine.settings import REPO_ROOT, DataPaths

PY = sys.executable


def run_engine(*args: str, limit: int | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    """`python -m engine ARGS` in a child; with `limit`, files it writes cannot grow past `limit` bytes."""
    def cap() -> None:
        if limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **extra_env)
    return subprocess.run([PY, "-m", "engine", *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT,
                          timeout=60, preexec_fn=cap)


def log_path(data_dir: Path) -> Path:
    return DataPaths.under(data_dir).log


def every_line_parses(path: Path) -> list[dict]:
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", "the log must end with a newline"
    return [json.loads(line) for line in lines[:-1]]


# 4. Disk full --------------------------------------------------------------------------------------

class _FailingWrites:
    """os.write that lands `first` bytes of the next call, then fails like a full disk."""

    def __init__(self, first: int, error: int = errno.ENOSPC) -> None:
        self.first, self.error, self.calls = first, error, 0
        self.real = os.write

    def __call__(self, fd: int, data: bytes) -> int:
        self.calls += 1
        if self.calls == 1:
            return self.real(fd, bytes(data[:self.first]))
        raise OSError(self.error, os.strerror(self.error))


def test_4_failed_append_leaves_the_log_as_it_was_and_the_next_event_whole(tmp_path, monkeypatch):
    log = tmp_path / "events.ndjson"
    with EventSink(log) as sink:
        sink.append({"event_type": "feedback", "message_id": "before"})
        before = log.read_bytes()
        monkeypatch.setattr("engine.provenance.sink.os.write", _FailingWrites(first=17))
        with pytest.raises(DiskFullError) as caught:
            sink.append([{"event_type": "feedback", "message_id": f"lost{i}"} for i in range(3)])
        monkeypatch.undo()
        assert str(caught.value) == f"disk full: {log}"
        assert caught.value.exit_code == EXIT_DISK_FULL == 4
        assert log.read_bytes() == before  # no half line left
        sink.append({"event_type": "feedback", "message_id": "after"})
    assert [e["message_id"] for e in every_line_parses(log)] == ["before", "after"]
    assert read_events(log).skipped == 0


def test_4_other_write_errors_still_undo_the_partial_line_but_keep_their_type(tmp_path, monkeypatch):
    log = tmp_path / "events.ndjson"
    with EventSink(log) as sink:
        sink.append({"event_type": "feedback", "message_id": "before"})
        monkeypatch.setattr("engine.provenance.sink.os.write", _FailingWrites(first=5, error=errno.EIO))
        with pytest.raises(OSError) as caught:
            sink.append({"event_type": "feedback", "message_id": "x"})
        monkeypatch.undo()
        assert not isinstance(caught.value, DiskFullError) and caught.value.errno == errno.EIO
    assert [e["message_id"] for e in every_line_parses(log)] == ["before"]


def test_4_cli_says_disk_full_with_its_exit_code_and_the_log_stays_whole(data_dir):
    # Enough events that the log outgrows the state file: only the log's append hits the limit.
    assert run_engine("simulate", "--n", "20", "--no-progress").returncode == 0
    assert run_engine("ask", "What is 2+2?").returncode == 0
    log = log_path(data_dir)
    size = log.stat().st_size
    assert size > 2 * DataPaths.under(data_dir).adaptive_state.stat().st_size
    done = run_engine("ask", "What is 3+3?", limit=size + 20)  # the next line cannot fit
    assert done.returncode == EXIT_DISK_FULL, done.stderr
    assert f"disk full: {log}" in done.stderr
    assert "Traceback" not in done.stderr
    assert log.stat().st_size == size
    assert run_engine("ask", "What is 4+4?").returncode == 0
    events = every_line_parses(log)
    assert [e["question"] for e in events if e["event_type"] == "response"][-2:] == ["What is 2+2?", "What is 4+4?"]


def test_4_gateway_answers_507_with_the_error_object(data_dir, monkeypatch):
    from fastapi.testclient import TestClient

    from engine.api import clear_engines
    from engine.gateway.app import create_app
    from engine.settings import build_settings

    def full(self, events):
        raise DiskFullError(self.path)

    monkeypatch.setattr(EventSink, "append", full)
    try:
        with TestClient(create_app(build_settings()), raise_server_exceptions=False) as client:
            response = client.post("/v1/chat/completions",
                                   json={"model": "router", "messages": [{"role": "user", "content": "hi"}]})
    finally:
        clear_engines()
    assert response.status_code == 507, response.text
    error = response.json()["error"]
    assert error["code"] == "DISK_FULL" and error["message"].startswith("disk full: ")


# 6. A line over DuckDB's maximum object size --------------------------------------------------------

def _event_line(message_id: str, question: str = "q") -> bytes:
    return (json.dumps({"event_type": "response", "message_id": message_id, "bucket": "control", "route": "main",
                        "question": question}) + "\n").encode()


@pytest.mark.parametrize("bulk", [True, False], ids=["duckdb-first-read", "incremental"])
def test_6_a_line_over_the_object_size_is_skipped_and_counted(tmp_path, bulk):
    from engine.analysis.store import MAX_OBJECT_BYTES, EventStore

    log = tmp_path / "events.ndjson"
    with open(log, "wb") as handle:
        handle.write(_event_line("before"))
        handle.write(_event_line("huge", "x" * (2 * MAX_OBJECT_BYTES + 1000)))  # DuckDB's scan fails on it
        handle.write(_event_line("large", "y" * (MAX_OBJECT_BYTES + 10)))  # DuckDB would still take this one
        handle.write(_event_line("after"))
    store = EventStore(log, bulk_threshold=1 if bulk else 1 << 40, chunk_bytes=1 << 20)
    stats = store.refresh()
    assert stats.skipped == 2 and store.counters.unreadable == 2
    assert [r[0] for r in store.rows("SELECT message_id FROM events ORDER BY ts, message_id")] == ["after", "before"]
    with open(log, "ab") as handle:
        handle.write(_event_line("later"))
    assert store.refresh().events_added == 1 and store.counters.skipped_lines == 2


def test_6_an_oversized_line_written_in_pieces_is_counted_once(tmp_path, monkeypatch):
    from engine.analysis import store as store_module

    monkeypatch.setattr(store_module, "MAX_OBJECT_BYTES", 1000)
    log = tmp_path / "events.ndjson"
    log.write_bytes(_event_line("before"))
    store = store_module.EventStore(log, bulk_threshold=1 << 40, chunk_bytes=256)
    store.refresh()
    line = _event_line("huge", "z" * 5000)
    with open(log, "ab") as handle:
        handle.write(line[:3000])  # a write in progress, already over the bound
    store.refresh()
    with open(log, "ab") as handle:
        handle.write(line[3000:] + _event_line("after"))
    store.refresh()
    assert store.counters.skipped_lines == 1 and not store.counters.truncated_tail
    assert sorted(r[0] for r in store.rows("SELECT message_id FROM events")) == ["after", "before"]


def test_6_ab_report_reads_a_log_with_a_huge_line(data_dir):
    assert run_engine("simulate", "--n", "20", "--no-progress").returncode == 0
    from engine.analysis.store import MAX_OBJECT_BYTES

    with open(log_path(data_dir), "ab") as handle:
        handle.write(_event_line("huge", "x" * (2 * MAX_OBJECT_BYTES + 1000)))
    done = run_engine("ab-report")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


# 9. The event first, then the state ---------------------------------------------------------------

def test_9_a_failed_append_leaves_the_state_without_the_event(data_dir, monkeypatch):
    from engine import api
    from engine.routing.state import read_state

    api.ask("What is 2+2?")
    paths = DataPaths.under(data_dir)
    state_before = paths.adaptive_state.read_bytes()

    def full(self, events):
        raise DiskFullError(self.path)

    monkeypatch.setattr(EventSink, "append", full)
    with pytest.raises(DiskFullError):
        api.ask("What is 3+3?")
    monkeypatch.undo()
    assert paths.adaptive_state.read_bytes() == state_before
    assert not [p for p in paths.analytics_dir.iterdir() if p.name.endswith(".tmp")]
    api.ask("What is 4+4?")
    state = read_state(paths.adaptive_state)
    responses = [e for e in read_events(paths.log).events if e["event_type"] == "response"]
    assert sum(b.sample_count for b in state.buckets.values()) == len(responses) == 2


def test_9_temp_files_of_dead_writers_are_removed_live_ones_kept(data_dir):
    from engine import api

    paths = DataPaths.under(data_dir)
    paths.analytics_dir.mkdir(parents=True)
    dead = subprocess.Popen([PY, "-c", "pass"])
    dead.wait()
    stale = paths.analytics_dir / f".{paths.adaptive_state.name}.{dead.pid}.abcd1234.tmp"
    live = paths.analytics_dir / f".{paths.adaptive_state.name}.{os.getppid()}.efgh5678.tmp"
    other = paths.analytics_dir / f".other.json.{dead.pid}.abcd1234.tmp"
    for path in (stale, live, other):
        path.write_text("{")
    api.ask("What is 2+2?")
    assert not stale.exists()
    assert live.exists() and other.exists()


# A writer that SIGKILLs itself at one point of an answer's update, after one whole answer.
KILLED_AT = r"""
import os, signal, sys
from engine import api
from engine.provenance.sink import EventSink
from engine.routing.state import StagedCacheWrite

api.ask("What is 1 + 1?")
where = sys.argv[1]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if where == "before-append":
    EventSink.append = die
else:
    StagedCacheWrite.commit = die
api.ask("What is 2 + 2?")
"""


@pytest.mark.parametrize("where", ["before-append", "before-rename"])
def test_9_a_writer_killed_mid_update_leaves_log_and_state_agreeing(data_dir, where):
    from engine import api
    from engine.routing.state import read_state

    paths = DataPaths.under(data_dir)
    done = subprocess.run([PY, "-c", KILLED_AT, where], cwd=REPO_ROOT, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert done.returncode == -signal.SIGKILL
    assert [p.name for p in paths.analytics_dir.iterdir() if p.name.endswith(".tmp")]  # left by the kill
    questions = [e["question"] for e in read_events(paths.log).events if e["event_type"] == "response"]
    assert questions == (["What is 1 + 1?"] if where == "before-append" else ["What is 1 + 1?", "What is 2 + 2?"])
    api.ask("What is 3 + 3?")  # the next writer settles what the killed one left
    responses = [e for e in read_events(paths.log).events if e["event_type"] == "response"]
    state = read_state(paths.adaptive_state)
    assert sum(b.sample_count for b in state.buckets.values()) == len(responses) == len(questions) + 1
    assert not [p.name for p in paths.analytics_dir.iterdir() if p.name.endswith(".tmp")]


def test_9_a_killed_writers_update_made_from_an_older_state_is_dropped(data_dir):
    from engine import api
    from engine.routing.state import read_state

    paths = DataPaths.under(data_dir)
    done = subprocess.run([PY, "-c", KILLED_AT, "before-rename"], cwd=REPO_ROOT, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert done.returncode == -signal.SIGKILL
    paths.adaptive_state.write_bytes(paths.adaptive_state.read_bytes() + b" ")  # someone wrote in between
    api.ask("What is 3 + 3?")
    state = read_state(paths.adaptive_state)
    assert sum(b.sample_count for b in state.buckets.values()) == 2  # not rolled onto a state it was not made from
    assert not [p.name for p in paths.analytics_dir.iterdir() if p.name.endswith(".tmp")]


# 10. A log path that is a directory ---------------------------------------------------------------

@pytest.mark.parametrize("command", [["ask", "hello"], ["status"], ["simulate", "--n", "3", "--no-progress"],
                                     ["rotate"]])
def test_10_log_path_is_a_directory(data_dir, command):
    log = log_path(data_dir)
    log.mkdir(parents=True)
    (log / "inside").write_text("x")
    done = run_engine(*command)
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{log}: the event log path is a directory" in done.stderr
    assert log.is_dir() and (log / "inside").read_text() == "x"
    assert not [p.name for p in log.parent.iterdir() if "rotating" in p.name or p.name.endswith(".gz")]


def test_10_rotate_refuses_a_directory_and_renames_nothing(tmp_path):
    from engine.provenance import rotate_log

    log = tmp_path / "events.ndjson"
    log.mkdir()
    with pytest.raises(InputError):
        rotate_log(log)
    assert log.is_dir()
    assert not [p.name for p in tmp_path.iterdir() if "rotating" in p.name or p.name.endswith(".gz")]


# 5. Hostile files where configuration is read ----------------------------------------------------

DEEP = "[" * 100_000


@pytest.mark.parametrize(("content", "problem"), [
    (DEEP.encode(), "nested too deeply"),
    (b"\xff\xfe{\"main_model\": {}}", "not UTF-8"),
    (None, "is a directory"),
])
def test_5_model_config_that_is_deep_not_utf8_or_a_directory(data_dir, content, problem):
    path = data_dir / "config" / "model_config.json"
    path.parent.mkdir(parents=True)
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    for command in (["status"], ["ask", "hi"]):
        done = run_engine(*command)
        assert done.returncode == EXIT_BAD_INPUT, done.stderr
        assert "Traceback" not in done.stderr and f"{path}: " in done.stderr and problem in done.stderr


@pytest.mark.parametrize(("content", "problem"), [
    (DEEP.encode(), "nested too deeply"),
    (b"\xff\xfe[{\"id\": \"a\"}]", "not UTF-8"),
    (None, "is a directory"),
])
def test_5_golden_set_that_is_deep_not_utf8_or_a_directory(tmp_path, content, problem):
    path = tmp_path / "set.json"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    done = run_engine("golden", "compare", "--set", str(path), "--no-progress")
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    assert "Traceback" not in done.stderr and f"{path}: " in done.stderr and problem in done.stderr


def _recipes_with_a_hostile_file(data_dir: Path, content: bytes) -> Path:
    from engine.prompts.store import SHIPPED_RECIPES_DIR

    folder = data_dir / "recipes"
    folder.mkdir()
    for shipped in SHIPPED_RECIPES_DIR.glob("*.json"):
        (folder / shipped.name).write_bytes(shipped.read_bytes())
    bad = folder / "zz.hostile.json"
    bad.write_bytes(content)
    return bad


@pytest.mark.parametrize("content", [DEEP.encode(), b"\xff\xfe{"], ids=["deep", "not-utf8"])
def test_5_a_bad_recipe_file_is_excluded_with_an_issue_and_the_rest_serve(data_dir, content):
    from fastapi.testclient import TestClient

    from engine.api import clear_engines
    from engine.gateway.app import create_app
    from engine.prompts.store import SHIPPED_RECIPES_DIR, load_recipes
    from engine.settings import build_settings

    bad = _recipes_with_a_hostile_file(data_dir, content)
    recipes = load_recipes(build_settings())
    assert str(bad) in recipes.excluded
    assert [i for i in recipes.issues if i.file_path == str(bad) and i.severity == "error"]
    assert len(recipes.recipes) == len(list(SHIPPED_RECIPES_DIR.glob("*.json")))
    try:
        with TestClient(create_app(build_settings()), raise_server_exceptions=False) as client:
            chat = client.post("/v1/chat/completions",
                               json={"model": "router", "messages": [{"role": "user", "content": "hi"}]})
            diagnostics = client.get("/diagnostics")
    finally:
        clear_engines()
    assert chat.status_code == 200, chat.text
    assert diagnostics.status_code == 200, diagnostics.text
    assert bad.name in diagnostics.text


def test_5_a_bad_recipe_dropped_into_a_running_gateway(data_dir, monkeypatch):
    import time

    from fastapi.testclient import TestClient

    from engine.api import clear_engines
    from engine.gateway.app import create_app
    from engine.settings import build_settings

    monkeypatch.setenv("RECIPES_RELOAD_MODE", "poll")
    monkeypatch.setenv("RECIPES_RELOAD_INTERVAL_SECONDS", "0.01")
    bad = _recipes_with_a_hostile_file(data_dir, b'{"id": "ok"}')
    try:
        with TestClient(create_app(build_settings()), raise_server_exceptions=False) as client:
            assert client.get("/diagnostics").status_code == 200
            bad.write_bytes(DEEP.encode())
            time.sleep(0.05)  # past the poll interval: the next request reloads
            chat = client.post("/v1/chat/completions",
                               json={"model": "router", "messages": [{"role": "user", "content": "hi"}]})
            diagnostics = client.get("/diagnostics")
    finally:
        clear_engines()
    assert chat.status_code == 200, chat.text
    assert diagnostics.status_code == 200 and "nested too deeply" in diagnostics.text


# 13. Golden sets: a numeric id, a set too big to start by accident -------------------------------

def test_13_a_numeric_golden_id_is_reported_as_a_number(tmp_path):
    from engine.golden.cases import load_golden_set

    path = tmp_path / "set.json"
    path.write_text('[{"id": "a", "question": "q1"}, {"id": 7, "question": "q2"}]')
    with pytest.raises(InputError) as caught:
        load_golden_set(path)
    message = str(caught.value)
    assert "case #2" in message and "number 7" in message and "missing or empty" not in message
    done = run_engine("golden", "compare", "--set", str(path), "--no-progress")
    assert done.returncode == EXIT_BAD_INPUT and "number 7" in done.stderr


def test_13_a_huge_golden_set_warns_and_ctrl_c_stops_it_promptly(tmp_path):
    import time

    from engine.golden.cases import LARGE_FILE_BYTES, LARGE_SET_CASES

    path = tmp_path / "big.json"
    count = max(LARGE_SET_CASES + 1, LARGE_FILE_BYTES // 100 + 1)
    path.write_text(json.dumps([{"id": f"c{i}", "question": f"What is {i} plus {i}? Answer with the number "
                                 "only, and say in one line how you got it.", "trait": "general"}
                                for i in range(count)]))
    assert path.stat().st_size > LARGE_FILE_BYTES
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = subprocess.Popen([PY, "-m", "engine", "golden", "record", "--set", str(path), "--out",
                              str(tmp_path / "baseline.json"), "--no-progress"], cwd=REPO_ROOT, env=env,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stderr is not None
        warnings = [child.stderr.readline(), child.stderr.readline()]
        assert "MB" in warnings[0] and str(path) in warnings[0]
        assert f"{count} golden cases" in warnings[1]
        time.sleep(1.0)  # answering by now
        interrupted = time.monotonic()
        child.send_signal(signal.SIGINT)
        child.wait(timeout=10)
        assert time.monotonic() - interrupted < 5
        assert child.returncode == 130
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not (tmp_path / "baseline.json").exists()
