"""APGR as RouteLLM defines it: hand-computed tiny cases, a cross-check against RouteLLM's own
procedure (pandas.qcut thresholds), and the shape of the committed public benchmark file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import InputError
from engine.routing.evaluation import compute_apgr, compute_curve_apgr, compute_routing_curve

BENCHMARK = Path(__file__).resolve().parents[3] / "bench" / "data" / "routing_benchmark.jsonl"

# Four questions: the strong model answers all, the weak model only the last two. Strong accuracy 1,
# weak 0.5. Sending q0 and q1 to the strong model is all a router can gain.
STRONG = [True, True, True, True]
WEAK = [False, False, True, True]


def test_perfect_router_curve_and_apgr_by_hand():
    # Points (share, accuracy): (0, .5) (.25, .75) (.5, 1) (.75, 1) (1, 1).
    # AUC = .15625 + .21875 + .25 + .25 = .875; APGR = (.875 - .5) / (1 - .5) = .75.
    curve = compute_routing_curve([4, 3, 2, 1], STRONG, WEAK, num_thresholds=None)
    assert curve.strong_share.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert curve.accuracy.tolist() == [0.5, 0.75, 1.0, 1.0, 1.0]
    assert (curve.strong_accuracy, curve.weak_accuracy) == (1.0, 0.5)
    assert compute_curve_apgr(curve) == pytest.approx(0.75)
    # RouteLLM's 10 quantile thresholds land on the same points (some repeated): same area.
    assert compute_apgr([4, 3, 2, 1], STRONG, WEAK) == pytest.approx(0.75)


def test_reversed_router_scores_low_by_hand():
    # Points (0, .5) (.25, .5) (.5, .5) (.75, .75) (1, 1): AUC .625, APGR (.625 - .5) / .5 = .25.
    assert compute_apgr([1, 2, 3, 4], STRONG, WEAK, num_thresholds=None) == pytest.approx(0.25)
    assert compute_apgr([1, 2, 3, 4], STRONG, WEAK) == pytest.approx(0.25)


def test_constant_score_is_the_straight_line_half():
    # Ties are never split: all-strong or all-weak, the chord between them, APGR exactly 0.5.
    assert compute_apgr([0.3] * 4, STRONG, WEAK) == pytest.approx(0.5)
    assert compute_apgr([0.3] * 4, STRONG, WEAK, num_thresholds=None) == pytest.approx(0.5)


def test_random_scores_average_about_half():
    rng = np.random.default_rng(7)
    n = 2000
    strong = rng.random(n) < 0.8
    weak = rng.random(n) < 0.6
    values = [compute_apgr(rng.random(n), strong, weak) for _ in range(20)]
    assert abs(float(np.mean(values)) - 0.5) < 0.03


def test_informative_score_beats_random_and_reverse_loses():
    rng = np.random.default_rng(3)
    n = 2000
    difficulty = rng.random(n)
    strong = rng.random(n) > difficulty * 0.5     # hard questions trip the strong model less often
    weak = rng.random(n) > difficulty             # than the weak one
    assert compute_apgr(difficulty, strong, weak) > 0.6
    assert compute_apgr(-difficulty, strong, weak) < 0.4


def _routellm_reference(scores, strong, weak, num_results=10):
    """RouteLLM's procedure restated: qcut edges, `>=` except `>` at the last edge, trapezoid area,
    scaled by the weak and strong areas over the same share range (percentages as in their code)."""
    frame = pd.DataFrame({"score": scores, "strong": strong, "weak": weak})
    _, edges = pd.qcut(frame["score"], num_results, retbins=True)
    points = []
    for i, edge in enumerate(edges):
        chosen = frame["score"] >= edge if i != len(edges) - 1 else frame["score"] > edge
        accuracy = np.where(chosen, frame["strong"], frame["weak"]).sum() / len(frame) * 100
        points.append((chosen.sum() / len(frame) * 100, accuracy))
    points.sort()
    share = np.array([p[0] for p in points]) / 100
    accuracy = np.array([p[1] for p in points])
    auc = np.trapezoid(accuracy, share)
    weak_auc = np.trapezoid(np.full(len(share), frame["weak"].mean() * 100), share)
    strong_auc = np.trapezoid(np.full(len(share), frame["strong"].mean() * 100), share)
    return (auc - weak_auc) / (strong_auc - weak_auc)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_routellm_procedure(seed):
    rng = np.random.default_rng(seed)
    n = 500
    scores = rng.random(n)
    strong = rng.random(n) < 0.85
    weak = rng.random(n) < 0.55 + 0.3 * (scores < 0.5)
    assert compute_apgr(scores, strong, weak) == pytest.approx(_routellm_reference(scores, strong, weak))


def test_bad_inputs_name_the_field():
    with pytest.raises(InputError, match="lengths differ"):
        compute_apgr([0.1, 0.2], [True], [False, True])
    with pytest.raises(InputError, match="scores"):
        compute_apgr([], [], [])
    with pytest.raises(InputError, match="no performance gap"):
        compute_apgr([0.1, 0.9], [True, False], [False, True])
    with pytest.raises(InputError, match="finite"):
        compute_apgr([0.1, float("nan")], [True, True], [False, True])


def test_committed_benchmark_file_has_the_documented_shape():
    records = [json.loads(line) for line in BENCHMARK.read_text(encoding="utf-8").splitlines()]
    assert len(records) >= 1000
    assert all(set(r) == {"source", "question", "strong_correct", "weak_correct"} for r in records)
    assert all(r["source"] == "gsm8k" or r["source"].startswith("mmlu:") for r in records)
    assert all(isinstance(r["strong_correct"], bool) and isinstance(r["weak_correct"], bool) for r in records)
    assert all(r["question"] and r["question"] == r["question"].strip() for r in records)
    sources = {r["source"] for r in records}
    assert "gsm8k" in sources and len(sources - {"gsm8k"}) >= 5
    # The strong model must be the stronger one, or APGR's scale would be upside down.
    strong = np.mean([r["strong_correct"] for r in records])
    weak = np.mean([r["weak_correct"] for r in records])
    assert strong > weak
