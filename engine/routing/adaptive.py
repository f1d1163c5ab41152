"""The adaptive controller: runbook 004's AdaptiveConfig and a pure step (state, observation) -> state.

Rule (README "The closed loop"): the control boundary stays 0.5. Each answered treatment question
adds its quality to per-route statistics in score bins. Every `adapt_every` treatment samples,
once `min_samples_before_adapt` are in, the controller compares the main model's and the
embedder's mean quality at the treatment boundary (the nearest score bins on each side with enough
answers). A delta above `quality_delta_threshold` (5 %) by one standard error means the embedder
loses too much there: the boundary moves down (more to main). A delta below threshold - hysteresis
(4 %) by one standard error means the embedder keeps quality there: the boundary moves up (less to
main). In between it holds. Steps are `adaptation_strength * max_boundary_drift`, need fresh
answers in the compared bins, halve on every reversal (below `min_step` the boundary is settled and
stays), grow back on consistent moves, and never leave control +/- max_boundary_drift (0.075,
under the 0.08 SLO; runbook red flag 0.1).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from engine import runbook
from engine.routing.bucketing import BUCKETS


@dataclass(frozen=True)
class AdaptiveConfig:
    """Runbook 004's defaults plus the bounds that keep adaptation safe."""

    control_bucket_pct: float = runbook.CONTROL_BUCKET_PCT
    min_samples_before_adapt: int = runbook.MIN_SAMPLES_BEFORE_ADAPT
    adaptation_strength: float = runbook.ADAPTATION_STRENGTH
    quality_delta_threshold: float = runbook.ADAPT_QUALITY_DELTA
    control_boundary: float = runbook.CONTROL_BOUNDARY
    max_boundary_drift: float = 0.075  # a margin under the 0.08 drift SLO (runbook.MAX_BOUNDARY_DRIFT)
    hysteresis: float = 0.01  # move up only when the delta is below threshold - hysteresis
    adapt_every: int = 10  # treatment samples between two decisions (cooldown)
    bin_width: float = 0.05
    min_bin_samples: int = 8
    min_step: float = 0.001
    min_new_evidence: int = 4  # new answers in the compared bins before acting on them again
    min_label_samples: int = 30  # shadow comparisons near the boundary before they replace quality

    @property
    def n_bins(self) -> int:
        return max(1, round(1.0 / self.bin_width))

    @property
    def initial_step(self) -> float:
        return self.adaptation_strength * self.max_boundary_drift

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AdaptiveConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RouteStats:
    count: int = 0
    quality_sum: float = 0.0
    quality_sq_sum: float = 0.0
    latency_sum_ms: float = 0.0

    def add(self, quality: float, latency_ms: float) -> None:
        self.count += 1
        self.quality_sum += quality
        self.quality_sq_sum += quality * quality
        self.latency_sum_ms += latency_ms

    @property
    def mean_quality(self) -> float | None:
        return self.quality_sum / self.count if self.count else None

    @property
    def mean_latency_ms(self) -> float | None:
        return self.latency_sum_ms / self.count if self.count else None


@dataclass
class BucketState:
    boundary: float
    sample_count: int = 0
    errors: int = 0  # unanswered questions: counted as samples, kept out of the quality statistics
    routes: dict[str, RouteStats] = field(default_factory=lambda: {"main": RouteStats(), "embedder": RouteStats()})
    adaptations: int = 0
    # Controller memory: [count, quality_sum, quality_sq_sum] per score bin and route; step state.
    bins: dict[str, list[list[float]]] = field(default_factory=dict)
    step: float = 0.0
    last_direction: int = 0
    since_decision: int = 0
    last_evidence: int = 0  # answers in the compared bins at the last move
    last_bins: list[int] = field(default_factory=list)
    settled: bool = False  # the step shrank below min_step: the boundary has converged
    # Shadow-comparison labels: [count, agreement_sum, agreement_sq_sum] per score bin (both routes asked).
    labels: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"boundary": self.boundary, "sample_count": self.sample_count, "errors": self.errors,
                "routes": {name: asdict(stats) for name, stats in self.routes.items()},
                "adaptations": self.adaptations,
                "controller": {"step": self.step, "last_direction": self.last_direction,
                               "since_decision": self.since_decision, "last_evidence": self.last_evidence,
                               "last_bins": self.last_bins, "settled": self.settled, "bins": self.bins,
                               "labels": self.labels}}

    @classmethod
    def from_dict(cls, data: dict[str, Any], config: AdaptiveConfig) -> BucketState:
        controller = data.get("controller") or {}
        routes = {name: RouteStats(**{k: v for k, v in (data.get("routes") or {}).get(name, {}).items()
                                      if k in RouteStats.__dataclass_fields__})
                  for name in ("main", "embedder")}
        bucket = cls(boundary=float(data["boundary"]), sample_count=int(data.get("sample_count", 0)),
                     errors=int(data.get("errors", 0)), routes=routes,
                     adaptations=int(data.get("adaptations", 0)),
                     bins={k: [[float(x) for x in (list(b) + [0.0, 0.0, 0.0])[:3]] for b in v]
                           for k, v in (controller.get("bins") or {}).items()},
                     step=float(controller.get("step", config.initial_step)),
                     last_direction=int(controller.get("last_direction", 0)),
                     since_decision=int(controller.get("since_decision", 0)),
                     last_evidence=int(controller.get("last_evidence", 0)),
                     last_bins=[int(i) for i in controller.get("last_bins", [])],
                     settled=bool(controller.get("settled", False)),
                     labels=[[float(x) for x in (list(b) + [0.0, 0.0, 0.0])[:3]]
                             for b in controller.get("labels") or []])
        bucket.ensure_bins(config)
        return bucket

    def ensure_bins(self, config: AdaptiveConfig) -> None:
        for route in ("main", "embedder"):
            if len(self.bins.get(route, [])) != config.n_bins:
                self.bins[route] = [[0.0, 0.0, 0.0] for _ in range(config.n_bins)]
        if len(self.labels) != config.n_bins:
            self.labels = [[0.0, 0.0, 0.0] for _ in range(config.n_bins)]

    def clone(self) -> BucketState:
        """A deep copy, written out because copy.deepcopy costs about 1 ms per question here."""
        return BucketState(boundary=self.boundary, sample_count=self.sample_count, errors=self.errors,
                           routes={k: RouteStats(**asdict(v)) for k, v in self.routes.items()},
                           adaptations=self.adaptations,
                           bins={k: [list(cell) for cell in v] for k, v in self.bins.items()},
                           step=self.step, last_direction=self.last_direction,
                           since_decision=self.since_decision, last_evidence=self.last_evidence,
                           last_bins=list(self.last_bins), settled=self.settled,
                           labels=[list(cell) for cell in self.labels])


@dataclass
class AdaptiveState:
    experiment_seed: str
    config: AdaptiveConfig = field(default_factory=AdaptiveConfig)
    buckets: dict[str, BucketState] = field(default_factory=dict)
    version: int = 1
    hash_version: int = 1
    updated_at: str | None = None
    created_at: str | None = None

    @classmethod
    def fresh(cls, experiment_seed: str, config: AdaptiveConfig, now: str | None = None) -> AdaptiveState:
        buckets = {}
        for name in BUCKETS:
            bucket = BucketState(boundary=config.control_boundary, step=config.initial_step)
            bucket.ensure_bins(config)
            buckets[name] = bucket
        return cls(experiment_seed=experiment_seed, config=config, buckets=buckets,
                   updated_at=now, created_at=now)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "experiment_seed": self.experiment_seed,
                "hash_version": self.hash_version, "created_at": self.created_at,
                "updated_at": self.updated_at, "config": self.config.to_dict(),
                "buckets": {name: bucket.to_dict() for name, bucket in self.buckets.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any], config: AdaptiveConfig | None = None) -> AdaptiveState:
        """Rebuild a state; raises KeyError/TypeError/ValueError when the data is not a state."""
        config = config or AdaptiveConfig.from_dict(data.get("config"))
        buckets = {name: BucketState.from_dict(data["buckets"][name], config) for name in BUCKETS}
        return cls(experiment_seed=str(data["experiment_seed"]), config=config, buckets=buckets,
                   version=int(data.get("version", 1)), hash_version=int(data.get("hash_version", 1)),
                   updated_at=data.get("updated_at"), created_at=data.get("created_at"))

    def clone(self) -> AdaptiveState:
        return AdaptiveState(experiment_seed=self.experiment_seed, config=self.config,
                             buckets={k: v.clone() for k, v in self.buckets.items()}, version=self.version,
                             hash_version=self.hash_version, updated_at=self.updated_at,
                             created_at=self.created_at)

    def boundary_for(self, bucket: str, adaptive_enabled: bool = True) -> float:
        """The boundary a bucket routes with; with the kill switch on, treatment uses control's."""
        if bucket == "control" or not adaptive_enabled:
            return self.config.control_boundary
        return self.buckets[bucket].boundary

    @property
    def drift(self) -> float:
        return abs(self.buckets["treatment"].boundary - self.buckets["control"].boundary)


@dataclass(frozen=True)
class Observation:
    """One answer (its quality), or with `agreement` set, one shadow comparison's label: how far
    the embedder's final answer agreed with the main model's on the same question (not a sample)."""

    bucket: str
    route: str
    score: float
    quality: float
    latency_ms: float
    answered: bool = True
    agreement: float | None = None


@dataclass(frozen=True)
class Adaptation:
    bucket: str
    old_boundary: float
    new_boundary: float
    quality_delta: float
    latency_delta_ms: float | None
    samples: dict[str, int]
    reason: str
    evidence: str = "quality"  # "labels": shadow comparisons near the boundary; "quality": the score


VARIANCE_FLOOR = 0.05 ** 2


def bin_index(score: float, config: AdaptiveConfig) -> int:
    return min(config.n_bins - 1, max(0, int(score / config.bin_width)))


@dataclass(frozen=True)
class MarginalEstimate:
    delta: float  # main mean quality - embedder mean quality at the boundary
    se: float  # its standard error
    n_main: int
    n_embedder: int
    bins: list[int]  # [main bin, embedder bin]
    evidence: str = "quality"


def compute_label_delta(state: AdaptiveState, bucket: BucketState, config: AdaptiveConfig) -> MarginalEstimate | None:
    """1 - the embedder's mean agreement with main in shadow comparisons near the boundary (the bin
    below it, its own and the one above, both buckets' labels pooled: agreement is a property of the
    questions, not of the arm); None while fewer than min_label_samples labels are there."""
    k = bin_index(bucket.boundary, config)
    near = [i for i in (k - 1, k, k + 1) if 0 <= i < config.n_bins]
    count = total = squares = 0.0
    for other in state.buckets.values():
        for i in near:
            if i < len(other.labels):
                c, s, q = other.labels[i]
                count, total, squares = count + c, total + s, squares + q
    if count < config.min_label_samples:
        return None
    mean = total / count
    variance = max(VARIANCE_FLOOR, (squares - count * mean * mean) / max(1.0, count - 1))
    return MarginalEstimate(1.0 - mean, math.sqrt(variance / count), int(count), int(count), [near[0], near[-1]],
                            "labels")


def compute_marginal_delta(bucket: BucketState, config: AdaptiveConfig) -> MarginalEstimate | None:
    """Main minus embedder mean quality in the nearest score bins around the boundary.

    Main answers are looked for in the boundary's bin and the two above, embedder answers in the
    boundary's bin and the two below; None while either side has fewer than min_bin_samples.
    """
    k = bin_index(bucket.boundary, config)

    def nearest(route: str, direction: int) -> tuple[float, float, int, int] | None:
        for i in range(k, k + 3 * direction, direction):
            if 0 <= i < config.n_bins:
                count, total, squares = bucket.bins[route][i]
                if count >= config.min_bin_samples:
                    mean = total / count
                    # A variance floor keeps a few identical scores from looking certain.
                    variance = max(VARIANCE_FLOOR, (squares - count * mean * mean) / max(1.0, count - 1))
                    return mean, variance / count, int(count), i
        return None

    main, embedder = nearest("main", 1), nearest("embedder", -1)
    if main is None or embedder is None:
        return None
    return MarginalEstimate(main[0] - embedder[0], math.sqrt(main[1] + embedder[1]), main[2], embedder[2],
                            [main[3], embedder[3]])


def step(state: AdaptiveState, obs: Observation, *, adaptive_enabled: bool = True,
         now: str | None = None) -> tuple[AdaptiveState, Adaptation | None]:
    """Apply one observation; returns a new state and the adaptation it caused, if any. Pure."""
    new = state.clone()
    new.updated_at = now or state.updated_at
    config = new.config
    bucket = new.buckets[obs.bucket]
    if obs.agreement is not None:  # a label, not an answer: counted apart, no decision
        cell = bucket.labels[bin_index(obs.score, config)]
        agreement = max(0.0, min(1.0, obs.agreement))
        cell[0] += 1
        cell[1] += agreement
        cell[2] += agreement * agreement
        return new, None
    bucket.sample_count += 1
    if not obs.answered:
        bucket.errors += 1
        return new, None
    bucket.routes[obs.route].add(obs.quality, obs.latency_ms)
    cell = bucket.bins[obs.route][bin_index(obs.score, config)]
    cell[0] += 1
    cell[1] += obs.quality
    cell[2] += obs.quality * obs.quality
    if obs.bucket != "treatment" or not adaptive_enabled:
        return new, None
    bucket.since_decision += 1
    if bucket.sample_count < config.min_samples_before_adapt or bucket.since_decision < config.adapt_every:
        return new, None
    bucket.since_decision = 0
    estimate = compute_label_delta(new, bucket, config) or compute_marginal_delta(bucket, config)
    if estimate is None or bucket.settled:
        return new, None
    delta, se = estimate.delta, estimate.se
    threshold = config.quality_delta_threshold
    what = ("disagrees with main in {d:.1%} (+/- {s:.1%}) of {n} shadow comparisons" if estimate.evidence == "labels"
            else "is behind main in quality by {d:.3f} (+/- {s:.3f})")
    measured = what.format(d=delta, s=se, n=estimate.n_main)
    # Move only when the delta is clearly (one standard error) on one side of the band.
    if delta - se > threshold:
        direction = -1
        reason = f"embedder {measured} > {threshold:g} at the boundary: send more to the main model"
    elif delta + se < threshold - (0.0 if estimate.evidence == "labels" else config.hysteresis):
        direction = 1
        floor = threshold - (0.0 if estimate.evidence == "labels" else config.hysteresis)
        reason = (f"embedder {measured} < {floor:g} at the boundary: "
                  f"send less to the main model")
    else:
        return new, None
    # Act again on the same bins only once they hold new answers: no march on stale evidence.
    evidence = estimate.n_main + estimate.n_embedder
    if estimate.bins == bucket.last_bins and evidence < bucket.last_evidence + config.min_new_evidence:
        return new, None
    if bucket.last_direction and direction != bucket.last_direction:
        bucket.step /= 2  # damp every reversal; below min_step the boundary has settled
        if bucket.step < config.min_step:
            bucket.settled = True
            return new, None
    elif bucket.last_direction == direction:
        # Consistent evidence regains speed lost to an early, noisy reversal (capped at the first step).
        bucket.step = min(config.initial_step, bucket.step * 1.5)
    low = max(0.0, config.control_boundary - config.max_boundary_drift)
    high = min(1.0, config.control_boundary + config.max_boundary_drift)
    old = bucket.boundary
    target = round(min(high, max(low, old + direction * bucket.step)), 6)
    bucket.last_direction = direction
    if target == old:
        return new, None
    bucket.boundary = target
    bucket.adaptations += 1
    bucket.last_bins, bucket.last_evidence = estimate.bins, evidence
    main_lat, emb_lat = bucket.routes["main"].mean_latency_ms, bucket.routes["embedder"].mean_latency_ms
    latency_delta = main_lat - emb_lat if main_lat is not None and emb_lat is not None else None
    return new, Adaptation(
        bucket=obs.bucket, old_boundary=old, new_boundary=target, quality_delta=round(delta, 4),
        latency_delta_ms=None if latency_delta is None else round(latency_delta, 1),
        samples={"bucket": bucket.sample_count, "main_at_boundary": estimate.n_main,
                 "embedder_at_boundary": estimate.n_embedder,
                 "main": bucket.routes["main"].count, "embedder": bucket.routes["embedder"].count},
        reason=reason, evidence=estimate.evidence)
