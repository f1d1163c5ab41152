"""Faults injected into real writer processes (issue 13, items 4 and 9): a disk that fills up and is
freed again, and writers killed with SIGKILL mid-run. Afterwards every line of the log parses, no event
written after recovery is missing, and the adaptive state counts exactly the response events logged."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.routing.state import read_state
from engine.settings import REPO_ROOT, DataPaths

# A child that asks until the file-size limit has refused a few appends, lifts the limit ("space
# freed") and asks again; it prints which message ids it was told were recorded and which failed.
DISK_FILLER = r"""
import json, resource, signal, sys
from engine import api
from engine.errors import DiskFullError

limit = int(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
recorded, refused, after = [], 0, []
i = 0
while refused < 6 and i < 3000:
    try:
        recorded.append(api.ask(f"What is {i} + {i}?", session_id=f"s{i % 7}").message_id)
    except DiskFullError as exc:
        assert str(exc).startswith("disk full: "), exc
        refused += 1
    i += 1
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
for j in range(25):
    after.append(api.ask(f"What is {j} * 3?", session_id=f"t{j % 5}").message_id)
print(json.dumps({"recorded": recorded, "refused": refused, "after": after}))
"""


def child_env(**extra: str) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO_ROOT), **extra)


def parse_log(path: Path) -> list[dict]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.split(b"\n")[:-1]]  # every line parses


def assert_state_counts_the_log(paths: DataPaths, events: list[dict]) -> None:
    state = read_state(paths.adaptive_state)
    assert state is not None
    for bucket, counted in state.buckets.items():
        logged = sum(1 for e in events if e["event_type"] == "response" and e["bucket"] == bucket)
        assert counted.sample_count == logged, (bucket, counted.sample_count, logged)


def test_disk_fills_up_and_is_freed_again(data_dir: Path) -> None:
    paths = DataPaths.under(data_dir)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", DISK_FILLER, str(96 * 1024)], capture_output=True, text=True,
                          cwd=REPO_ROOT, env=child_env(AIOS_SHADOW_RATE="0.3"), timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["refused"] == 6 and len(report["recorded"]) > 10
    events = parse_log(paths.log)
    logged = {e["message_id"] for e in events if e["event_type"] == "response"}
    assert set(report["recorded"]) <= logged and set(report["after"]) <= logged  # nothing acknowledged is lost
    assert len(logged) == len(report["recorded"]) + len(report["after"])  # nothing refused got in
    assert_state_counts_the_log(paths, events)
    assert not [p.name for p in paths.analytics_dir.iterdir() if p.name.endswith(".tmp")]
    assert time.monotonic() - started < 60


# `simulate` through the API, after saying it has imported everything (so a kill lands mid-traffic).
SIMULATOR = r"""
import sys
from engine import api
from engine.settings import get_settings
get_settings()
print("ready", flush=True)
seed = int(sys.argv[1]) * 1000
while True:  # until killed
    api.simulate(200, seed=seed)
    seed += 1
"""


def start_simulator(seed: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SIMULATOR, str(seed)], cwd=REPO_ROOT,
                            env=child_env(AIOS_SHADOW_RATE="0.2"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def wait_ready(writer: subprocess.Popen) -> subprocess.Popen:
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    return writer


def test_two_writers_killed_twenty_times(data_dir: Path) -> None:
    paths = DataPaths.under(data_dir)
    rng = random.Random(13)
    started = time.monotonic()
    writers: list[subprocess.Popen] = []
    kills = 0
    try:
        for round_ in range(10):  # both writers start together, then each is killed at its own moment
            writers = [start_simulator(2 * round_), start_simulator(2 * round_ + 1)]
            for writer in writers:
                wait_ready(writer)
            for writer in writers:
                time.sleep(rng.uniform(0.05, 0.5))
                os.kill(writer.pid, signal.SIGKILL)
                writer.wait()
                kills += 1
    finally:
        for writer in writers:
            if writer.poll() is None:
                os.kill(writer.pid, signal.SIGKILL)
                writer.wait()
    assert kills == 20
    # A last short run sweeps the temp files the killed writers left and must see a consistent state.
    done = subprocess.run([sys.executable, "-m", "engine", "simulate", "--n", "3", "--no-progress"], cwd=REPO_ROOT,
                          env=child_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    events = parse_log(paths.log)
    assert sum(1 for e in events if e["event_type"] == "response") > 40
    assert len({e["message_id"] for e in events if e["event_type"] == "response"}) == \
        sum(1 for e in events if e["event_type"] == "response")
    assert_state_counts_the_log(paths, events)
    assert not list(paths.analytics_dir.glob("*.corrupt-*"))
    assert not [p.name for p in paths.analytics_dir.iterdir() if p.name.endswith(".tmp")]
    assert time.monotonic() - started < 90
