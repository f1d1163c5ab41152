"""Hypotheses: pass-rate trends over time, quality per bucket and route (naming its method),
correctness where it is known, hypothesis checks, the A/B statistics and the recipe bandit."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components import charts
from dashboard.components.ab import render_ab_section
from dashboard.components.empty import render_empty_state, render_log_warning
from dashboard.components.gateway import render_bandit_section
from dashboard.components.live import render_live
from dashboard.components.tables import (
    ACCURACY,
    AGREEMENT,
    HYPOTHESES,
    QUALITY,
    QUALITY_METHODS,
    render_table,
)

st.title("Hypotheses")


def render_trends() -> None:
    summary = services.log_summary()
    if render_empty_state(summary):
        return
    filters = services.current_filters()
    st.subheader("Pass rate over time")
    series = services.pass_rate_trend(filters)
    if not series.empty:
        st.plotly_chart(charts.pass_rate_chart(series, services.trend_bin_seconds(filters),
                                               services.min_bin_answers()), key="pass_rate_chart")
    methods = services.quality_by_method(filters)
    st.subheader("Quality per bucket and route")
    st.caption("Quality method: " + ", ".join(f"{m} ({n:,} answers)" for m, n in
                                              zip(methods["quality_method"], methods["answers"]))
               + ". A score: correctness, where it is known, is below.")
    table = services.quality_by_bucket_route(filters)
    render_table(table, QUALITY, key="quality_table")
    if not table.empty:
        st.plotly_chart(charts.quality_chart(table), key="quality_chart")
    st.subheader("Correctness where it is known")
    agreement = services.agreement_by_route_band(filters)
    if agreement.empty:
        st.info("No shadow comparison yet (AIOS_SHADOW_RATE of the answers are also asked of the other model).")
    else:
        render_table(agreement, AGREEMENT, key="hyp_agreement_table")
        st.plotly_chart(charts.agreement_chart(agreement), key="agreement_chart")
    accuracy = services.accuracy_by_bucket_route(filters)
    if accuracy.empty:
        st.info("No answer with a known truth (only the simulator knows it).")
    else:
        render_table(accuracy, ACCURACY, key="hyp_accuracy_table")
    render_table(methods, QUALITY_METHODS, key="hyp_methods_table")
    st.subheader("Hypothesis checks")
    checks = services.hypothesis_pass_rates(filters)
    if checks.empty:
        st.info("No hypothesis events in this window yet.")
    else:
        render_table(checks, HYPOTHESES, key="hypothesis_table")
    render_log_warning(summary)


render_live(render_trends)

st.divider()
# ---- A/B statistics: the statistics section (dashboard/components/ab.py) renders below, one line. ----
render_live(render_ab_section)

st.divider()
render_live(render_bandit_section)
