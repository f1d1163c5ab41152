"""Overview: A/B bucket split, who answered (main / embedder / unknown), headline figures with trends."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components import charts
from dashboard.components.ab import render_overview_srm
from dashboard.components.actions import render_ask
from dashboard.components.empty import render_empty_state, render_log_warning
from dashboard.components.format import fmt_count, fmt_latency, fmt_pct, fmt_quality
from dashboard.components.live import render_live

st.title("Overview")
render_live(render_overview_srm)  # SRM warning from the statistics section


def render_headline(filters) -> None:
    head = services.headline(filters)
    trend = head.trend
    cols = st.columns(5)
    cols[0].metric("Events", fmt_count(head.events), chart_data=list(trend["events"]), border=True,
                   help="Answers (response events) in the window and filters.")
    cols[1].metric("Pass rate", fmt_pct(head.pass_rate), chart_data=list(trend["pass_rate"]), border=True,
                   help=f"Share answered by a model with quality ≥ {services.pass_quality()}.")
    cols[2].metric("Mean quality", fmt_quality(head.mean_quality), chart_data=list(trend["mean_quality"]),
                   border=True)
    cols[3].metric("P50 latency", fmt_latency(head.p50_latency_ms), chart_data=list(trend["p50_latency_ms"]),
                   border=True)
    cols[4].metric("P95 latency", fmt_latency(head.p95_latency_ms), chart_data=list(trend["p95_latency_ms"]),
                   border=True)
    st.caption(f"Trends: one point per {head.bin_seconds} s.")


def render_overview() -> None:
    summary = services.log_summary()
    if render_empty_state(summary):
        return
    filters = services.current_filters()
    render_headline(filters)
    left, right = st.columns(2)
    split = services.bucket_split(filters)
    with left:
        st.subheader("A/B bucket split")
        st.dataframe(split, hide_index=True, key="bucket_split_table",
                     column_config={"share": st.column_config.NumberColumn(format="percent")})
        if not split.empty:
            st.plotly_chart(charts.bucket_split_chart(split), key="bucket_split_chart")
    sources = services.routing_sources(filters)
    with right:
        st.subheader("Routing sources")
        st.dataframe(sources, hide_index=True, key="routing_sources_table",
                     column_config={"share": st.column_config.NumberColumn(format="percent")})
        if not sources.empty:
            st.plotly_chart(charts.routing_sources_chart(sources), key="routing_sources_chart")
    render_log_warning(summary)


render_live(render_overview)

st.divider()
st.subheader("Ask")
render_ask()
