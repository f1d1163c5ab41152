"""The statistics section: per-hypothesis pass-rate trends, broken hypotheses, the A/B table with
intervals and the verdict (Hypotheses page), and the SRM warning (Overview). Draws only."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard import services_stats
from dashboard.components.format import fmt_count
from engine.analysis.ab_report import AbReport
from engine.analysis.stats import SrmResult


def trends_chart(trends: pd.DataFrame) -> go.Figure:
    fig = px.line(trends.dropna(subset=["pass_rate"]), x="bin_start", y="pass_rate", color="hypothesis_id",
                  markers=True, hover_data=["checks", "passed", "failed", "errors"],
                  title="Pass rate per hypothesis over time")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    return fig


def render_hypothesis_trends(trends: pd.DataFrame) -> None:
    st.subheader("Pass rate per hypothesis")
    if trends.empty or trends["pass_rate"].isna().all():
        st.info("No hypothesis results in this window yet.")
        return
    st.plotly_chart(trends_chart(trends), key="hypothesis_trends_chart")


def render_broken_hypotheses(broken: pd.DataFrame) -> None:
    for row in broken.itertuples(index=False):
        st.error(f"Hypothesis `{row.hypothesis_id}` is broken and was skipped on {fmt_count(row.errors)} "
                 f"of {fmt_count(row.checks)} answers (the others still ran): {row.last_error}",
                 icon="🧯")


def render_verdict(report: AbReport) -> None:
    verdict = report.verdict
    if verdict.kind == "srm":
        st.error(verdict.text, icon="⚠️")
    elif verdict.kind == "not_enough_data":
        st.info(verdict.text, icon="⏳")
    else:
        st.success(verdict.text, icon="📊")


def render_srm_warning(srm: SrmResult) -> None:
    """A warning box when the bucket split is off; nothing when it is fine or not yet checkable."""
    if srm.alert:
        st.warning(srm.message, icon="⚠️")


def render_ab_table(report: AbReport, table: pd.DataFrame) -> None:
    st.subheader("A/B test: control vs treatment")
    st.caption(f"Answers: control {fmt_count(report.answers['control'])}, treatment "
               f"{fmt_count(report.answers['treatment'])}; sessions: control {fmt_count(report.units['control'])}, "
               f"treatment {fmt_count(report.units['treatment'])}. Welch tests, 95 % intervals, relative lift by "
               "the delta method; the sidebar's time window applies (not its bucket, trait or route filters).")
    st.caption(services_stats.unit_note(report).capitalize() + ".")
    render_verdict(report)
    st.dataframe(table, hide_index=True, key="ab_table")
    if not report.srm.alert:
        st.caption(f"Sample ratio: {report.srm.message}")


def render_ab_section() -> None:
    """Everything the statistics part shows on the Hypotheses page (one call from the page)."""
    summary = services_stats.hypothesis_summary()
    render_broken_hypotheses(services_stats.broken_hypotheses(summary))
    render_hypothesis_trends(services_stats.hypothesis_trends())
    current = services_stats.report()
    render_srm_warning(current.srm)
    render_ab_table(current, services_stats.table(current))


def render_overview_srm() -> None:
    """The Overview's SRM warning (one call from the page)."""
    render_srm_warning(services_stats.srm())
