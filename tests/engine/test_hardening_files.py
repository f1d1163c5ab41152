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
