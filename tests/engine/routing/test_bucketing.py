"""Sticky A/B bucketing: pinned vectors, stability across processes, and the split at scale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.routing.bucketing import assign_bucket, bucket_value, fnv1a_32
from engine.settings import REPO_ROOT

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "data" / "bucketing_vectors.json").read_text("utf-8"))


def test_fnv1a_matches_the_published_reference_values() -> None:
    for text, expected in VECTORS["fnv1a_32"].items():
        assert fnv1a_32(text) == expected


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"v{c['hash_version']}-{c['seed']}-{c['unit_id']}")
def test_pinned_vectors(case: dict) -> None:
    value = bucket_value(case["seed"], case["unit_id"], case["hash_version"])
    assert value == pytest.approx(case["value"], abs=1e-9)
    assert assign_bucket(case["seed"], case["unit_id"], 0.5, case["hash_version"])[0] == case["bucket_at_0.5"]


def test_values_lie_in_the_unit_interval_and_depend_on_the_seed() -> None:
    values = [bucket_value("seed-a", f"s{i}") for i in range(2000)]
    assert all(0.0 <= v < 1.0 for v in values)
    other = [bucket_value("seed-b", f"s{i}") for i in range(2000)]
    assert sum(a == b for a, b in zip(values, other)) < 5


def test_same_session_same_bucket_in_two_separate_processes() -> None:
    code = ("import json,sys; from engine.routing.bucketing import assign_bucket; "
            "print(json.dumps([assign_bucket('aios-adaptive-routing', f'session-{i}')[0] for i in range(200)]))")
    outputs = [subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True, env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"}).stdout
               for seed in (1, 2)]
    first, second = (json.loads(o) for o in outputs)
    assert first == second
    assert first == [assign_bucket("aios-adaptive-routing", f"session-{i}")[0] for i in range(200)]


@pytest.mark.parametrize("hash_version", [1])
@pytest.mark.parametrize("target", [0.5, 0.2])
def test_100k_split_within_one_percent_of_target(hash_version: int, target: float) -> None:
    control = sum(assign_bucket("aios-adaptive-routing", f"session-{i}", target, hash_version)[0] == "control"
                  for i in range(100_000))
    assert abs(control / 100_000 - target) <= 0.01


def test_unknown_hash_version_is_an_input_error() -> None:
    with pytest.raises(InputError, match="hash_version"):
        bucket_value("s", "u", 2)
