"""Hypotheses: pass-rate trends over time, quality per bucket and route, hypothesis checks."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components import charts
from dashboard.components.ab import render_ab_section
from dashboard.components.empty import render_empty_state, render_log_warning
from dashboard.components.gateway import render_bandit_section
from dashboard.components.live import render_live

st.title("Hypotheses")

QUALITY_COLUMNS = {
    "pass_rate": st.column_config.NumberColumn(format="percent"),
    **{name: st.column_config.NumberColumn(format="%.3f")
       for name in ("mean_quality", "p10_quality", "median_quality")},
    **{name: st.column_config.NumberColumn(format="%.0f ms")
       for name in ("p50_latency_ms", "p95_latency_ms", "mean_latency_ms")},
}


def render_trends() -> None:
    summary = services.log_summary()
    if render_empty_state(summary):
        return
    filters = services.current_filters()
    st.subheader("Pass rate over time")
    series = services.pass_rate_over_time(filters)
    if not series.empty:
        st.plotly_chart(charts.pass_rate_chart(series), key="pass_rate_chart")
    st.subheader("Quality per bucket and route")
    table = services.quality_by_bucket_route(filters)
    st.dataframe(table, hide_index=True, key="quality_table", column_config=QUALITY_COLUMNS)
    if not table.empty:
        st.plotly_chart(charts.quality_chart(table), key="quality_chart")
    st.subheader("Hypothesis checks")
    checks = services.hypothesis_pass_rates(filters)
    if checks.empty:
        st.info("No hypothesis events in this window yet.")
    else:
        st.dataframe(checks, hide_index=True, key="hypothesis_table",
                     column_config={"pass_rate": st.column_config.NumberColumn(format="percent")})
    render_log_warning(summary)


render_live(render_trends)

st.divider()
# ---- A/B statistics: the statistics section (dashboard/components/ab.py) renders below, one line. ----
render_live(render_ab_section)

st.divider()
render_live(render_bandit_section)
