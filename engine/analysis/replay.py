"""Off-policy replay of the logged traffic: what another router or boundary would have done, and the
labels a learned router trains on.

Every logged answer carries the chance its route had (`route_probability`: 1 - AIOS_EXPLORE_RATE for
the router's own choice, the rate for an explored one; absent in older logs, read as 1). A policy is
a router, a boundary and the same exploration rate; each answer is weighted by (the policy's chance of
the logged route) / (its logged chance), and estimates are self-normalised (weighted means), so the
log's own policy reproduces its own main share and mean quality exactly. Correctness uses shadow
comparisons first (both routes' outcome known: no weighting needed), then the weighted logged outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine import runbook
from engine.errors import InputError
from engine.provenance.reader import read_log
from engine.routing.learned import Label, LearnedRouter, load_model
from engine.routing.routers import Router, get_router

Z95 = 1.959963984540054
CURVE_POINTS = 21  # main shares 0, 0.05, ..., 1
BASELINES = ("complexity", "length")


# Reading -------------------------------------------------------------------------------------

def load_log_events(path: Path | str, *, include_archives: bool = False) -> list[dict[str, Any]]:
    """Response and comparison events of the log in use, the file or the PostgreSQL store (and, with
    `include_archives`, its rotated gzip archives beside it, oldest first). A missing log reads as
    empty. Raises StateError when the store cannot be read."""
    return read_log(path, event_types={"response", "comparison"}, include_archives=include_archives).events


def served_outcome(event: dict[str, Any]) -> bool:
    """Whether the served answer was right: the simulator's truth or a reference where known, else
    its quality at or above the pass floor (an error never passes)."""
    if event.get("error_code"):
        return False
    if event.get("sim_correct") is not None:
        return bool(event["sim_correct"])
    return float(event.get("quality") or 0.0) >= runbook.PASS_QUALITY


def _comparison_outcomes(comparison: dict[str, Any], served: dict[str, Any]) -> dict[str, bool] | None:
    """Both routes' outcome from a comparison: the simulator's truth where it has one, else the served
    answer's outcome and, for the other route, agreement with it (the main model taken as reference
    when it is the served one; the embedder right when it agrees with a right main answer)."""
    if comparison.get("shadow_error_code") or comparison.get("agreement") is None:
        return None
    served_route, shadow_route = comparison["served_route"], comparison["shadow_route"]
    if comparison.get("served_sim_correct") is not None and comparison.get("shadow_sim_correct") is not None:
        return {served_route: bool(comparison["served_sim_correct"]),
                shadow_route: bool(comparison["shadow_sim_correct"])}
    agree = float(comparison["agreement"]) >= runbook.PASS_QUALITY
    served_ok = served_outcome(served)
    if served_route == runbook.MAIN:
        return {runbook.MAIN: served_ok, runbook.EMBEDDER: served_ok and agree}
    # Embedder served: main is the reference; it is taken as right, the embedder right when they agree.
    return {runbook.MAIN: True, runbook.EMBEDDER: agree}


def _responses(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("event_type") == "response" and e.get("question")]


def _comparisons_by_message(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["message_id"]: e for e in events if e.get("event_type") == "comparison" and e.get("message_id")}


def compute_labels(events: Sequence[dict[str, Any]]) -> list[Label]:
    """A label per answered question: both outcomes from its comparison when it had one, else the
    served route's outcome. Answers the caller forced to a route count too (their outcome is real)."""
    comparisons = _comparisons_by_message(events)
    labels = []
    for event in _responses(events):
        route = event.get("route")
        if route not in runbook.ROUTES:
            continue
        both = None
        comparison = comparisons.get(event.get("message_id") or "")
        if comparison is not None:
            both = _comparison_outcomes(comparison, event)
        if both is not None:
            labels.append(Label(event["question"], event.get("trait") or "general", both[runbook.MAIN],
                                both[runbook.EMBEDDER], "comparison", route))
            continue
        outcome = served_outcome(event)
        source = "response:truth" if event.get("sim_correct") is not None else "response:quality"
        labels.append(Label(event["question"], event.get("trait") or "general",
                            outcome if route == runbook.MAIN else None,
                            outcome if route == runbook.EMBEDDER else None, source, route))
    return labels


# Replay --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    n: int  # answers (or comparisons) that carried weight


@dataclass(frozen=True)
class ReplayResult:
    router: str
    router_version: str | None
    boundary: float | None  # None: each answer's own logged boundary
    explore_rate: float
    main_share: float | None
    quality: Estimate
    accuracy: Estimate
    events: int             # response events replayed
    comparisons: int        # of which with both outcomes from a shadow comparison
    effective_sample_size: float
    logged_main_share: float | None
    logged_quality: float | None
    curves: dict[str, list[dict[str, float | None]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Logged:
    """The replayable part of a log: one row per routed answer, arrays aligned."""

    questions: list[str]
    traits: list[str]
    routers: list[str]
    versions: list[str | None]
    scores: np.ndarray          # the logged router's score
    boundaries: np.ndarray      # the logged boundary
    main: np.ndarray            # logged route is main
    probability: np.ndarray     # the logged route's chance
    quality: np.ndarray
    outcome: np.ndarray         # served outcome (bool)
    both: list[dict[str, bool] | None]
    explore_rate: float
    # `both` as arrays, so a policy is weighed without a Python loop per answer.
    has_both: np.ndarray = field(init=False, repr=False)
    both_main: np.ndarray = field(init=False, repr=False)
    both_embedder: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        has = np.array([b is not None for b in self.both], dtype=bool)
        main = np.zeros(len(self.both), dtype=bool)
        embedder = np.zeros(len(self.both), dtype=bool)
        for i in np.flatnonzero(has):
            main[i] = self.both[i][runbook.MAIN]  # type: ignore[index]
            embedder[i] = self.both[i][runbook.EMBEDDER]  # type: ignore[index]
        object.__setattr__(self, "has_both", has)
        object.__setattr__(self, "both_main", main)
        object.__setattr__(self, "both_embedder", embedder)


def compute_logged(events: Sequence[dict[str, Any]]) -> Logged:
    """The answers a router routed (forced routes and goldens excluded: no router chose them)."""
    comparisons = _comparisons_by_message(events)
    rows = [e for e in _responses(events)
            if not e.get("route_forced") and e.get("origin") != "golden" and e.get("route") in runbook.ROUTES]
    probability = np.array([float(e["route_probability"]) if e.get("route_probability") is not None else 1.0
                            for e in rows], dtype=float)
    rates = [1.0 - p for e, p in zip(rows, probability, strict=True) if not e.get("explored") and p < 1.0]
    both = []
    for e in rows:
        comparison = comparisons.get(e.get("message_id") or "")
        both.append(_comparison_outcomes(comparison, e) if comparison is not None else None)
    return Logged(
        questions=[e["question"] for e in rows], traits=[e.get("trait") or "general" for e in rows],
        routers=[e.get("router") or "complexity" for e in rows], versions=[e.get("router_version") for e in rows],
        scores=np.array([float(e.get("complexity") or 0.0) for e in rows], dtype=float),
        boundaries=np.array([float(e.get("boundary") or runbook.CONTROL_BOUNDARY) for e in rows], dtype=float),
        main=np.array([e["route"] == runbook.MAIN for e in rows], dtype=bool), probability=probability,
        quality=np.array([float(e.get("quality") or 0.0) for e in rows], dtype=float),
        outcome=np.array([served_outcome(e) for e in rows], dtype=bool), both=both,
        explore_rate=float(np.median(rates)) if rates else 0.0)


# What load_logged scans: the response fields compute_logged reads, and a comparison's outcome fields.
_RESPONSE_FIELDS = ("message_id", "question", "trait", "router", "router_version", "complexity", "boundary",
                    "route", "route_probability", "explored", "route_forced", "origin", "quality", "sim_correct",
                    "error_code")
_COMPARISON_FIELDS = ("message_id", "served_route", "shadow_route", "agreement", "shadow_error_code",
                      "served_sim_correct", "shadow_sim_correct")


def load_logged(path: Path | str) -> Logged:
    """compute_logged(load_log_events(path)) without a dict per event: one DuckDB scan of the fields a
    replay needs (a 1M-event log in seconds, where the JSON reader takes half a minute and gigabytes).
    Comparisons are few (the shadow rate) and keep their dicts. A missing log reads as empty."""
    from engine.provenance.reader import log_scan_file

    fields = sorted({*_RESPONSE_FIELDS, *_COMPARISON_FIELDS, "event_type"})
    routes = ", ".join(f"'{route}'" for route in runbook.ROUTES)
    # On the store, only the events this scan reads go into its file (a response's hypotheses stay out).
    with log_scan_file(path, event_types={"response", "comparison"}) as source:
        if not source.exists() or not source.stat().st_size:
            return compute_logged([])
        rows, comparisons = _scan_replay_fields(source, fields, routes)
    return _logged_from_columns(rows, comparisons)


def _scan_replay_fields(source: Path, fields: list[str], routes: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(response columns as numpy arrays, the last comparison of each message as a dict)."""
    from engine.analysis.store import connect, scan_log

    con = connect()
    try:
        # Events written before event_type existed were responses (the reader's default).
        con.execute(f"CREATE TEMP VIEW log AS SELECT * REPLACE (COALESCE(event_type, 'response') AS event_type) "
                    f"FROM {scan_log(source, fields)}")
        rows = con.execute(
            f"SELECT {', '.join(_RESPONSE_FIELDS)} FROM log WHERE event_type = 'response' "
            f"AND COALESCE(question, '') <> '' AND NOT COALESCE(route_forced, false) "
            f"AND origin IS DISTINCT FROM 'golden' AND route IN ({routes})").fetchnumpy()
        # The last comparison of a message wins, as in a dict built in log order.
        comparisons = {row[0]: dict(zip(_COMPARISON_FIELDS, row, strict=True)) for row in con.execute(
            f"SELECT {', '.join(_COMPARISON_FIELDS)} FROM log WHERE event_type = 'comparison' "
            f"AND COALESCE(message_id, '') <> ''").fetchall()}
    finally:
        con.close()
    return rows, comparisons


def _logged_from_columns(rows: dict[str, Any], comparisons: dict[str, Any]) -> Logged:
    """Logged from load_logged's columns, reading each value as compute_logged reads it from a dict."""

    def texts(name: str) -> list[Any]:
        values = rows[name]
        if np.ma.isMaskedArray(values):  # filled(None) would fill with the array's own fill value
            data = np.ma.getdata(values).astype(object)
            data[np.ma.getmaskarray(values)] = None
            return list(data)
        return list(values)

    def numbers(name: str, default: float, zero_is_missing: bool = True) -> np.ndarray:
        # float(value or default) for the boundary, complexity and quality; value-or-default for the chance.
        values = rows[name]
        data = np.asarray(np.ma.getdata(values), dtype=float)
        missing = np.ma.getmaskarray(values) | ((data == 0) if zero_is_missing else False)
        return np.where(missing, default, data)

    def flags(name: str) -> tuple[np.ndarray, np.ndarray]:
        """(value, known) of a boolean field."""
        values = rows[name]
        known = ~np.ma.getmaskarray(values)
        return np.asarray(np.ma.getdata(values), dtype=bool) & known, known

    questions = [str(q) for q in texts("question")]
    probability = numbers("route_probability", 1.0, zero_is_missing=False)
    explored, _ = flags("explored")
    quality = numbers("quality", 0.0)
    error_codes = texts("error_code")
    error = np.array([bool(code) for code in error_codes], dtype=bool)
    truth, truth_known = flags("sim_correct")
    outcome = ~error & np.where(truth_known, truth, quality >= runbook.PASS_QUALITY)
    both: list[dict[str, bool] | None] = [None] * len(questions)
    if comparisons:
        for i, message_id in enumerate(texts("message_id")):
            comparison = comparisons.get(message_id or "")
            if comparison is not None:
                served = {"error_code": error_codes[i], "sim_correct": bool(truth[i]) if truth_known[i] else None,
                          "quality": float(quality[i])}
                both[i] = _comparison_outcomes(comparison, served)
    rates = (1.0 - probability)[~explored & (probability < 1.0)]
    return Logged(
        questions=questions, traits=[t or "general" for t in texts("trait")],
        routers=[r or "complexity" for r in texts("router")], versions=texts("router_version"),
        scores=numbers("complexity", 0.0), boundaries=numbers("boundary", runbook.CONTROL_BOUNDARY),
        main=np.array([r == runbook.MAIN for r in texts("route")], dtype=bool), probability=probability,
        quality=quality, outcome=np.asarray(outcome, dtype=bool), both=both,
        explore_rate=float(np.median(rates)) if len(rates) else 0.0)


def compute_scores(logged: Logged, router: Router) -> np.ndarray:
    """The router's score per logged answer: the logged score where the same router (and model
    version) routed it, so the log's own policy replays exactly; otherwise scored afresh."""
    same = np.fromiter((name == router.name and version == router.version
                        for name, version in zip(logged.routers, logged.versions, strict=True)),
                       dtype=bool, count=len(logged.routers))
    out = np.where(same, logged.scores, 0.0) if len(same) else np.empty(0)
    for i in np.flatnonzero(~same):
        out[i] = router.score(logged.questions[i], logged.traits[i])
    return out


def _ratio(values: np.ndarray, weights: np.ndarray) -> Estimate:
    """Self-normalised weighted mean with a 95 % normal interval (delta method)."""
    total = float(weights.sum())
    n = int(np.count_nonzero(weights))
    if total <= 0:
        return Estimate(None, None, None, 0)
    mean = float((weights * values).sum() / total)
    se = math.sqrt(float(((weights * (values - mean)) ** 2).sum())) / total
    return Estimate(round(mean, 6), round(max(0.0, mean - Z95 * se), 6), round(min(1.0, mean + Z95 * se), 6), n)


def compute_policy(logged: Logged, scores: np.ndarray, boundary: float | np.ndarray,
                   explore_rate: float) -> tuple[float | None, Estimate, Estimate, float, int]:
    """(main share, quality, accuracy, effective sample size, comparisons used) of the policy
    "main when score >= boundary, the other route with chance explore_rate"."""
    if len(scores) == 0:
        empty = Estimate(None, None, None, 0)
        return None, empty, empty, 0.0, 0
    decide_main = scores >= boundary
    target = np.where(logged.main == decide_main, 1.0 - explore_rate, explore_rate)
    weights = target / logged.probability
    share = float((weights * logged.main).sum() / weights.sum()) if weights.sum() > 0 else None
    quality = _ratio(logged.quality, weights)
    # Accuracy: compared answers contribute the policy's expected outcome directly (weight 1).
    chosen = np.where(decide_main, logged.both_main, logged.both_embedder)
    other = np.where(decide_main, logged.both_embedder, logged.both_main)
    expected = (1.0 - explore_rate) * chosen + explore_rate * other
    values = np.where(logged.has_both, expected, logged.outcome.astype(float))
    acc_weights = np.where(logged.has_both, 1.0, weights)
    compared = int(np.count_nonzero(logged.has_both))
    accuracy = _ratio(values, acc_weights)
    ess = float(weights.sum() ** 2 / (weights ** 2).sum()) if (weights ** 2).sum() > 0 else 0.0
    return (round(share, 6) if share is not None else None), quality, accuracy, round(ess, 1), compared


def boundary_for_share(scores: np.ndarray, share: float, explore_rate: float = 0.0) -> float:
    """The boundary at which `share` of answers go to main, counting exploration (which sends
    explore_rate of the router's embedder answers to main and the reverse)."""
    if not 0.0 <= share <= 1.0:
        raise InputError(f"option --target-main-share: must be in [0, 1], got {share}")
    if len(scores) == 0:
        return runbook.CONTROL_BOUNDARY
    deterministic = share if explore_rate <= 0 else (share - explore_rate) / (1.0 - 2.0 * explore_rate)
    deterministic = min(1.0, max(0.0, deterministic))
    return _closest_boundary(_share_candidates(scores), deterministic)


def _share_candidates(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(candidate boundaries, the share each sends to main): every distinct score, and one above the
    highest (nothing to main). Ties always go the same way, so the closest achievable share is
    chosen, never a split tie."""
    candidates = np.append(np.unique(scores), float(np.max(scores)) + 1e-6)
    shares = 1.0 - np.searchsorted(np.sort(scores), candidates, side="left") / len(scores)
    return candidates, shares


def _closest_boundary(candidates: tuple[np.ndarray, np.ndarray], share: float) -> float:
    boundaries, shares = candidates
    return float(boundaries[int(np.argmin(np.abs(shares - share)))])


def compute_curve(logged: Logged, scores: np.ndarray, explore_rate: float,
                  points: int = CURVE_POINTS) -> list[dict[str, float | None]]:
    """Estimated quality and accuracy against main share, over boundaries at score quantiles."""
    curve = []
    candidates = _share_candidates(scores) if len(scores) else None
    for target in np.linspace(0.0, 1.0, points):
        # boundary_for_share(scores, target, 0.0), the candidates sorted once for all points.
        boundary = (runbook.CONTROL_BOUNDARY if candidates is None
                    else _closest_boundary(candidates, min(1.0, max(0.0, float(target)))))
        share, quality, accuracy, _, _ = compute_policy(logged, scores, boundary, explore_rate)
        curve.append({"boundary": round(boundary, 6), "main_share": share, "quality": quality.value,
                      "quality_low": quality.low, "quality_high": quality.high, "accuracy": accuracy.value})
    return curve


def resolve_replay_router(name: str | None, model: Path | str | None, logged: Logged) -> Router:
    """The router to replay: a registered name, or "learned" with its model (InputError when the
    model is unusable: here, unlike in the loop, the caller asked for that model). Default: the
    router most of the log used."""
    if name is None:
        name = max(set(logged.routers), key=logged.routers.count) if logged.routers else "complexity"
        if name == "learned" and model is None:
            name = "complexity"
    if name == "learned":
        if model is None:
            raise InputError("option --model: the learned router needs a model (train-router --out)")
        return LearnedRouter(load_model(model))
    return get_router(name)


def _prepare(events: Sequence[dict[str, Any]], router: str | None, model: Path | str | None,
             explore_rate: float | None, verb: str) -> tuple[Logged, Router, float, np.ndarray]:
    """The logged answers, the router to replay, the exploration rate and its scores (replay and optimize
    alike); InputError when the log has no routed answers."""
    logged = compute_logged(events)
    if not logged.questions:
        raise InputError(f"the log has no routed answers to {verb} (run ask, simulate or the gateway first)")
    chosen = resolve_replay_router(router, model, logged)
    rate = logged.explore_rate if explore_rate is None else explore_rate
    return logged, chosen, rate, compute_scores(logged, chosen)


def compute_replay(events: Sequence[dict[str, Any]], *, router: str | None = None, model: Path | str | None = None,
                   boundary: float | None = None, target_main_share: float | None = None,
                   explore_rate: float | None = None, curves: bool = True) -> ReplayResult:
    """Replay the policy (router, boundary or target main share) on the logged answers. Without a
    boundary or share: each answer's own logged boundary (the log's own policy). InputError when the
    log has no routed answers or both a boundary and a share are given."""
    if boundary is not None and target_main_share is not None:
        raise InputError("options --boundary and --target-main-share: give one, not both")
    logged, chosen, rate, scores = _prepare(events, router, model, explore_rate, "replay")
    if target_main_share is not None:
        boundary = boundary_for_share(scores, target_main_share, rate)
    where: float | np.ndarray = logged.boundaries if boundary is None else boundary
    share, quality, accuracy, ess, compared = compute_policy(logged, scores, where, rate)
    out_curves: dict[str, list[dict[str, float | None]]] = {}
    if curves:
        out_curves[chosen.name] = compute_curve(logged, scores, rate)
        for name in BASELINES:
            if name != chosen.name:
                out_curves[name] = compute_curve(logged, compute_scores(logged, get_router(name)), rate)
    return ReplayResult(
        router=chosen.name, router_version=chosen.version,
        boundary=None if boundary is None else round(float(boundary), 6), explore_rate=round(rate, 6),
        main_share=share, quality=quality, accuracy=accuracy, events=len(logged.questions), comparisons=compared,
        effective_sample_size=ess, logged_main_share=round(float(logged.main.mean()), 6),
        logged_quality=round(float(logged.quality.mean()), 6), curves=out_curves)


# Optimize ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OptimizeResult:
    goal: str
    router: str
    router_version: str | None
    boundary: float
    replay: ReplayResult
    reference_quality: float | None  # the all-main estimate a quality-loss goal is measured from

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["replay"] = self.replay.to_dict()
        return out


def compute_optimize(events: Sequence[dict[str, Any]], *, target_main_share: float | None = None,
                     max_quality_loss: float | None = None, router: str | None = None,
                     model: Path | str | None = None, explore_rate: float | None = None) -> OptimizeResult:
    """The boundary that meets one goal on the logged traffic: a main share (counting exploration), or
    the lowest main share whose estimated quality is within `max_quality_loss` of sending all to main.
    InputError when neither or both goals are given."""
    if (target_main_share is None) == (max_quality_loss is None):
        raise InputError("give exactly one goal: --target-main-share S or --max-quality-loss D")
    logged, chosen, rate, scores = _prepare(events, router, model, explore_rate, "optimize on")
    reference = None
    if target_main_share is not None:
        boundary = boundary_for_share(scores, target_main_share, rate)
        goal = f"main share {target_main_share:.3f}"
    else:
        assert max_quality_loss is not None
        if max_quality_loss < 0:
            raise InputError(f"option --max-quality-loss: must be >= 0, got {max_quality_loss}")
        reference = compute_policy(logged, scores, -math.inf, rate)[1].value
        boundary = -math.inf
        # Raise the boundary (fewer main answers) while the estimate stays within the allowed loss.
        for candidate in np.unique(np.quantile(scores, np.linspace(0.0, 1.0, 101))):
            estimate = compute_policy(logged, scores, float(candidate), rate)[1].value
            if reference is not None and estimate is not None and estimate >= reference - max_quality_loss:
                boundary = float(candidate)
        boundary = boundary if math.isfinite(boundary) else float(np.min(scores))
        goal = f"quality loss <= {max_quality_loss:.3f}"
    replay = compute_replay(events, router=chosen.name if chosen.name != "learned" else "learned", model=model,
                            boundary=boundary, explore_rate=rate, curves=False)
    return OptimizeResult(goal=goal, router=chosen.name, router_version=chosen.version, boundary=round(boundary, 6),
                          replay=replay, reference_quality=reference)


# What the dashboard's Routing page shows ------------------------------------------------------

def compute_replay_view(events: Sequence[dict[str, Any]], boundaries: dict[str, float],
                        model: Path | str | None = None) -> dict[str, Any]:
    """The replay curves (quality against main share) of complexity, length and, with a usable model,
    the learned router on the logged traffic, and each bucket's boundary in use as a point on the
    curve of the router the log used. Empty lists when the log has no routed answers."""
    return compute_replay_view_logged(compute_logged(events), boundaries, model)


def compute_replay_view_logged(logged: Logged, boundaries: dict[str, float],
                               model: Path | str | None = None) -> dict[str, Any]:
    """compute_replay_view on answers already read (load_logged reads a large log without dicts)."""
    if not logged.questions:
        return {"curves": [], "marks": [], "router": None}
    rate = logged.explore_rate
    routers: list[Router] = [get_router(name) for name in BASELINES]
    if model is not None:
        try:
            routers.append(LearnedRouter(load_model(model)))
        except InputError:
            pass  # no model trained yet (or unusable): the page shows the two baselines
    curves = []
    for router in routers:
        for point in compute_curve(logged, compute_scores(logged, router), rate):
            curves.append({"router": router.name, **point})
    used = resolve_replay_router(None, model, logged)
    scores = compute_scores(logged, used)
    marks = []
    for bucket, boundary in sorted(boundaries.items()):
        share, quality, _, _, _ = compute_policy(logged, scores, boundary, rate)
        marks.append({"router": used.name, "bucket": bucket, "boundary": boundary, "main_share": share,
                      "quality": quality.value})
    return {"curves": curves, "marks": marks, "router": used.name}


def train_router_from_log(path: Path | str, out: Path | str, *, include_archives: bool = False,
                          target_main_share: float | None = None) -> dict[str, Any]:
    """Train the learned router on the log's labels, save it to `out`, and return its summary (what
    it learned from and its held-out estimate). InputError when a route has too few labels."""
    from engine.routing.training import train_router

    return train_router(compute_labels(load_log_events(path, include_archives=include_archives)), out,
                        target_main_share=target_main_share)
