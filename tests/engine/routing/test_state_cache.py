"""StateCache: a state file is parsed again exactly when its bytes changed, whoever wrote it; the
saved file stays indented, readable JSON that round-trips."""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.routing.adaptive import AdaptiveConfig, AdaptiveState
from engine.routing.state import StateCache, encode_state, read_state, save_state

SEED = "aios-adaptive-routing"


def state_with(boundary: float) -> AdaptiveState:
    state = AdaptiveState.fresh(SEED, AdaptiveConfig(), now="2026-01-01T00:00:00Z")
    state.buckets["treatment"].boundary = boundary
    state.buckets["treatment"].bins["main"][3] = [4.0, 3.1, 2.5]
    return state


def test_unchanged_bytes_reuse_the_parsed_state(tmp_path: Path) -> None:
    cache = StateCache(tmp_path / "state.json", SEED, AdaptiveConfig())
    cache.save(state_with(0.52))
    first = cache.load()
    assert first is cache.load()  # same bytes: no second parse
    assert first.buckets["treatment"].boundary == 0.52


def test_another_writer_is_seen_even_with_the_same_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    cache = StateCache(path, SEED, AdaptiveConfig())
    cache.save(state_with(0.52))
    assert cache.load().buckets["treatment"].boundary == 0.52
    before = path.stat()

    save_state(path, state_with(0.53))  # another process: same length, different content
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert cache.load().buckets["treatment"].boundary == 0.53


def test_a_missing_or_corrupt_file_gives_a_fresh_state(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    cache = StateCache(path, SEED, AdaptiveConfig())
    assert cache.load().buckets["treatment"].boundary == AdaptiveConfig().control_boundary
    cache.save(state_with(0.45))
    path.write_text("{half a file")
    assert cache.load().buckets["treatment"].boundary == AdaptiveConfig().control_boundary
    assert list(tmp_path.glob("state.json.corrupt-*"))


def test_the_file_is_indented_json_with_a_bin_per_line(tmp_path: Path) -> None:
    state = state_with(0.47)
    text = encode_state(state).decode()
    assert text.endswith("}\n") and text.startswith('{\n  "version": 1,\n')
    assert "\n            [4.0, 3.1, 2.5],\n" in text  # one score bin, one line
    assert json.loads(text) == state.to_dict()
    path = tmp_path / "state.json"
    save_state(path, state)
    assert read_state(path).to_dict() == state.to_dict()
    assert StateCache(path, SEED, AdaptiveConfig()).load().to_dict() == state.to_dict()
