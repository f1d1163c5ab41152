"""The adaptive state file: missing, corrupt, atomic, locked across processes, and readable as the runbook reads it."""

from __future__ import annotations

import json
import logging
import multiprocessing
from pathlib import Path

from engine.routing.adaptive import AdaptiveConfig, Observation, step
from engine.routing.state import load_state, reset_state, save_state, update_state

CONFIG = AdaptiveConfig()


def state_file(data_dir: Path) -> Path:
    return data_dir / "analytics" / "adaptive_routing_state.json"


def test_missing_file_gives_a_fresh_experiment(data_dir: Path) -> None:
    state = load_state(state_file(data_dir), "seed", CONFIG)
    assert state.buckets["control"].sample_count == 0
    assert state.buckets["treatment"].boundary == 0.5
    assert not state_file(data_dir).exists()


def test_saved_file_reads_the_way_the_runbook_reads_it(data_dir: Path) -> None:
    path = state_file(data_dir)
    state = load_state(path, "seed", CONFIG)
    state, _ = step(state, Observation("control", "main", 0.7, 0.9, 1200.0))
    save_state(path, state)
    s = json.load(open(path))
    assert s["buckets"]["control"]["sample_count"] == 1 and s["buckets"]["treatment"]["sample_count"] == 0
    assert s["buckets"]["control"]["boundary"] == 0.5
    assert s["buckets"]["control"]["routes"]["main"] == {"count": 1, "quality_sum": 0.9, "quality_sq_sum": 0.81,
                                                       "latency_sum_ms": 1200.0}
    assert s["config"]["min_samples_before_adapt"] == 10 and s["hash_version"] == 1 and s["version"] == 1
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_corrupt_file_is_moved_aside_with_a_warning_and_reinitialised(data_dir: Path, caplog) -> None:
    path = state_file(data_dir)
    path.parent.mkdir(parents=True)
    path.write_text('{"buckets": {"control": {"sample_count": 3', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        state = load_state(path, "seed", CONFIG)
    assert state.buckets["control"].sample_count == 0
    aside = list(path.parent.glob("adaptive_routing_state.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"buckets": {"control": {"sample_count": 3'
    assert not path.exists()
    assert "corrupt" in caplog.text and aside[0].name in caplog.text


def test_wrong_shape_counts_as_corrupt(data_dir: Path) -> None:
    path = state_file(data_dir)
    path.parent.mkdir(parents=True)
    path.write_text('[1, 2, 3]', encoding="utf-8")
    assert load_state(path, "seed", CONFIG).buckets["treatment"].sample_count == 0
    assert list(path.parent.glob("*.corrupt-*"))


def test_deleting_the_file_resets_the_experiment(data_dir: Path) -> None:
    path = state_file(data_dir)
    update_state(path, "seed", CONFIG, lambda s: step(s, Observation("treatment", "main", 0.7, 0.9, 1.0)))
    assert reset_state(path) == path
    assert reset_state(path) is None
    assert load_state(path, "seed", CONFIG).buckets["treatment"].sample_count == 0


def _writer(path: str, bucket: str, n: int) -> None:
    for i in range(n):
        update_state(Path(path), "seed", CONFIG,
                     lambda s: step(s, Observation(bucket, "main" if i % 2 else "embedder", 0.5, 0.8, 10.0)))


def test_concurrent_writers_in_separate_processes_lose_no_update(data_dir: Path) -> None:
    path = state_file(data_dir)
    ctx = multiprocessing.get_context("spawn")
    plan = [("control", 60), ("treatment", 60), ("control", 40), ("treatment", 25)]
    procs = [ctx.Process(target=_writer, args=(str(path), bucket, n)) for bucket, n in plan]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    s = json.loads(path.read_text())
    assert s["buckets"]["control"]["sample_count"] == 100
    assert s["buckets"]["treatment"]["sample_count"] == 85
    routes = s["buckets"]["control"]["routes"]
    assert routes["main"]["count"] + routes["embedder"]["count"] == 100
    assert not list(path.parent.glob("*.corrupt-*"))
