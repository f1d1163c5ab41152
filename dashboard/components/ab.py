"""The statistics section: per-hypothesis pass-rate trends, broken hypotheses, the A/B table with
intervals and the verdict (Hypotheses page), and the SRM warning (Overview). Draws only."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import services
from dashboard.components.charts import hypothesis_trends_chart
from dashboard.components.format import fmt_count
from engine.runbook import CONTROL, TREATMENT


def render_hypothesis_trends(trends: pd.DataFrame) -> None:
    st.subheader("Pass rate per hypothesis")
    if trends.empty or trends["pass_rate"].isna().all():
        st.info("No hypothesis results in this window yet.")
        return
    st.plotly_chart(hypothesis_trends_chart(services.hypothesis_trend_display(trends)), key="hypothesis_trends_chart")


def render_broken_hypotheses(broken: pd.DataFrame) -> None:
    for row in broken.itertuples(index=False):
        st.error(f"Hypothesis `{row.hypothesis_id}` is broken and was skipped on {fmt_count(row.errors)} "
                 f"of {fmt_count(row.checks)} answers (the others still ran): {row.last_error}",
                 icon="🧯")


def render_verdict(report: services.AbReport) -> None:
    """Significant better / worse / trade-off in colour, inconclusive in a neutral box; the
    intervals in words under the headline, the engine's full sentence below."""
    reading = services.verdict_reading(report)
    body = f"**{reading.title}.** {reading.detail}"
    if reading.kind == "srm":
        st.error(report.verdict.text, icon="⚠️")
    elif reading.kind == "not_enough_data":
        st.info(report.verdict.text, icon="⏳")
    elif reading.kind == "better":
        st.success(body, icon="📈")
    elif reading.kind in ("worse", "trade-off"):
        st.warning(body, icon="📉")
    else:
        st.info(body, icon="⚖️")
    if reading.kind not in ("srm", "not_enough_data"):
        st.caption(report.verdict.text[0].upper() + report.verdict.text[1:] + ".")


def render_srm_warning(srm: services.SrmResult) -> None:
    """A warning box when the bucket split is off; nothing when it is fine or not yet checkable."""
    if srm.alert:
        st.warning(srm.message, icon="⚠️")


def render_ab_table(report: services.AbReport, table: pd.DataFrame) -> None:
    st.subheader(f"A/B test: {CONTROL} vs {TREATMENT}")
    st.caption(f"Answers: {CONTROL} {fmt_count(report.answers[CONTROL])}, {TREATMENT} "
               f"{fmt_count(report.answers[TREATMENT])}; sessions: {CONTROL} {fmt_count(report.units[CONTROL])}, "
               f"{TREATMENT} {fmt_count(report.units[TREATMENT])}. Welch tests, 95 % intervals, relative lift by "
               "the delta method; the sidebar's time window applies (not its bucket, trait or route filters).")
    st.caption(services.ab_unit_note(report).capitalize() + ".")
    render_verdict(report)
    st.dataframe(services.ab_key_table(report), hide_index=True, key="ab_table")
    with st.expander("All statistics: answers and sessions per arm, lift, anytime-valid interval, minimum "
                     "detectable effect"):
        st.dataframe(table, hide_index=True, key="ab_more_table")
    if not report.srm.alert:
        st.caption(f"Sample ratio: {report.srm.message}")


def render_ab_section() -> None:
    """Everything the statistics part shows on the Hypotheses page (one call from the page)."""
    summary = services.hypothesis_summary()
    render_broken_hypotheses(services.broken_hypotheses(summary))
    render_hypothesis_trends(services.hypothesis_trends())
    current = services.ab_report()
    render_srm_warning(current.srm)
    render_ab_table(current, services.ab_table(current))


def render_overview_srm() -> None:
    """The Overview's SRM warning (one call from the page)."""
    render_srm_warning(services.srm())
