"""Replay and optimize on simulated logs: the log's own policy reproduces its main share and mean
quality exactly; another boundary's estimate covers what a fresh run at that boundary gives; the
boundary optimize recommends for a main share sends about that share; labels come from comparisons
first, then the served answer's outcome."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.analysis.replay import (
    boundary_for_share,
    compute_labels,
    compute_optimize,
    compute_replay,
    load_log_events,
    served_outcome,
)
from engine.api import simulate
from engine.errors import InputError
from engine.loop.engine import Engine
from engine.loop.simulate import run_simulation
from engine.routing.adaptive import AdaptiveConfig
from engine.settings import build_settings, get_settings, reset_settings


def fresh_run(boundary: float, n: int, seed: int, folder: Path, explore_rate: float) -> tuple[float, float]:
    """(main share, mean quality) of a new simulated run routing at `boundary` in both buckets."""
    settings = build_settings(aios_data_dir=folder, aios_adaptive_enabled=False, aios_explore_rate=explore_rate,
                              aios_shadow_rate=0.0)
    engine = Engine(settings, config=AdaptiveConfig(control_boundary=boundary))
    try:
        summary = run_simulation(engine, n, seed=seed)
    finally:
        engine.close()
    total = sum(b.questions for b in summary.buckets.values())
    share = sum(b.main_share * b.questions for b in summary.buckets.values()) / total
    quality = sum(b.mean_quality * b.questions for b in summary.buckets.values()) / total
    return share, quality


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory) -> list[dict]:
    """A simulated log with 15 % exploration and shadow comparisons (built once for the module)."""
    folder = tmp_path_factory.mktemp("replay-log")
    settings = build_settings(aios_data_dir=folder, aios_provider="sim", aios_sim_latency_scale=0,
                              aios_explore_rate=0.15, aios_shadow_rate=0.1)
    simulate(600, seed=3, settings=settings)
    return load_log_events(settings.paths.log)


def test_replay_of_the_logs_own_policy_is_exact(sim_log):
    result = compute_replay(sim_log)
    responses = [e for e in sim_log if e["event_type"] == "response"]
    assert result.events == len(responses) == 600
    assert result.main_share == pytest.approx(np.mean([e["route"] == "main" for e in responses]), abs=1e-6)
    assert result.quality.value == pytest.approx(np.mean([e["quality"] for e in responses]), abs=1e-6)
    assert result.quality.low < result.quality.value < result.quality.high
    assert result.explore_rate == pytest.approx(0.15)
    assert result.comparisons > 20
    assert set(result.curves) == {"complexity", "length"}
    shares = [p["main_share"] for p in result.curves["complexity"]]
    assert shares[0] < 0.2 and shares[-1] > 0.8


def test_replay_at_another_boundary_covers_a_fresh_run(sim_log, tmp_path):
    boundary = 0.62
    estimate = compute_replay(sim_log, boundary=boundary, curves=False)
    share, quality = fresh_run(boundary, 600, 11, tmp_path / "fresh", explore_rate=0.15)
    # What the policy sends to main on the logged questions (exploration sends 15 % the other way).
    scores = np.array([e["complexity"] for e in sim_log if e["event_type"] == "response"])
    expected = float(np.mean(np.where(scores >= boundary, 0.85, 0.15)))
    # Tolerances of about 4 standard deviations (weighted estimate with ~300 effective answers; a
    # fresh run of 600 answers with its own question mix): wide enough never to flake, far narrower
    # than the gap to the log's own share (0.52 against about 0.39 here).
    assert abs(estimate.main_share - expected) < 0.08
    assert abs(share - expected) < 0.08
    assert abs(estimate.logged_main_share - expected) > 0.1
    # The 95 % interval, widened by the fresh run's own sampling noise (600 answers, sd about 0.006).
    assert estimate.quality.low - 0.02 <= quality <= estimate.quality.high + 0.02


def test_optimize_for_a_main_share_sends_that_share(sim_log, tmp_path):
    result = compute_optimize(sim_log, target_main_share=0.3)
    share, _ = fresh_run(result.boundary, 600, 12, tmp_path / "fresh", explore_rate=0.15)
    assert abs(share - 0.3) < 0.07  # 600 answers (sd about 0.02) with their own question mix
    assert result.replay.main_share == pytest.approx(0.3, abs=0.08)


def test_optimize_for_a_quality_loss_stays_within_it(sim_log):
    result = compute_optimize(sim_log, max_quality_loss=0.02)
    assert result.reference_quality is not None
    assert result.replay.quality.value >= result.reference_quality - 0.02
    tighter = compute_optimize(sim_log, max_quality_loss=0.0)
    assert tighter.replay.main_share >= result.replay.main_share


def test_labels_take_both_outcomes_from_comparisons(sim_log):
    labels = compute_labels(sim_log)
    compared = [lb for lb in labels if lb.source == "comparison"]
    assert compared and all(lb.main_correct is not None and lb.embedder_correct is not None for lb in compared)
    served = [lb for lb in labels if lb.source != "comparison"]
    assert all((lb.main_correct is None) != (lb.embedder_correct is None) for lb in served)
    assert {lb.served for lb in labels} == {"main", "embedder"}


def test_served_outcome_prefers_truth_then_the_pass_floor():
    assert served_outcome({"sim_correct": False, "quality": 0.9}) is False
    assert served_outcome({"quality": 0.7}) is True
    assert served_outcome({"quality": 0.3}) is False
    assert served_outcome({"quality": 0.9, "error_code": "PROVIDER_TIMEOUT"}) is False


def test_labels_from_a_real_comparison_use_agreement():
    events = [{"event_type": "response", "message_id": "m1", "question": "q", "route": "embedder", "quality": 0.8},
              {"event_type": "comparison", "message_id": "m1", "served_route": "embedder", "shadow_route": "main",
               "agreement": 0.1},
              {"event_type": "response", "message_id": "m2", "question": "q2", "route": "main", "quality": 0.8},
              {"event_type": "comparison", "message_id": "m2", "served_route": "main", "shadow_route": "embedder",
               "agreement": 1.0}]
    first, second = compute_labels(events)
    assert (first.main_correct, first.embedder_correct) == (True, False)
    assert (second.main_correct, second.embedder_correct) == (True, True)


def test_boundary_for_share_counts_exploration():
    scores = np.linspace(0, 1, 1001)
    assert np.mean(scores >= boundary_for_share(scores, 0.3)) == pytest.approx(0.3, abs=0.002)
    b = boundary_for_share(scores, 0.3, explore_rate=0.1)
    deterministic = np.mean(scores >= b)
    assert 0.9 * deterministic + 0.1 * (1 - deterministic) == pytest.approx(0.3, abs=0.002)


def test_replay_refuses_what_it_cannot_answer(sim_log):
    with pytest.raises(InputError, match="no routed answers"):
        compute_replay([])
    with pytest.raises(InputError, match="one, not both"):
        compute_replay(sim_log, boundary=0.5, target_main_share=0.3)
    with pytest.raises(InputError, match="exactly one goal"):
        compute_optimize(sim_log)
    with pytest.raises(InputError, match="needs a model"):
        compute_replay(sim_log, router="learned")


def test_archives_are_read_with_all(tmp_path):
    import gzip

    reset_settings()
    log = get_settings().paths.log
    log.parent.mkdir(parents=True, exist_ok=True)
    line = b'{"event_type": "response", "question": "q", "route": "main", "quality": 0.9, "bucket": "control"}\n'
    log.write_bytes(line)
    with gzip.open(log.parent / f"{log.stem}_20260101T000000Z.ndjson.gz", "wb") as handle:
        handle.write(line * 2)
    assert len(load_log_events(log)) == 1
    assert len(load_log_events(log, include_archives=True)) == 3
