"""Every number and name the two runbooks fix (004: routing, goldens, SLOs; 000: prompt engine),
in one place. Users' scripts and habits depend on these: change them only with the runbooks.

Imported wherever the value is used (engine, CLI, gateway, dashboard), never restated.
"""

from __future__ import annotations

from typing import Final

# The A/B experiment: buckets, routes, the control boundary that never moves.
CONTROL: Final = "control"
TREATMENT: Final = "treatment"
BUCKETS: Final[tuple[str, str]] = (CONTROL, TREATMENT)
MAIN: Final = "main"
EMBEDDER: Final = "embedder"
ROUTES: Final[tuple[str, str]] = (MAIN, EMBEDDER)
CONTROL_BOUNDARY: Final = 0.5
# The model that answered, when none did (runbook 004: golden tests 0/10 "source: unknown").
UNKNOWN_SOURCE: Final = "unknown"

# Adaptive routing defaults (runbook 004, adaptive_routing_state.json "config").
CONTROL_BUCKET_PCT: Final = 0.5
MIN_SAMPLES_BEFORE_ADAPT: Final = 10
ADAPTATION_STRENGTH: Final = 0.1
ADAPT_QUALITY_DELTA: Final = 0.05  # adapts only on a quality delta > 5 %

# A response passes when a model answered without error and its quality reaches this floor.
PASS_QUALITY: Final = 0.5

# Golden regression: `golden_runner.py compare --threshold 0.25`.
GOLDEN_THRESHOLD: Final = 0.25

# SLOs (quality_alert.py exits 2 when one fails).
MIN_PASS_RATE: Final = 0.95
MAX_P95_LATENCY_MS: Final = 20_000.0
MAX_BOUNDARY_DRIFT: Final = 0.08

# Red flags: worse than an SLO miss, shown as flags when they fire.
RED_FLAG_PASS_RATE: Final = 0.90
RED_FLAG_P95_LATENCY_MS: Final = 25_000.0
RED_FLAG_DRIFT: Final = 0.1
RED_FLAG_ONE_MODEL_SHARE: Final = 1.0  # routing 100 % to one model

# Recipe bandit defaults (runbook 000).
BANDIT_EPSILON: Final = 0.1
BANDIT_OPTIMISTIC_INITIAL_VALUE: Final = 0.5
BANDIT_MIN_INITIAL_SAMPLES: Final = 1

# Error codes an answer or an HTTP error can carry.
PROVIDER_TIMEOUT: Final = "PROVIDER_TIMEOUT"
PROVIDER_UNREACHABLE: Final = "PROVIDER_UNREACHABLE"
PROVIDER_HTTP_ERROR: Final = "PROVIDER_HTTP_ERROR"
PROVIDER_BAD_RESPONSE: Final = "PROVIDER_BAD_RESPONSE"
EGRESS_BLOCKED: Final = "EGRESS_BLOCKED"
PROVIDER_ERROR: Final = "PROVIDER_ERROR"
CLIENT_DISCONNECTED: Final = "CLIENT_DISCONNECTED"
ASSIST_JSON_INVALID: Final = "ASSIST_JSON_INVALID"

# CLI exit codes (quality_alert.py 0/2, golden CI 0/1, bad input 2, provider 3, disk full 4, Ctrl-C 130).
EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_PROVIDER: Final = 3
EXIT_DISK_FULL: Final = 4  # a write failed for lack of space (ENOSPC, EDQUOT, EFBIG)
EXIT_INTERRUPTED: Final = 130
