"""The adaptive state file: missing, corrupt, atomic, locked across processes, and readable as the runbook
reads it; the one typed reader validates as the writer does, and never raises, moves or creates a file."""

from __future__ import annotations

import json
import logging
import multiprocessing
from pathlib import Path

import pytest

from engine.ids import utc_now_iso
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState, Observation, step
from engine.routing.state import (
    StateCache,
    StateFormatError,
    parse_state,
    read_state,
    read_state_file,
    reset_state,
    save_state,
    state_lock,
)

CONFIG = AdaptiveConfig()


def state_file(data_dir: Path) -> Path:
    return data_dir / "analytics" / "adaptive_routing_state.json"


def record(cache: StateCache, observation: Observation) -> AdaptiveState:
    """One answer's read-modify-write, as the loop does it: under the lock, load, step, save."""
    with state_lock(cache.path):
        new_state, _ = step(cache.load(), observation, now=utc_now_iso())
        cache.save(new_state)
    return new_state


def test_missing_file_gives_a_fresh_experiment(data_dir: Path) -> None:
    state = StateCache(state_file(data_dir), "seed", CONFIG).load()
    assert state.buckets["control"].sample_count == 0
    assert state.buckets["treatment"].boundary == 0.5
    assert not state_file(data_dir).exists()
    assert read_state(state_file(data_dir)) is None and read_state_file(state_file(data_dir)).missing


def test_saved_file_reads_the_way_the_runbook_reads_it(data_dir: Path) -> None:
    path = state_file(data_dir)
    record(StateCache(path, "seed", CONFIG), Observation("control", "main", 0.7, 0.9, 1200.0))
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
        state = StateCache(path, "seed", CONFIG).load()
    assert state.buckets["control"].sample_count == 0
    aside = list(path.parent.glob("adaptive_routing_state.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"buckets": {"control": {"sample_count": 3'
    assert not path.exists()
    assert "corrupt" in caplog.text and aside[0].name in caplog.text


def test_wrong_shape_counts_as_corrupt(data_dir: Path) -> None:
    path = state_file(data_dir)
    path.parent.mkdir(parents=True)
    path.write_text('[1, 2, 3]', encoding="utf-8")
    assert StateCache(path, "seed", CONFIG).load().buckets["treatment"].sample_count == 0
    assert list(path.parent.glob("*.corrupt-*"))


def test_deleting_the_file_resets_the_experiment(data_dir: Path) -> None:
    path = state_file(data_dir)
    record(StateCache(path, "seed", CONFIG), Observation("treatment", "main", 0.7, 0.9, 1.0))
    assert read_state(path).buckets["treatment"].sample_count == 1
    assert reset_state(path) == path
    assert reset_state(path) is None
    assert StateCache(path, "seed", CONFIG).load().buckets["treatment"].sample_count == 0


def _writer(path: str, bucket: str, n: int) -> None:
    cache = StateCache(Path(path), "seed", CONFIG)
    for i in range(n):
        record(cache, Observation(bucket, "main" if i % 2 else "embedder", 0.5, 0.8, 10.0))


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
    assert read_state(path).to_dict() == s  # the reader gives exactly what the writers left


def test_the_reader_gives_the_typed_state_with_the_files_config(data_dir: Path) -> None:
    path = state_file(data_dir)
    state = AdaptiveState.fresh("seed-7", AdaptiveConfig(control_bucket_pct=0.3), now="2026-01-01T00:00:00Z")
    state.buckets["treatment"].boundary = 0.455
    save_state(path, state)
    found = read_state_file(path)
    assert found.problem is None and found.document == json.loads(path.read_text())
    assert found.state.to_dict() == state.to_dict()
    assert found.state.config.control_bucket_pct == 0.3 and found.state.drift == pytest.approx(0.045)


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not valid JSON (line 1"),
    ("[1, 2, 3]", "not a JSON object"),
    ('{"buckets": []}', "field buckets is missing"),
    ('{"buckets": {"control": {"boundary": 0.5}}}', "field buckets.treatment.boundary is missing or not a number"),
    ('{"buckets": {"treatment": {"boundary": "0.45"}}}', "field buckets.treatment.boundary"),
    ('{"buckets": {"treatment": {"boundary": true}}}', "field buckets.treatment.boundary"),
    ('{"buckets": {"treatment": {"boundary": NaN}}}', "field buckets.treatment.boundary"),
    ('{"buckets": {"control": {"boundary": null}, "treatment": {"boundary": 0.5}}}', "field buckets.control.boundary"),
    ('{"config": {"control_bucket_pct": "half"}, "buckets": {"treatment": {"boundary": 0.5}}}',
     "field config.control_bucket_pct is not a number"),
    ('{"buckets": {"treatment": {"boundary": 0.5, "sample_count": "many"}}}', "not an adaptive state (ValueError"),
])
def test_an_unusable_file_reads_as_no_state_with_the_reason_and_stays_where_it_is(
        data_dir: Path, caplog, content: str, problem: str) -> None:
    path = state_file(data_dir)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with caplog.at_level(logging.WARNING):
        found = read_state_file(path)
    assert found.state is None and not found.missing
    assert found.problem.startswith(f"{path}: ") and problem in found.problem
    assert problem in caplog.text
    assert read_state(path) is None
    assert path.read_text() == content and not list(path.parent.glob("*.corrupt-*"))
    # The writer judges the file by the same parser: it moves exactly these files aside.
    StateCache(path, "seed", CONFIG).load()
    assert not path.exists() and len(list(path.parent.glob("*.corrupt-*"))) == 1


def test_a_hand_written_state_takes_defaults_for_what_it_leaves_out(data_dir: Path) -> None:
    """Runbook 004 shows buckets.<name>.boundary and sample_count; everything else has a safe default."""
    path = state_file(data_dir)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "buckets": {"treatment": {"boundary": 0.46, "sample_count": 60}}}))
    state = read_state(path)
    assert state.buckets["control"].boundary == CONFIG.control_boundary
    assert state.buckets["treatment"].sample_count == 60 and state.config == CONFIG
    kept = StateCache(path, "seed", CONFIG).load()  # the writer keeps it too, under its own seed
    assert kept.experiment_seed == "seed" and kept.buckets["treatment"].boundary == 0.46
    with pytest.raises(StateFormatError):
        parse_state({"buckets": {"treatment": {}}}, "seed")
