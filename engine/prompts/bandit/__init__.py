"""The epsilon-greedy recipe bandit (runbook 000's legacy section): the pure policy, its SQLite
statistics shared by worker processes, and the service behind the bandit endpoints."""

from engine.prompts.bandit.policy import (
    TIE_TOLERANCE,
    ArmStats,
    BanditConfig,
    Selection,
    compute_estimate,
    compute_fixed_selection,
    compute_selection,
)
from engine.prompts.bandit.service import (
    Bandit,
    ChooseResult,
    RewardOutOfRangeError,
    UnknownArmError,
    compute_arm_table,
    load_bandit_stats,
)
from engine.prompts.bandit.store import (
    DEFAULT_TTL_S,
    HISTOGRAMS,
    LATENCY_BUCKETS,
    BanditStore,
    MetricsSnapshot,
    bucket_index,
)

__all__ = [
    "TIE_TOLERANCE", "ArmStats", "BanditConfig", "Selection", "compute_estimate", "compute_fixed_selection",
    "compute_selection", "Bandit", "ChooseResult", "RewardOutOfRangeError", "UnknownArmError",
    "compute_arm_table", "load_bandit_stats", "DEFAULT_TTL_S", "HISTOGRAMS", "LATENCY_BUCKETS", "BanditStore",
    "MetricsSnapshot", "bucket_index",
]
