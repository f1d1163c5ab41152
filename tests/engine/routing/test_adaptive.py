"""The adaptive controller as a pure step function: when it moves, which way, how far, and never when off."""

from __future__ import annotations

import copy
import random

import pytest

from engine.routing.adaptive import AdaptiveConfig, AdaptiveState, Observation, compute_marginal_delta, step

CONFIG = AdaptiveConfig()


def fresh() -> AdaptiveState:
    return AdaptiveState.fresh("seed", CONFIG, now="2026-01-01T00:00:00.000Z")


def feed(state: AdaptiveState, n: int, *, main_quality: float, embedder_quality: float, seed: int = 0,
         enabled: bool = True, bucket: str = "treatment") -> tuple[AdaptiveState, list]:
    """Questions with scores around the boundary; quality depends only on the route."""
    rng = random.Random(seed)
    moves = []
    for _ in range(n):
        score = rng.uniform(0.35, 0.7)
        boundary = state.boundary_for(bucket, enabled)
        route = "main" if score >= boundary else "embedder"
        quality = main_quality if route == "main" else embedder_quality
        state, move = step(state, Observation(bucket, route, score, quality, 1000.0), adaptive_enabled=enabled)
        if move is not None:
            moves.append(move)
    return state, moves


def test_defaults_are_the_runbook_figures() -> None:
    assert (CONFIG.control_bucket_pct, CONFIG.min_samples_before_adapt, CONFIG.adaptation_strength) == (0.5, 10, 0.1)
    assert CONFIG.quality_delta_threshold == 0.05 and CONFIG.control_boundary == 0.5
    assert CONFIG.max_boundary_drift < 0.08


def test_step_is_pure() -> None:
    state = fresh()
    before = copy.deepcopy(state.to_dict())
    new, _ = step(state, Observation("treatment", "main", 0.6, 0.9, 100.0))
    assert state.to_dict() == before
    assert new.buckets["treatment"].sample_count == 1
    assert new.buckets["treatment"].routes["main"].count == 1


def test_no_adaptation_before_the_minimum_samples() -> None:
    config = AdaptiveConfig(min_samples_before_adapt=50, adapt_every=1, min_bin_samples=1)
    state = AdaptiveState.fresh("seed", config)
    moves = []
    for i in range(49):
        route = "main" if i % 2 else "embedder"
        score = 0.52 if route == "main" else 0.48
        state, move = step(state, Observation("treatment", route, score, 0.9 if route == "main" else 0.2, 1.0))
        moves.append(move)
    assert moves == [None] * 49


def test_embedder_as_good_as_main_moves_the_boundary_up_within_bounds() -> None:
    state, moves = feed(fresh(), 3000, main_quality=0.9, embedder_quality=0.9)
    assert moves and all(m.new_boundary > m.old_boundary for m in moves)
    assert state.buckets["treatment"].boundary == pytest.approx(0.5 + CONFIG.max_boundary_drift)
    assert state.drift <= 0.08
    assert all("send less to the main model" in m.reason for m in moves)


def test_main_much_better_moves_the_boundary_down_within_bounds() -> None:
    state, moves = feed(fresh(), 3000, main_quality=0.95, embedder_quality=0.6)
    assert moves and all(m.new_boundary < m.old_boundary for m in moves)
    assert state.buckets["treatment"].boundary == pytest.approx(0.5 - CONFIG.max_boundary_drift)
    assert all(m.quality_delta > 0.05 for m in moves)


def test_delta_inside_the_hysteresis_band_holds() -> None:
    # 4.5 % lies between threshold - hysteresis (4 %) and the threshold (5 %): no reason to move.
    state, moves = feed(fresh(), 2000, main_quality=0.90, embedder_quality=0.855)
    assert moves == []
    assert state.buckets["treatment"].boundary == 0.5


def test_control_never_moves() -> None:
    state, moves = feed(fresh(), 2000, main_quality=0.9, embedder_quality=0.9, bucket="control")
    assert moves == [] and state.buckets["control"].boundary == 0.5


def test_kill_switch_counts_samples_but_never_adapts_and_routes_like_control() -> None:
    state, moves = feed(fresh(), 2000, main_quality=0.95, embedder_quality=0.2, enabled=False)
    assert moves == []
    assert state.buckets["treatment"].sample_count == 2000
    assert state.boundary_for("treatment", adaptive_enabled=False) == 0.5


def test_reversals_shrink_the_step_and_the_boundary_settles() -> None:
    """Quality that flips with the side of 0.5 makes the controller reverse; it must damp and stop."""
    rng = random.Random(3)
    state = fresh()
    boundaries = []
    for _ in range(6000):
        score = rng.uniform(0.4, 0.6)
        route = "main" if score >= state.buckets["treatment"].boundary else "embedder"
        # Embedder is as good as main below 0.5 and far worse above: the best boundary is 0.5.
        quality = 0.9 if route == "main" or score < 0.5 else 0.5
        state, move = step(state, Observation("treatment", route, score, quality, 1.0))
        if move is not None:
            boundaries.append(move.new_boundary)
    assert boundaries, "the controller never moved"
    steps = [abs(b - a) for a, b in zip([0.5] + boundaries, boundaries)]
    assert steps[-1] <= steps[0]
    assert abs(state.buckets["treatment"].boundary - 0.5) <= 0.03
    assert state.drift <= 0.08


def test_failed_answers_count_as_samples_but_not_as_quality() -> None:
    state, _ = step(fresh(), Observation("control", "main", 0.7, 0.0, 0.0, answered=False))
    bucket = state.buckets["control"]
    assert bucket.sample_count == 1 and bucket.errors == 1 and bucket.routes["main"].count == 0


def test_marginal_delta_needs_enough_answers_on_both_sides() -> None:
    state = fresh()
    assert compute_marginal_delta(state.buckets["treatment"], CONFIG) is None


def test_state_round_trips_through_its_dict_form() -> None:
    state, _ = feed(fresh(), 300, main_quality=0.9, embedder_quality=0.9)
    again = AdaptiveState.from_dict(state.to_dict())
    assert again.to_dict() == state.to_dict()
