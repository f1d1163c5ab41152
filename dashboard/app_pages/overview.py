"""Overview: the runbook's daily question on one screen: red flags, headline figures, correctness
where it is known, this day/week against the one before, the A/B split and who answered; then Ask."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components import charts
from dashboard.components.ab import render_overview_srm
from dashboard.components.actions import render_ask
from dashboard.components.empty import render_empty_state, render_log_warning
from dashboard.components.format import (
    fmt_count,
    fmt_duration,
    fmt_latency,
    fmt_pct,
    fmt_quality,
)
from dashboard.components.live import render_live
from dashboard.components.overview import render_flags, render_period_table
from dashboard.components.tables import (
    ACCURACY,
    AGREEMENT,
    BUCKET_SPLIT,
    QUALITY_METHODS,
    ROUTING_SOURCES,
    render_table,
)

st.title("Overview")
render_live(render_overview_srm)  # SRM warning from the statistics section

# A sparkline needs a few points to say anything; fewer are not drawn.
MIN_SPARK_POINTS = 4


def _spark(trend, column: str) -> list[float] | None:
    points = [float(v) for v in trend[column].dropna()]
    return points if len(points) >= MIN_SPARK_POINTS else None


def render_headline(filters) -> None:
    head = services.headline(filters)
    trend = services.headline_trend(head)
    correct = services.correctness(filters)
    shares = services.main_share_saving(filters)
    methods = ", ".join(correct.methods) or "heuristic"
    row1 = st.columns(4)
    row1[0].metric("Answers", fmt_count(head.events), border=True,
                   help="Answers (response events) in the window and filters; other event types are counted "
                        "on Settings.")
    row1[1].metric("Pass rate", fmt_pct(head.pass_rate), chart_data=_spark(trend, "pass_rate"), border=True,
                   help=f"Share answered by a model with quality ≥ {services.pass_quality()} "
                        f"(quality method: {methods}).")
    row1[2].metric("Mean quality", fmt_quality(head.mean_quality), chart_data=_spark(trend, "mean_quality"),
                   border=True, help=f"Quality method: {methods}. A score, not correctness: see the cards below.")
    row1[3].metric("P95 latency", fmt_latency(head.p95_latency_ms), chart_data=_spark(trend, "p95_latency_ms"),
                   border=True, help=f"P50 {fmt_latency(head.p50_latency_ms)}")
    row2 = st.columns(4)
    row2[0].metric("Correct (simulated)", fmt_pct(correct.accuracy), border=True,
                   help=f"The simulator's ground truth over {fmt_count(correct.answers_with_truth)} simulated "
                        "answers; a real model's answers have no known truth.")
    row2[1].metric("Agreement", fmt_pct(correct.agreement_rate), border=True,
                   help=f"With the other model's answer to the same question: {fmt_count(correct.comparisons)} "
                        f"shadow comparisons ({fmt_count(correct.failed_comparisons)} shadow calls failed).")
    row2[2].metric("Main-model share", fmt_pct(shares["all"]), border=True,
                   help=f"Share of answered questions the main model answered: control "
                        f"{fmt_pct(shares['control'])}, treatment {fmt_pct(shares['treatment'])}.")
    row2[3].metric("Treatment saves", fmt_pct(shares["saving"]), border=True,
                   help="Main-model calls treatment's adaptive boundary saves against control (1 - treatment "
                        f"share / control share: {fmt_pct(shares['treatment'])} / {fmt_pct(shares['control'])}); "
                        "negative when it makes more.")
    st.caption(f"{fmt_count(correct.comparisons)} shadow comparisons counted. Sparklines: one point per "
               f"{fmt_duration(head.bin_seconds)}, bins of fewer than {services.min_bin_answers()} answers "
               "left out.")


def render_correctness(filters) -> None:
    st.subheader("Correctness where it is known")
    agreement = services.agreement_by_route_band(filters)
    st.markdown("**Agreement by served route and complexity band** (shadow comparisons)")
    if agreement.empty:
        st.info("No shadow comparison yet: AIOS_SHADOW_RATE of the answers are also asked of the other model.")
    else:
        render_table(agreement, AGREEMENT, key="agreement_table")
    accuracy = services.accuracy_by_bucket_route(filters)
    st.markdown("**Accuracy by bucket and route** (simulated: the simulator's ground truth)")
    if accuracy.empty:
        st.info("No answer with a known truth: only the simulator knows whether an answer is right.")
    else:
        render_table(accuracy, ACCURACY, key="accuracy_table")
    st.markdown("**Quality by method**")
    render_table(services.quality_by_method(filters), QUALITY_METHODS, key="quality_methods_table")


def render_overview() -> None:
    summary = services.log_summary()
    if render_empty_state(summary):
        return
    filters = services.current_filters()
    render_flags(services.red_flags(filters))
    render_headline(filters)
    render_period_table(filters)
    render_correctness(filters)
    left, right = st.columns(2)
    split = services.bucket_split(filters)
    with left:
        st.subheader("A/B bucket split")
        render_table(split, BUCKET_SPLIT, key="bucket_split_table")
        if not split.empty:
            st.plotly_chart(charts.bucket_split_chart(split), key="bucket_split_chart")
    sources = services.routing_sources(filters)
    with right:
        st.subheader("Routing sources")
        render_table(sources, ROUTING_SOURCES, key="routing_sources_table")
        if not sources.empty:
            st.plotly_chart(charts.routing_sources_chart(sources), key="routing_sources_chart")
    render_log_warning(summary)


render_live(render_overview)

st.divider()
st.subheader("Ask")
render_ask()
