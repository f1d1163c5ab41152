"""Every figure the dashboard, the CLI and the A/B report show, computed from the EventStore with DuckDB.

Each `compute_*` takes an up-to-date store and the sidebar's `Filters` and returns a DataFrame or a
typed result; one function per figure. Also the boundaries of the typed adaptive state and the
drift band the Routing page draws around them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from engine.analysis.stats import compute_pass_rate
from engine.analysis.store import EventStore, Filters
from engine.errors import InputError
from engine.routing.adaptive import AdaptiveState
from engine.routing.state import StateFormatError, parse_state, read_state_file
from engine.runbook import (
    CONTROL,
    CONTROL_BOUNDARY,
    MAIN,
    MAX_BOUNDARY_DRIFT,
    PASS_QUALITY,
    RED_FLAG_DRIFT,
    RED_FLAG_ONE_MODEL_SHARE,
    RED_FLAG_P95_LATENCY_MS,
    RED_FLAG_PASS_RATE,
    TREATMENT,
    UNKNOWN_SOURCE,
)

# Runbook 004: boundary drift SLO (one definition, the SLO check's) and the "runaway
# adaptation" red flag.
DRIFT_SLO = MAX_BOUNDARY_DRIFT
DRIFT_RED_FLAG = RED_FLAG_DRIFT

# Trend bin widths in seconds; the smallest that gives at most MAX_BINS bins is used.
BIN_CHOICES = (1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)
MAX_BINS = 60

# A response passes when a model answered (source_kind is its route) and its quality reaches the
# floor: one definition for the headline, the trends and the A/B report's pass-rate metric.
PASSED_SQL = f"source_kind <> 'unknown' AND quality >= {PASS_QUALITY}"


def _where(filters: Filters, event_type: str, **kwargs: bool) -> tuple[str, list[Any]]:
    """The WHERE condition (and its parameters) for one event type under `filters`; `trait=False`
    or `route=False` for event types that do not carry them."""
    sql, params = filters.clauses(**kwargs)
    return " AND ".join([f"event_type = '{event_type}'", *sql]), params


def compute_bin_width(span_seconds: float, max_bins: int = MAX_BINS) -> int:
    """The smallest bin width of BIN_CHOICES that covers `span_seconds` in at most `max_bins` bins."""
    for width in BIN_CHOICES:
        if span_seconds / width <= max_bins:
            return width
    return BIN_CHOICES[-1]


def compute_bin_seconds(store: EventStore, filters: Filters, event_type: str = "response",
                        **clauses: bool) -> int:
    """The trend bin width for the filtered events of one type: at most MAX_BINS bins over their span."""
    where, params = _where(filters, event_type, **clauses)
    lo, hi = store.rows(f"SELECT epoch(min(ts)), epoch(max(ts)) FROM events WHERE {where}", params)[0]
    if lo is None or hi is None:
        return BIN_CHOICES[0]
    return compute_bin_width(float(hi) - float(lo))


def _bin_expr(seconds: int) -> str:
    return f"time_bucket(INTERVAL '{int(seconds)} seconds', ts)"


def compute_filter_options(store: EventStore) -> dict[str, list[str]]:
    """The traits, buckets and routes present in the log, for the sidebar's filter choices."""
    out = {}
    for column in ("trait", "bucket", "route"):
        frame = store.query(f"SELECT DISTINCT {column} AS v FROM events WHERE event_type = 'response' "
                            f"AND {column} IS NOT NULL ORDER BY 1")
        out[column] = [str(v) for v in frame["v"]]
    return out


def compute_response_count(store: EventStore) -> int:
    """Answers (response events) in the whole log."""
    return int(store.scalar("SELECT count(*) FROM events WHERE event_type = 'response'") or 0)


def compute_event_counts(store: EventStore) -> pd.DataFrame:
    """Events per type in the whole log: columns event_type, events."""
    return store.query("SELECT event_type, count(*) AS events FROM events GROUP BY 1 ORDER BY 2 DESC, 1")


def compute_bucket_split(store: EventStore, filters: Filters) -> pd.DataFrame:
    """A/B split of responses: columns bucket, events, share (of the filtered total)."""
    where, params = _where(filters, "response")
    return store.query(
        f"""SELECT bucket, count(*) AS events,
                   count(*) / sum(count(*)) OVER () AS share
            FROM events WHERE {where} GROUP BY bucket ORDER BY bucket""", params)


def compute_routing_sources(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Who answered (main / embedder / unknown), overall (bucket "all") and per bucket.

    Columns bucket, source, events, share (within the bucket).
    """
    where, params = _where(filters, "response")
    return store.query(
        f"""WITH counted AS (
                SELECT COALESCE(bucket, 'all') AS bucket, source_kind AS source, count(*) AS events
                FROM events WHERE {where}
                GROUP BY GROUPING SETS ((bucket, source_kind), (source_kind)))
            SELECT bucket, source, events,
                   events / sum(events) OVER (PARTITION BY bucket) AS share
            FROM counted
            ORDER BY CASE WHEN bucket = 'all' THEN 0 ELSE 1 END, bucket,
                     CASE source WHEN 'main' THEN 0 WHEN 'embedder' THEN 1 ELSE 2 END""", params)


HEADLINE_SQL = f"""
    count(*) AS events,
    avg(CASE WHEN {PASSED_SQL} THEN 1.0 ELSE 0.0 END) AS pass_rate,
    avg(quality) AS mean_quality,
    quantile_cont(latency_ms, 0.5) AS p50_latency_ms,
    quantile_cont(latency_ms, 0.95) AS p95_latency_ms
"""


@dataclass
class Headline:
    """Overview's headline figures with a per-bin trend of each (DataFrame with column t)."""

    events: int
    pass_rate: float | None
    mean_quality: float | None
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    bin_seconds: int
    trend: pd.DataFrame = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "pass_rate": self.pass_rate, "mean_quality": self.mean_quality,
                "p50_latency_ms": self.p50_latency_ms, "p95_latency_ms": self.p95_latency_ms}


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return float(value)


def compute_headline(store: EventStore, filters: Filters) -> Headline:
    """Events, pass rate, mean quality, p50/p95 latency of the filtered responses, with trends."""
    where, params = _where(filters, "response")
    total = store.query(f"SELECT {HEADLINE_SQL} FROM events WHERE {where}", params).iloc[0]
    width = compute_bin_seconds(store, filters)
    trend = store.query(
        f"SELECT {_bin_expr(width)} AS t, {HEADLINE_SQL} FROM events "
        f"WHERE {where} AND ts IS NOT NULL GROUP BY t ORDER BY t", params)
    return Headline(events=int(total["events"]), pass_rate=_num(total["pass_rate"]),
                    mean_quality=_num(total["mean_quality"]),
                    p50_latency_ms=_num(total["p50_latency_ms"]),
                    p95_latency_ms=_num(total["p95_latency_ms"]), bin_seconds=width, trend=trend)


def compute_pass_rate_over_time(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Pass rate and mean quality per time bin and bucket: columns t, bucket, events, pass_rate, mean_quality."""
    where, params = _where(filters, "response")
    width = compute_bin_seconds(store, filters)
    return store.query(
        f"""SELECT {_bin_expr(width)} AS t, bucket, {HEADLINE_SQL}
            FROM events WHERE {where} AND ts IS NOT NULL GROUP BY t, bucket ORDER BY t, bucket""", params)


def compute_quality_by_bucket_route(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Quality metrics per bucket and route: events, pass_rate, mean/p10/p50 quality, latency."""
    where, params = _where(filters, "response")
    return store.query(
        f"""SELECT bucket, route, {HEADLINE_SQL},
                   quantile_cont(quality, 0.1) AS p10_quality,
                   quantile_cont(quality, 0.5) AS median_quality,
                   avg(latency_ms) AS mean_latency_ms
            FROM events WHERE {where} GROUP BY bucket, route ORDER BY bucket, route""", params)


def compute_boundary_over_time(store: EventStore, filters: Filters) -> pd.DataFrame:
    """The boundary each bucket routed with, per time bin (its last value in the bin).

    Columns t, bucket, boundary, drift (|boundary - control boundary in the same bin|, NaN if
    control has no event in that bin), events (answers in the bin). The bins are those of
    compute_boundary_bin_seconds (the route filter does not apply: a boundary serves both routes).
    """
    where, params = _where(filters, "response", route=False)
    width = compute_boundary_bin_seconds(store, filters)
    return store.query(
        f"""WITH b AS (
                SELECT {_bin_expr(width)} AS t, bucket, arg_max(boundary, ts) AS boundary, count(*) AS events
                FROM events WHERE {where} AND ts IS NOT NULL AND boundary IS NOT NULL
                GROUP BY t, bucket)
            SELECT b.t, b.bucket, b.boundary, abs(b.boundary - c.boundary) AS drift, b.events
            FROM b LEFT JOIN b AS c ON c.t = b.t AND c.bucket = 'control'
            ORDER BY b.t, b.bucket""", params)


def compute_boundary_bin_seconds(store: EventStore, filters: Filters) -> int:
    """The bin width of the boundary over time: the answers' span without the route filter."""
    return compute_bin_seconds(store, replace(filters, route=None))


def compute_boundary_trend(store: EventStore, filters: Filters) -> pd.DataFrame:
    """compute_boundary_over_time ready to draw: a blank row in every gap of missing bins per bucket,
    so the step line breaks there instead of holding across a time without answers. No bin is
    blanked for its count: one answer already tells the boundary it was routed with."""
    return compute_trend_display(compute_boundary_over_time(store, filters),
                                 compute_boundary_bin_seconds(store, filters), ["boundary", "drift"],
                                 group_columns=["bucket"], min_count=1)


def compute_complexity_quality(store: EventStore, filters: Filters, limit: int = 5000) -> pd.DataFrame:
    """Complexity against quality per response (a reproducible sample of at most `limit`).

    Columns complexity, quality, route, bucket.
    """
    where, params = _where(filters, "response")
    total = store.scalar(f"SELECT count(*) FROM events WHERE {where}", params) or 0
    sample = f"USING SAMPLE reservoir({int(limit)} ROWS) REPEATABLE (7)" if total > limit else ""
    return store.query(
        f"""SELECT complexity, quality, route, bucket FROM
              (SELECT complexity, quality, route, bucket FROM events
               WHERE {where} AND complexity IS NOT NULL AND quality IS NOT NULL) {sample}""", params)


def compute_current_boundaries(store: EventStore, filters: Filters) -> dict[str, float]:
    """The latest boundary each bucket routed with (within the filters), by bucket."""
    where, params = _where(filters, "response", route=False)
    frame = store.query(
        f"SELECT bucket, arg_max(boundary, ts) AS boundary FROM events "
        f"WHERE {where} AND boundary IS NOT NULL AND bucket IS NOT NULL GROUP BY bucket ORDER BY bucket",
        params)
    return {str(row.bucket): float(row.boundary) for row in frame.itertuples()}


def compute_routing_split_over_time(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Share of responses per route, per time bin and bucket: columns t, bucket, route, events, share."""
    where, params = _where(filters, "response")
    width = compute_bin_seconds(store, filters)
    return store.query(
        f"""SELECT t, bucket, route, events, events / sum(events) OVER (PARTITION BY t, bucket) AS share
            FROM (SELECT {_bin_expr(width)} AS t, bucket, route, count(*) AS events
                  FROM events WHERE {where} AND ts IS NOT NULL GROUP BY ALL)
            ORDER BY t, bucket, route""", params)


def compute_adaptations(store: EventStore, filters: Filters, limit: int = 500) -> pd.DataFrame:
    """The latest adaptation events, newest first, with their reasons."""
    where, params = _where(filters, "adaptation", trait=False, route=False)
    return store.query(
        f"""SELECT ts, bucket, old_boundary, new_boundary, new_boundary - old_boundary AS change,
                   reason, quality_delta, latency_delta_ms, samples, evidence
            FROM events WHERE {where} ORDER BY ts DESC NULLS LAST LIMIT {int(limit)}""", params)


HYPOTHESIS_COLUMNS = ["hypothesis_id", "checks", "passed", "failed", "errors", "pass_rate",
                      "ci_low", "ci_high", "last_error"]
TREND_COLUMNS = ["bin_start", "hypothesis_id", "checks", "passed", "failed", "errors", "pass_rate"]
_CHECK_COUNTS = """count(*) AS checks,
                   count(*) FILTER (WHERE passed) AS passed,
                   count(*) FILTER (WHERE NOT passed) AS failed,
                   count(*) FILTER (WHERE passed IS NULL) AS errors"""


def compute_hypothesis_pass_rates(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Per hypothesis: checks, passed, failed, errors (passed is null: the check raised or returned
    garbage), pass_rate = passed / (passed + failed) with its Wilson interval (ci_low, ci_high; None
    when nothing was decided) and the last error message a broken hypothesis reported (or None)."""
    where, params = _where(filters, "hypothesis", trait=False)
    frame = store.query(
        f"""SELECT hypothesis_id, {_CHECK_COUNTS},
                   arg_max(error, ts) FILTER (WHERE error IS NOT NULL) AS last_error
            FROM events WHERE {where} AND hypothesis_id IS NOT NULL
            GROUP BY hypothesis_id ORDER BY hypothesis_id""", params)
    rates = [compute_pass_rate(int(p), int(p) + int(f)) for p, f in zip(frame["passed"], frame["failed"])]
    frame["pass_rate"] = pd.Series([r.rate for r in rates], index=frame.index, dtype=object)
    frame["ci_low"] = pd.Series([r.ci[0] if r.ci else None for r in rates], index=frame.index, dtype=object)
    frame["ci_high"] = pd.Series([r.ci[1] if r.ci else None for r in rates], index=frame.index, dtype=object)
    frame["last_error"] = frame["last_error"].astype(object).where(frame["last_error"].notna(), None)
    return frame[HYPOTHESIS_COLUMNS]


def compute_hypothesis_trends(store: EventStore, filters: Filters, bin_seconds: int | None = None) -> pd.DataFrame:
    """Pass rate per time bin and hypothesis: columns bin_start (UTC), hypothesis_id, checks, passed,
    failed, errors, pass_rate (passed / (passed + failed); None when only errors).

    `bin_seconds` None picks the width as every trend does (at most MAX_BINS bins over the checks'
    span); raises InputError when it is not positive.
    """
    if bin_seconds is None:
        bin_seconds = compute_bin_seconds(store, filters, "hypothesis", trait=False)
    if bin_seconds <= 0:
        raise InputError(f"bin_seconds must be positive, got {bin_seconds}")
    where, params = _where(filters, "hypothesis", trait=False)
    frame = store.query(
        f"""SELECT {_bin_expr(bin_seconds)} AS bin_start, hypothesis_id, {_CHECK_COUNTS}
            FROM events WHERE {where} AND hypothesis_id IS NOT NULL AND ts IS NOT NULL
            GROUP BY ALL ORDER BY bin_start, hypothesis_id""", params)
    decided = frame["passed"] + frame["failed"]
    frame["pass_rate"] = (frame["passed"] / decided.where(decided > 0)).astype(object)
    frame.loc[decided == 0, "pass_rate"] = None
    return frame[TREND_COLUMNS]


# ---- the adaptive state's boundaries ---------------------------------------------------------

def load_adaptive_state(path: Path) -> dict[str, Any] | None:
    """The adaptive state document as the file holds it (the Settings page's raw view), once the
    typed reader has accepted it; None when missing. Raises InputError with the reader's reason
    (naming the file and the field) when the file holds no usable state. Figures take the typed
    state instead: engine.routing.state.read_state."""
    found = read_state_file(path)
    if found.problem is not None:
        raise InputError(found.problem)
    return found.document


def compute_state_boundaries(state: AdaptiveState | Mapping[str, Any] | None) -> dict[str, float]:
    """Boundary per bucket of the typed adaptive state (empty when there is none).

    A state document (as load_adaptive_state returns it) is validated by the same parser as the
    file; one that is no usable state gives no boundaries.
    """
    if isinstance(state, Mapping):
        try:
            state = parse_state(dict(state), experiment_seed="")
        except StateFormatError:
            return {}
    if state is None:
        return {}
    return {name: bucket.boundary for name, bucket in state.buckets.items()}


@dataclass(frozen=True)
class DriftBand:
    """Where the Routing page draws the drift SLO band and the red-flag lines."""

    center: float
    slo: float = DRIFT_SLO
    red_flag: float = DRIFT_RED_FLAG


def compute_drift_band(boundaries: dict[str, float]) -> DriftBand:
    """Drift is measured from the control boundary (0.5 unless the state or log says otherwise)."""
    return DriftBand(center=boundaries.get(CONTROL, CONTROL_BOUNDARY))


# ---- correctness where it is known -------------------------------------------------------------
# Quality is a score; correctness is known in two places only: shadow comparisons (the other
# model's answer to the same question, `comparison` events) and the simulator's ground truth
# (`sim_correct`, simulated events only). These figures show both, each saying where it comes from.

# Complexity-score bands the agreement is shown in (the controller reads labels near its boundary).
SCORE_BAND_WIDTH = 0.2
# Trend bins holding fewer answers than this are not drawn (one answer makes a 100 % -> 0 % cliff).
MIN_BIN_ANSWERS = 3


def _comparison_where(filters: Filters) -> tuple[str, list[Any]]:
    """Comparison events carry no `route`: the served route stands for it."""
    where, params = _where(filters, "comparison", route=False)
    if filters.route:
        where += " AND served_route = ?"
        params = [*params, filters.route]
    return where, params


def compute_agreement_by_route_band(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Shadow comparisons per served route and complexity-score band.

    Columns served_route, score_band ("0.4-0.6"), band_low, comparisons, failed (the shadow call
    gave no answer), agreement_rate (mean agreement of the served answer with the other model's,
    in [0, 1]; None when every comparison failed).
    """
    where, params = _comparison_where(filters)
    width = SCORE_BAND_WIDTH
    top = round(1 / width) - 1  # a score of exactly 1.0 belongs to the last band
    frame = store.query(
        f"""SELECT served_route, least(floor(complexity / {width}), {top}) * {width} AS band_low,
                   count(*) AS comparisons, count(*) FILTER (WHERE agreement IS NULL) AS failed,
                   avg(agreement) AS agreement_rate
            FROM events WHERE {where} AND served_route IS NOT NULL AND complexity IS NOT NULL
            GROUP BY ALL ORDER BY served_route, band_low""", params)
    frame["band_low"] = frame["band_low"].astype(float).round(6)
    frame.insert(1, "score_band", [f"{low:.1f}-{low + width:.1f}" for low in frame["band_low"]])
    frame["agreement_rate"] = frame["agreement_rate"].astype(object).where(frame["agreement_rate"].notna(), None)
    return frame[["served_route", "score_band", "band_low", "comparisons", "failed", "agreement_rate"]]


def compute_accuracy_by_bucket_route(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Accuracy by the simulator's ground truth per bucket and route (simulated answers that carry
    `sim_correct` only; a real model's answers have no known truth and are not counted).

    Columns bucket, route, answers (with a known truth), correct, accuracy.
    """
    where, params = _where(filters, "response")
    return store.query(
        f"""SELECT bucket, route, count(*) AS answers, count(*) FILTER (WHERE sim_correct) AS correct,
                   avg(CASE WHEN sim_correct THEN 1.0 ELSE 0.0 END) AS accuracy
            FROM events WHERE {where} AND sim_correct IS NOT NULL AND simulated
            GROUP BY bucket, route ORDER BY bucket, route""", params)


def compute_quality_by_method(store: EventStore, filters: Filters) -> pd.DataFrame:
    """Quality per scoring method (heuristic / reference / judge): columns quality_method, answers,
    mean_quality, pass_rate. Answers logged before the method was recorded count as heuristic."""
    where, params = _where(filters, "response")
    return store.query(
        f"""SELECT coalesce(quality_method, 'heuristic') AS quality_method, count(*) AS answers,
                   avg(quality) AS mean_quality,
                   avg(CASE WHEN {PASSED_SQL} THEN 1.0 ELSE 0.0 END) AS pass_rate
            FROM events WHERE {where} GROUP BY 1 ORDER BY answers DESC, 1""", params)


@dataclass(frozen=True)
class Correctness:
    """Correctness where it is known, for the Overview's cards.

    `agreement_rate` comes from shadow comparisons (real or simulated answers alike);
    `accuracy` only from the simulator's ground truth, so it is labelled simulated.
    """

    comparisons: int
    failed_comparisons: int
    agreement_rate: float | None
    compared_share: float | None  # comparisons per answer in the same filters
    answers_with_truth: int
    accuracy: float | None
    methods: tuple[str, ...]  # quality methods present, most answers first

    @property
    def accuracy_simulated(self) -> bool:
        """Accuracy is only ever known from the simulator."""
        return self.answers_with_truth > 0


def compute_correctness(store: EventStore, filters: Filters) -> Correctness:
    """Comparisons counted, mean agreement, simulated accuracy and the quality methods in use."""
    where, params = _comparison_where(filters)
    comparisons, failed, agreement = store.rows(
        f"SELECT count(*), count(*) FILTER (WHERE agreement IS NULL), avg(agreement) "
        f"FROM events WHERE {where}", params)[0]
    rwhere, rparams = _where(filters, "response")
    answers, truth, accuracy = store.rows(
        f"""SELECT count(*), count(*) FILTER (WHERE sim_correct IS NOT NULL AND simulated),
                   avg(CASE WHEN sim_correct THEN 1.0 ELSE 0.0 END) FILTER (WHERE sim_correct IS NOT NULL AND simulated)
            FROM events WHERE {rwhere}""", rparams)[0]
    methods = compute_quality_by_method(store, filters)
    return Correctness(
        comparisons=int(comparisons or 0), failed_comparisons=int(failed or 0), agreement_rate=_num(agreement),
        compared_share=(int(comparisons or 0) / int(answers)) if answers else None,
        answers_with_truth=int(truth or 0), accuracy=_num(accuracy),
        methods=tuple(str(m) for m in methods["quality_method"]))


# ---- the daily question: worse, slower or more expensive than before, and the red flags --------

@dataclass(frozen=True)
class PeriodFigures:
    """One period's answers, pass rate, simulated accuracy, P95 latency and main-model share."""

    answers: int
    pass_rate: float | None
    accuracy: float | None
    p95_latency_ms: float | None
    main_share: float | None


PERIOD_SQL = f"""
    count(*) AS answers,
    avg(CASE WHEN {PASSED_SQL} THEN 1.0 ELSE 0.0 END) AS pass_rate,
    avg(CASE WHEN sim_correct THEN 1.0 ELSE 0.0 END) FILTER (WHERE sim_correct IS NOT NULL AND simulated) AS accuracy,
    quantile_cont(latency_ms, 0.95) AS p95_latency_ms,
    avg(CASE WHEN source_kind = 'main' THEN 1.0 ELSE 0.0 END) FILTER (WHERE source_kind <> 'unknown') AS main_share
"""


def compute_period_figures(store: EventStore, filters: Filters, since: datetime | None,
                           until: datetime | None) -> PeriodFigures:
    """The figures of the filtered answers with `since <= ts < until` (datetimes, UTC)."""
    where, params = _where(replace(filters, since=since, until=until), "response")
    row = store.query(f"SELECT {PERIOD_SQL} FROM events WHERE {where}", params).iloc[0]
    return PeriodFigures(answers=int(row["answers"]), pass_rate=_num(row["pass_rate"]),
                         accuracy=_num(row["accuracy"]), p95_latency_ms=_num(row["p95_latency_ms"]),
                         main_share=_num(row["main_share"]))


PERIODS: dict[str, int] = {"day": 86400, "week": 7 * 86400}


def compute_period_comparison(store: EventStore, filters: Filters, now: datetime,
                              period: str = "day") -> pd.DataFrame:
    """This period against the one before (the last 24 h against the 24 h before, or 7 days).

    One row per figure: figure, current, previous, change (current - previous; None when either
    is unknown), worse (True when the change is in the bad direction, None when unknown).
    Raises InputError for a period not in PERIODS.
    """
    if period not in PERIODS:
        raise InputError(f"period {period!r} is not one of {list(PERIODS)}")
    length = timedelta(seconds=PERIODS[period])
    current = compute_period_figures(store, replace(filters, since=None, until=None), now - length, now)
    previous = compute_period_figures(store, replace(filters, since=None, until=None), now - 2 * length, now - length)
    rows = []
    # (figure, attribute, higher is worse)
    for figure, name, higher_worse in (("answers", "answers", None), ("pass rate", "pass_rate", False),
                                       ("accuracy (simulated)", "accuracy", False),
                                       ("P95 latency", "p95_latency_ms", True),
                                       ("main-model share", "main_share", True)):
        now_value, before = getattr(current, name), getattr(previous, name)
        change = None if now_value is None or before is None or not previous.answers else now_value - before
        worse = None if change is None or higher_worse is None else (change > 0 if higher_worse else change < 0)
        rows.append({"figure": figure, "current": now_value, "previous": before if previous.answers else None,
                     "change": change, "worse": worse})
    return pd.DataFrame(rows)


def compute_main_share_saving(sources: pd.DataFrame) -> dict[str, float | None]:
    """Main-model share overall and per bucket from compute_routing_sources, and what treatment
    saves: {"all": share, "control": share, "treatment": share, "saving": 1 - treatment / control}
    (None where unknown). Shares count answered questions only (source "unknown" left out)."""
    out: dict[str, float | None] = {}
    for bucket in ("all", CONTROL, TREATMENT):
        rows = sources[(sources["bucket"] == bucket) & (sources["source"] != UNKNOWN_SOURCE)]
        answered = float(rows["events"].sum())
        main = float(rows.loc[rows["source"] == MAIN, "events"].sum())
        out[bucket] = main / answered if answered else None
    control, treatment = out[CONTROL], out[TREATMENT]
    out["saving"] = 1.0 - treatment / control if control and treatment is not None else None
    return out


@dataclass(frozen=True)
class RedFlag:
    """One of the runbook's red flags: whether it fires, the value and the line it crosses."""

    name: str
    fired: bool
    value: float | None
    threshold: float
    text: str


def compute_red_flags(headline: Headline, sources: pd.DataFrame, boundaries: Mapping[str, float]) -> list[RedFlag]:
    """The runbook's red flags on already computed figures: pass rate < 90 %, P95 > 25 s, routing
    100 % to one model (answered questions, all buckets), drift > 0.1 (|treatment - control|).
    A flag whose figure is unknown does not fire."""
    flags = []
    rate = headline.pass_rate
    flags.append(RedFlag("pass rate", rate is not None and rate < RED_FLAG_PASS_RATE, rate, RED_FLAG_PASS_RATE,
                         "pass rate below the red-flag line"))
    p95 = headline.p95_latency_ms
    flags.append(RedFlag("P95 latency", p95 is not None and p95 > RED_FLAG_P95_LATENCY_MS, p95,
                         RED_FLAG_P95_LATENCY_MS, "P95 latency above the red-flag line"))
    overall = sources[(sources["bucket"] == "all") & (sources["source"] != UNKNOWN_SOURCE)]
    answered = float(overall["events"].sum())
    top = float(overall["events"].max()) / answered if answered else None
    one = next((str(s) for s, e in zip(overall["source"], overall["events"]) if answered and e == answered), None)
    flags.append(RedFlag("one model", top is not None and top >= RED_FLAG_ONE_MODEL_SHARE, top,
                         RED_FLAG_ONE_MODEL_SHARE,
                         f"routing 100 % to {one}" if one else "routing 100 % to one model"))
    control = boundaries.get(CONTROL, CONTROL_BOUNDARY)
    drift = abs(boundaries[TREATMENT] - control) if TREATMENT in boundaries else None
    flags.append(RedFlag("drift", drift is not None and drift > RED_FLAG_DRIFT, drift, RED_FLAG_DRIFT,
                         "treatment boundary drifted past the red-flag line"))
    return flags


# ---- trends drawn honestly --------------------------------------------------------------------

def compute_trend_display(frame: pd.DataFrame, bin_seconds: int, value_columns: Iterable[str], *,
                          time_column: str = "t", group_columns: Iterable[str] = (),
                          count_column: str = "events", min_count: int = MIN_BIN_ANSWERS) -> pd.DataFrame:
    """A trend frame made safe to draw as lines: the values of bins holding fewer than `min_count`
    answers are blanked (NaN: not drawn), and one blank row is put into every gap of missing bins
    within a group, so a line never runs straight across a time without data. The count column
    stays, so a chart can show n. Returns a new frame sorted by group and time."""
    values = list(value_columns)
    groups = list(group_columns)
    out = frame.copy()
    if out.empty:
        return out
    sparse = out[count_column].fillna(0) < min_count
    for column in values:
        out[column] = out[column].astype(float).where(~sparse)
    step = pd.Timedelta(seconds=int(bin_seconds))
    pieces = []
    for _, part in (out.groupby(groups, sort=True, dropna=False) if groups else [(None, out)]):
        part = part.sort_values(time_column)
        times = part[time_column]
        gaps = part[times.diff() > step]
        if not gaps.empty:
            blanks = gaps.copy()
            blanks[time_column] = gaps[time_column] - step  # the first missing bin before each resumption
            blanks[values] = float("nan")
            blanks[count_column] = 0
            part = pd.concat([part, blanks]).sort_values(time_column)
        pieces.append(part)
    return pd.concat(pieces, ignore_index=True)


# ---- the A/B verdict in words -----------------------------------------------------------------

@dataclass(frozen=True)
class VerdictReading:
    """How the A/B verdict reads at a glance: kind is "better", "worse", "trade-off",
    "inconclusive", "not_enough_data" or "srm"; title is the short headline, detail the intervals
    in words."""

    kind: str
    title: str
    detail: str


def _interval_words(low: float, high: float, scale: float, unit: str) -> str:
    return f"between {low * scale:+.1f}{unit} and {high * scale:+.1f}{unit}"


def compute_verdict_reading(verdict: Any) -> VerdictReading:
    """Read an A/B report's Verdict as significant better / significant worse / inconclusive.

    Better means treatment makes significantly fewer main-model calls or gives significantly
    higher quality, and neither significantly the other way; worse the opposite; both at once is a
    trade-off. A 95 % interval that contains 0 is no finding."""
    if verdict.kind == "srm":
        return VerdictReading("srm", "Do not trust these results: the bucket split is off", verdict.text)
    if verdict.kind == "not_enough_data":
        return VerdictReading("not_enough_data", "Not enough data yet", verdict.text)
    good, bad, words = [], [], []
    saving_ci = verdict.main_call_saving_ci
    if saving_ci is not None:
        low, high = saving_ci
        words.append("treatment changes main-model calls by "
                     + _interval_words(-high, -low, 100, " %") + " (95 % interval)")
        if low > 0:
            good.append("fewer main-model calls")
        elif high < 0:
            bad.append("more main-model calls")
    quality_ci = verdict.quality_diff_ci
    if quality_ci is not None:
        low, high = quality_ci
        words.append(f"quality by between {low:+.3f} and {high:+.3f}")
        if low > 0:
            good.append("higher quality")
        elif high < 0:
            bad.append("lower quality")
    detail = "; ".join(words) + "." if words else verdict.text
    if good and bad:
        return VerdictReading("trade-off", "Significant trade-off: " + ", ".join(good) + " but " + ", ".join(bad),
                              detail)
    if good:
        return VerdictReading("better", "Significant: treatment is better (" + ", ".join(good) + ")", detail)
    if bad:
        return VerdictReading("worse", "Significant: treatment is worse (" + ", ".join(bad) + ")", detail)
    return VerdictReading("inconclusive", "Inconclusive: no significant difference yet", detail)
