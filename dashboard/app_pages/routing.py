"""Routing: boundary over time with the drift SLO, complexity vs quality, routing split, adaptations."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components import charts
from dashboard.components.empty import render_empty_state, render_log_warning
from dashboard.components.format import fmt_boundary
from dashboard.components.live import render_live
from dashboard.components.tables import ADAPTATIONS, render_table

st.title("Routing")


def render_routing() -> None:
    summary = services.log_summary()
    if render_empty_state(summary):
        return
    filters = services.current_filters()
    boundaries = services.current_boundaries(filters)
    band = services.drift_band(boundaries)
    cols = st.columns(max(len(boundaries), 1))
    for col, (bucket, value) in zip(cols, sorted(boundaries.items())):
        col.metric(f"{bucket} boundary", fmt_boundary(value), border=True)

    series = services.boundary_over_time(filters)
    if not series.empty:
        st.plotly_chart(charts.boundary_chart(series, band.center, band.slo, band.red_flag),
                        key="boundary_chart")
    points = services.complexity_quality(filters)
    if not points.empty:
        st.plotly_chart(charts.complexity_scatter(points, boundaries), key="complexity_scatter")
    split = services.routing_split_trend(filters)
    if not split.empty:
        st.plotly_chart(charts.routing_split_chart(split, services.trend_bin_seconds(filters)),
                        key="routing_split_chart")
    st.subheader("Adaptation events")
    events = services.adaptations(filters)
    if events.empty:
        st.info("No adaptation yet: the treatment boundary moves only after enough samples and a "
                "quality difference between the models (see the README's loop section).")
    else:
        latest = events.iloc[0]
        st.info(f"Latest adaptation: {latest['bucket']} boundary {fmt_boundary(latest['old_boundary'])} → "
                f"{fmt_boundary(latest['new_boundary'])} because {latest['reason']}", icon=":material/tune:")
        render_table(events, ADAPTATIONS, key="adaptations_table")
    render_log_warning(summary)


render_live(render_routing)
