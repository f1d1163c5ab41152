"""The epsilon-greedy policy, pure: a config, per-arm statistics, and the selection they give
for a random draw. No I/O; the store keeps the statistics, the service counts and logs."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from engine import runbook
from engine.errors import InputError

TIE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class BanditConfig:
    """Runtime tuning, shared by every worker through the database (POST /bandit_config)."""

    epsilon: float = runbook.BANDIT_EPSILON
    min_initial_samples: int = runbook.BANDIT_MIN_INITIAL_SAMPLES  # fewer rewards: valued at the prior
    optimistic_initial_value: float = runbook.BANDIT_OPTIMISTIC_INITIAL_VALUE

    def validated(self) -> BanditConfig:
        if isinstance(self.epsilon, bool) or not isinstance(self.epsilon, (int, float)) \
                or not 0.0 <= self.epsilon <= 1.0 or math.isnan(self.epsilon):
            raise InputError("field epsilon must be a number in [0, 1]")
        if isinstance(self.min_initial_samples, bool) or not isinstance(self.min_initial_samples, int) \
                or not 0 <= self.min_initial_samples <= 1_000_000:
            raise InputError("field min_initial_samples must be an integer >= 0")
        value = self.optimistic_initial_value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise InputError("field optimistic_initial_value must be a number in [0, 1]")
        return BanditConfig(float(self.epsilon), int(self.min_initial_samples), float(value))


@dataclass(frozen=True)
class ArmStats:
    recipe_id: str
    pulls: int = 0
    explored_pulls: int = 0
    reward_sum: float = 0.0
    reward_count: int = 0
    feedback_total: int = 0

    @property
    def mean_reward(self) -> float | None:
        return self.reward_sum / self.reward_count if self.reward_count else None


@dataclass(frozen=True)
class Selection:
    recipe_id: str
    policy: str  # "epsilon_greedy", or "fixed" when BANDIT_ENABLED=0
    explored: bool
    probability: float  # the probability this arm had of being chosen by this draw
    epsilon: float


def compute_estimate(arm: ArmStats, config: BanditConfig) -> float:
    """The value the policy exploits: the mean reward, or the prior while an arm has fewer than
    min_initial_samples rewards (or none at all)."""
    if arm.reward_count == 0 or arm.reward_count < config.min_initial_samples:
        return config.optimistic_initial_value
    return arm.reward_sum / arm.reward_count


def compute_selection(arms: Sequence[ArmStats], config: BanditConfig, rng: random.Random) -> Selection:
    """Epsilon-greedy: with probability epsilon a uniform pick (explored=True), else the best
    estimate, ties broken uniformly at random. Pure given `rng`."""
    if not arms:
        raise ValueError("compute_selection needs at least one arm")
    estimates = [compute_estimate(arm, config) for arm in arms]
    top = max(estimates)
    best = [arm for arm, value in zip(arms, estimates) if top - value <= TIE_TOLERANCE]
    explored = rng.random() < config.epsilon
    chosen = rng.choice(list(arms)) if explored else rng.choice(best)
    probability = config.epsilon / len(arms)
    if chosen in best:
        probability += (1.0 - config.epsilon) / len(best)
    return Selection(chosen.recipe_id, "epsilon_greedy", explored, probability, config.epsilon)


def compute_fixed_selection(recipe_id: str, config: BanditConfig) -> Selection:
    """BANDIT_ENABLED=0: always the default recipe."""
    return Selection(recipe_id, "fixed", False, 1.0, config.epsilon)
