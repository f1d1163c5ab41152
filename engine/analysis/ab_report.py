"""The A/B report: the EventStore's responses aggregated per session and then per bucket,
engine.analysis.stats compares control with treatment (sessions as the unit by default, or answers), and a
plain-language verdict says what it shows. Also the log-path readers of the hypothesis figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from engine.analysis.figures import PASSED_SQL, compute_hypothesis_pass_rates, compute_hypothesis_trends
from engine.analysis.stats import (
    ALPHA,
    ArmStats,
    NotEnoughData,
    RatioSums,
    SrmResult,
    WelchResult,
    compute_ratio_comparison,
    compute_required_per_arm,
    compute_srm,
    compute_welch,
)
from engine.analysis.store import EventStore, Filters, load_event_store
from engine.errors import InputError
from engine.routing.adaptive import AdaptiveConfig
from engine.routing.state import read_state
from engine.runbook import BUCKETS, CONTROL, EMBEDDER, MAIN, PASS_QUALITY, TREATMENT
from engine.settings import Settings

ARMS = BUCKETS
# Buckets are assigned per session (sticky), so the session is the unit of randomisation and, by
# default, of analysis: answers of one session are correlated and are not independent evidence.
ANALYSIS_UNITS = ("session", "answer")
DEFAULT_UNIT = "session"
MIN_ANSWERS_PER_ARM = 30  # the minimum-sample guard before any verdict is given
TARGET_RELATIVE_EFFECT = 0.05  # the adaptive router acts on quality deltas > 5 %: resolve that


@dataclass(frozen=True)
class MetricSpec:
    name: str
    label: str
    higher_is_better: bool
    unit: str  # "score", "share" or "ms": how the CLI and the page format it


METRICS = (
    MetricSpec("quality", "Quality (engine score)", True, "score"),
    MetricSpec("pass_rate", f"Pass rate (answered, quality >= {PASS_QUALITY})", True, "share"),
    MetricSpec("latency_ms", "Latency", False, "ms"),
    MetricSpec("main_share", "Share of main-model calls", False, "share"),
)

# ---------------------------------------------------------------------------------------------
# Aggregation (from the event store).

@dataclass
class BucketAggregates:
    """Sufficient statistics per arm and metric, per answer (`arms`) and per session (`sessions`,
    for the ratio metrics), plus SRM units (sessions) and answer counts, of one log's store."""

    arms: dict[str, dict[str, ArmStats]]
    units: dict[str, int]
    answers: dict[str, int]
    unreadable_lines: int = 0
    source: str = ""
    sessions: dict[str, dict[str, RatioSums]] = field(
        default_factory=lambda: {a: {m.name: RatioSums(0) for m in METRICS} for a in ARMS})


def _empty_aggregates(source: str) -> BucketAggregates:
    return BucketAggregates({a: {m.name: ArmStats(0) for m in METRICS} for a in ARMS},
                            {a: 0 for a in ARMS}, {a: 0 for a in ARMS}, 0, source)


# Per-metric SQL over the stored responses: the value counted (x) and summed (y) per answer.
_METRIC_SQL = {"quality": "quality", "pass_rate": f"CASE WHEN {PASSED_SQL} THEN 1.0 ELSE 0.0 END",
               "latency_ms": "latency_ms",
               "main_share": f"CASE WHEN route = '{MAIN}' THEN 1.0 WHEN route = '{EMBEDDER}' THEN 0.0 END"}


def compute_bucket_aggregates(store: EventStore, *, since: datetime | None = None,
                              include_golden: bool = False) -> BucketAggregates:
    """Per-bucket sufficient statistics of each metric over the store's response events: per
    answer (n, sum, sum of squares) and per session (sessions, sums of answers, metric sums, their
    squares and cross products) for the delta method.

    One query: responses group by (bucket, session), then the sessions sum per bucket (compensated
    fsum, so the sums do not depend on row order). Units for SRM are distinct session ids (an answer
    without one is its own session). Golden runs force the control bucket, so their responses are
    left out unless asked for. Unreadable lines are the store's.
    """
    conditions = ["event_type = 'response'", f"bucket IN ('{CONTROL}', '{TREATMENT}')"]
    if not include_golden:
        conditions.append("coalesce(origin, '') <> 'golden'")
    window, params = Filters(since=since).clauses()
    keep = " AND ".join(conditions + window)

    per_session = ["count(*) AS n_all"]
    per_bucket = ["sum(n_all)", "count(*)"]
    for metric in METRICS:
        m = metric.name
        per_session += [f"count(v_{m}) AS {m}_x", f"coalesce(fsum(v_{m}), 0) AS {m}_y",
                        f"coalesce(fsum(v_{m} * v_{m}), 0) AS {m}_yy"]
        per_bucket += [f"sum({m}_x)", f"fsum({m}_y)", f"fsum({m}_yy)",  # per answer
                       f"count(*) FILTER (WHERE {m}_x > 0)", f"sum({m}_x * {m}_x)",
                       f"fsum({m}_y * {m}_y)", f"fsum({m}_x * {m}_y)"]  # per session
    values = ", ".join(f"{_METRIC_SQL[metric.name]} AS v_{metric.name}" for metric in METRICS)
    sql = f"""
        WITH kept AS (
            SELECT bucket, coalesce(session_id, message_id) AS unit, {values}
            FROM events WHERE {keep}),
        per_session AS (SELECT bucket, {", ".join(per_session)} FROM kept GROUP BY bucket, unit)
        SELECT bucket, {", ".join(per_bucket)} FROM per_session GROUP BY bucket"""
    out = _empty_aggregates(str(store.path))
    out.unreadable_lines = store.counters.unreadable
    for row in store.rows(sql, params):
        bucket = row[0]
        if bucket not in ARMS or not row[1]:
            continue
        out.answers[bucket] = int(row[1])
        out.units[bucket] = int(row[2])
        sums = [v or 0 for v in row[3:]]
        for i, metric in enumerate(METRICS):
            n, total, total_sq, sessions, count_sq, session_sq, cross = sums[7 * i: 7 * i + 7]
            out.arms[bucket][metric.name] = ArmStats(int(n), float(total), float(total_sq))
            out.sessions[bucket][metric.name] = RatioSums(int(sessions), float(n), float(count_sq), float(total),
                                                          float(session_sq), float(cross))
    return out


def load_bucket_aggregates(path: Path, *, since: datetime | None = None,
                           include_golden: bool = False) -> BucketAggregates:
    """compute_bucket_aggregates over the log (or gzip archive) at `path`, read into a fresh store.
    A missing file gives empty arms; an archive DuckDB cannot read raises InputError."""
    with load_event_store(path) as store:
        return compute_bucket_aggregates(store, since=since, include_golden=include_golden)


def load_expected_split(settings: Settings) -> dict[str, float]:
    """The configured control/treatment split from the typed adaptive state (defaults when absent)."""
    state = read_state(settings.paths.adaptive_state)
    pct = (state.config if state is not None else AdaptiveConfig()).control_bucket_pct
    return {CONTROL: pct, TREATMENT: 1.0 - pct}


# ---------------------------------------------------------------------------------------------
# The report (pure).

@dataclass
class MetricComparison:
    metric: str
    label: str
    unit: str
    higher_is_better: bool
    control: ArmStats
    treatment: ArmStats
    result: WelchResult | NotEnoughData
    analysis_unit: str = DEFAULT_UNIT
    control_sessions: RatioSums = RatioSums(0)
    treatment_sessions: RatioSums = RatioSums(0)
    # Variance of the difference per session over per answer: how much treating correlated
    # answers as independent understates the uncertainty (1 = no clustering effect).
    design_effect: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "label": self.label, "unit": self.unit,
                "higher_is_better": self.higher_is_better, "analysis_unit": self.analysis_unit,
                "control": {"n": self.control.n, "sessions": self.control_sessions.n, "mean": self.control.mean},
                "treatment": {"n": self.treatment.n, "sessions": self.treatment_sessions.n,
                              "mean": self.treatment.mean},
                "design_effect": self.design_effect,
                "result": self.result.to_dict()}


@dataclass
class Verdict:
    kind: str  # "not_enough_data", "srm" or "result"
    text: str
    need_more: int | None = None
    main_call_saving: float | None = None  # relative: 0.2 = treatment makes 20 % fewer main calls
    main_call_saving_ci: tuple[float, float] | None = None
    quality_diff: float | None = None
    quality_diff_ci: tuple[float, float] | None = None


@dataclass
class AbReport:
    answers: dict[str, int]
    units: dict[str, int]
    expected_split: dict[str, float]
    metrics: list[MetricComparison]
    srm: SrmResult
    verdict: Verdict
    alpha: float = ALPHA
    unreadable_lines: int = 0
    source: str = ""
    analysis_unit: str = DEFAULT_UNIT
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def metric(self, name: str) -> MetricComparison:
        return next(m for m in self.metrics if m.metric == name)

    def to_dict(self) -> dict[str, Any]:
        return {"generated_at": self.generated_at, "source": self.source, "alpha": self.alpha,
                "analysis_unit": self.analysis_unit, "analysis_unit_note": unit_note(self.analysis_unit),
                "answers": self.answers, "units": self.units, "expected_split": self.expected_split,
                "unreadable_lines": self.unreadable_lines,
                "metrics": [m.to_dict() for m in self.metrics], "srm": self.srm.to_dict(),
                "verdict": asdict(self.verdict)}


def _need_for_guard(answers: dict[str, int]) -> int:
    return sum(max(0, MIN_ANSWERS_PER_ARM - answers.get(a, 0)) for a in ARMS)


def compute_verdict(answers: dict[str, int], quality: MetricComparison, main_share: MetricComparison,
                    srm: SrmResult) -> Verdict:
    """The plain-language reading of the comparison; the guard comes before any number."""
    if srm.alert:
        return Verdict("srm", "do not trust these results: " + srm.message)
    need = _need_for_guard(answers)
    if need > 0:
        return Verdict("not_enough_data",
                       f"not enough data yet: need about {need} more answers "
                       f"(at least {MIN_ANSWERS_PER_ARM} per arm; control has {answers.get('control', 0)}, "
                       f"treatment {answers.get('treatment', 0)})", need_more=need)
    q = quality.result
    if isinstance(q, NotEnoughData):
        return Verdict("not_enough_data", f"not enough data yet on quality: {q.reason}",
                       need_more=q.need_more)
    share_c, share_t = main_share.control.mean, main_share.treatment.mean
    saving = saving_ci = None
    if share_c and share_t is not None:
        saving = 1.0 - share_t / share_c
        if isinstance(main_share.result, WelchResult) and main_share.result.lift_ci is not None:
            low, high = main_share.result.lift_ci
            saving_ci = (-high, -low)
    if saving is None:
        calls = "the control arm made no main-model calls, so no saving can be stated"
    else:
        word = "saves" if saving >= 0 else "uses"
        tail = "" if saving >= 0 else " more"
        calls = f"treatment {word} {abs(saving) * 100:.1f} %{tail} main-model calls"
        if saving_ci is not None:
            # The interval is stated in the same direction as the words ("saves" or "uses more").
            low, high = saving_ci if saving >= 0 else (-saving_ci[1], -saving_ci[0])
            calls += f" [95 % CI {low * 100:+.1f} %, {high * 100:+.1f} %]"
    text = (f"{calls} at a quality difference of {q.diff:+.3f} "
            f"[95 % CI {q.diff_ci[0]:+.3f}, {q.diff_ci[1]:+.3f}] (p={q.p_value:.3g}; "
            f"anytime-valid p={q.seq_p_value:.3g}, safe to read however often you look)")
    need_more = None
    target = TARGET_RELATIVE_EFFECT * abs(q.mean_control)
    if target > 0 and q.mde > target:
        if q.analysis_unit == "session":
            sessions_c, sessions_t = quality.control_sessions, quality.treatment_sessions
            per_arm = compute_required_per_arm(sessions_c, sessions_t, target)
            if per_arm is not None:
                more_sessions = max(0, per_arm - sessions_c.n) + max(0, per_arm - sessions_t.n)
                # Sessions are what the test needs; answers are what a user can count, at the
                # observed answers per session.
                per_session = (sessions_c.count + sessions_t.count) / (sessions_c.n + sessions_t.n)
                need_more = math.ceil(more_sessions * per_session)
                text += (f"; a {TARGET_RELATIVE_EFFECT:.0%} quality difference is not yet resolvable "
                         f"(MDE {q.mde:.3f}): need about {need_more} more answers "
                         f"(about {more_sessions} more sessions) for that")
        else:
            per_arm = compute_required_per_arm(quality.control, quality.treatment, target)
            if per_arm is not None:
                need_more = sum(max(0, per_arm - answers.get(a, 0)) for a in ARMS)
                text += (f"; a {TARGET_RELATIVE_EFFECT:.0%} quality difference is not yet resolvable "
                         f"(MDE {q.mde:.3f}): need about {need_more} more answers for that")
    return Verdict("result", text, need_more=need_more, main_call_saving=saving,
                   main_call_saving_ci=saving_ci, quality_diff=q.diff, quality_diff_ci=q.diff_ci)


def unit_note(analysis_unit: str) -> str:
    """One line saying what the intervals treat as independent observations."""
    if analysis_unit == "session":
        return ("unit of analysis: session (buckets are assigned per session; per-answer means as "
                "ratio metrics, variance by the delta method over sessions)")
    return ("unit of analysis: answer (every answer treated as independent; intervals are too narrow "
            "when answers of one session are correlated)")


def _design_effect(session: WelchResult | NotEnoughData, answer: WelchResult | NotEnoughData) -> float | None:
    if isinstance(session, WelchResult) and isinstance(answer, WelchResult) and answer.se > 0:
        return (session.se / answer.se) ** 2
    return None


def compute_ab_report(aggregates: BucketAggregates, expected_split: dict[str, float], *,
                      alpha: float = ALPHA, unit: str = DEFAULT_UNIT) -> AbReport:
    """Compare control with treatment on every metric, check the split, and state a verdict.

    `unit` "session" (default) compares the per-answer means as session-level ratio metrics
    (engine.analysis.stats.compute_ratio_comparison); "answer" treats every answer as independent (Welch).
    """
    if unit not in ANALYSIS_UNITS:
        raise InputError(f"unit of analysis {unit!r}: choose one of {', '.join(ANALYSIS_UNITS)}")
    metrics = []
    for spec in METRICS:
        control = aggregates.arms["control"][spec.name]
        treatment = aggregates.arms["treatment"][spec.name]
        sessions_c = aggregates.sessions["control"][spec.name]
        sessions_t = aggregates.sessions["treatment"][spec.name]
        per_answer = compute_welch(control, treatment, alpha=alpha, higher_is_better=spec.higher_is_better)
        per_session = compute_ratio_comparison(sessions_c, sessions_t, alpha=alpha,
                                               higher_is_better=spec.higher_is_better)
        result = per_session if unit == "session" else per_answer
        metrics.append(MetricComparison(spec.name, spec.label, spec.unit, spec.higher_is_better,
                                        control, treatment, result, unit, sessions_c, sessions_t,
                                        _design_effect(per_session, per_answer)))
    srm = compute_srm(aggregates.units, expected_split)
    by_name = {m.metric: m for m in metrics}
    verdict = compute_verdict(aggregates.answers, by_name["quality"], by_name["main_share"], srm)
    return AbReport(dict(aggregates.answers), dict(aggregates.units), dict(expected_split), metrics,
                    srm, verdict, alpha, aggregates.unreadable_lines, aggregates.source, unit)


def load_ab_report(settings: Settings, *, path: Path | None = None, since: datetime | None = None,
                   include_golden: bool = False, alpha: float = ALPHA, unit: str = DEFAULT_UNIT,
                   store: EventStore | None = None) -> AbReport:
    """The A/B report of the provenance log (or another log or archive at `path`).

    `store`, an up-to-date EventStore of that log (the dashboard's shared one), is read instead of
    loading the file into a fresh store.
    """
    if store is not None:
        aggregates = compute_bucket_aggregates(store, since=since, include_golden=include_golden)
    else:
        aggregates = load_bucket_aggregates(path or settings.paths.log, since=since, include_golden=include_golden)
    return compute_ab_report(aggregates, load_expected_split(settings), alpha=alpha, unit=unit)


# ---------------------------------------------------------------------------------------------
# Text rendering for the CLI.

def format_value(value: float | None, unit: str, *, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    sign = "+" if signed else ""
    if unit == "ms":
        return f"{value:{sign},.0f} ms"
    if unit == "share":
        return f"{value * 100:{sign}.1f} %"
    return f"{value:{sign}.3f}"


def compute_table_rows(report: AbReport) -> list[dict[str, str]]:
    """The comparison table as display strings (CLI and dashboard show the same cells)."""
    rows = []
    for m in report.metrics:
        r = m.result
        if m.analysis_unit == "session":
            sizes = {arm: f"(n={stats.n}, {sessions.n} sessions)" for arm, stats, sessions in
                     (("control", m.control, m.control_sessions), ("treatment", m.treatment, m.treatment_sessions))}
        else:
            sizes = {"control": f"(n={m.control.n})", "treatment": f"(n={m.treatment.n})"}
        row = {"metric": m.label,
               "control": f"{format_value(m.control.mean, m.unit)} {sizes['control']}",
               "treatment": f"{format_value(m.treatment.mean, m.unit)} {sizes['treatment']}"}
        if isinstance(r, WelchResult):
            row["difference [95% CI]"] = (f"{format_value(r.diff, m.unit, signed=True)} "
                                          f"[{format_value(r.diff_ci[0], m.unit, signed=True)}, "
                                          f"{format_value(r.diff_ci[1], m.unit, signed=True)}]")
            row["lift [95% CI]"] = ("-" if r.lift is None or r.lift_ci is None else
                                    f"{r.lift * 100:+.1f} % [{r.lift_ci[0] * 100:+.1f} %, {r.lift_ci[1] * 100:+.1f} %]")
            row["p"] = f"{r.p_value:.3g}"
            row["anytime-valid CI"] = (f"[{format_value(r.seq_diff_ci[0], m.unit, signed=True)}, "
                                       f"{format_value(r.seq_diff_ci[1], m.unit, signed=True)}]")
            row["MDE (80% power)"] = format_value(r.mde, m.unit)
            row["P(treatment better)"] = f"{r.chance_to_beat * 100:.0f} %"
        else:
            row["difference [95% CI]"] = f"not enough data: {r.reason}"
            for key in ("lift [95% CI]", "p", "anytime-valid CI", "MDE (80% power)", "P(treatment better)"):
                row[key] = "-"
        rows.append(row)
    return rows


def render_ab_report_text(report: AbReport) -> str:
    rows = compute_table_rows(report)
    headers = list(rows[0])
    widths = {h: max(len(h), *(len(r[h]) for r in rows)) for h in headers}
    lines = [f"A/B report  {report.source}",
             f"answers: control {report.answers['control']}, treatment {report.answers['treatment']}; "
             f"sessions: control {report.units['control']}, treatment {report.units['treatment']}",
             unit_note(report.analysis_unit),
             "",
             "  ".join(h.ljust(widths[h]) for h in headers),
             "  ".join("-" * widths[h] for h in headers)]
    lines += ["  ".join(r[h].ljust(widths[h]) for h in headers) for r in rows]
    lines += ["", f"SRM: {report.srm.message}", f"verdict: {report.verdict.text}"]
    if report.unreadable_lines:
        lines.append(f"note: {report.unreadable_lines} unreadable log lines were skipped")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Hypothesis pass rates and trends of a log file (the figures are engine.analysis.figures').

def load_hypothesis_trends(path: Path, *, since: datetime | None = None, bin_seconds: int | None = None,
                           store: EventStore | None = None) -> pd.DataFrame:
    """compute_hypothesis_trends of the log at `path` (or of `store`, an up-to-date store of it) since
    `since`: columns bin_start, hypothesis_id, checks, passed, failed, errors, pass_rate."""
    if store is not None:
        return compute_hypothesis_trends(store, Filters(since=since), bin_seconds)
    with load_event_store(path) as fresh:
        return compute_hypothesis_trends(fresh, Filters(since=since), bin_seconds)


def load_hypothesis_summary(path: Path, *, since: datetime | None = None,
                            store: EventStore | None = None) -> pd.DataFrame:
    """compute_hypothesis_pass_rates of the log at `path` (or of `store`) since `since`: per hypothesis
    checks, passed, failed, errors, pass_rate with its Wilson interval and the last error message."""
    if store is not None:
        return compute_hypothesis_pass_rates(store, Filters(since=since))
    with load_event_store(path) as fresh:
        return compute_hypothesis_pass_rates(fresh, Filters(since=since))
