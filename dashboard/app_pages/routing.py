"""Routing: boundary over time with the drift SLO, complexity vs quality, routing split, adaptations,
replay curves per router and training the learned router."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components import charts
from dashboard.components.empty import render_empty_state, render_log_warning
from dashboard.components.format import fmt_boundary, fmt_pct
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

    series = services.boundary_trend(filters)
    if not series.empty:
        st.plotly_chart(charts.boundary_chart(series, band.center, band.slo, band.red_flag,
                                              services.boundary_bin_seconds(filters)), key="boundary_chart")
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
        # Fixed widths (px) that fit the main area at 1280 px; a long reason shows whole on hover.
        widths = {"Time (UTC)": 150, "Bucket": 85, "From": 60, "To": 60, "Reason": 370, "Evidence": 80}
        render_table(events, ADAPTATIONS, key="adaptations_table",
                     column_config={name: st.column_config.TextColumn(width=px) for name, px in widths.items()})
    render_log_warning(summary)


def render_replay(boundaries: dict[str, float]) -> None:
    """Replay curves of each router on the current log, and training the learned router from it."""
    st.subheader("Replay: other routers and boundaries on this traffic")
    curves, marks = services.replay_view(boundaries)
    if curves.empty:
        st.info("No routed answers to replay yet.")
    else:
        st.plotly_chart(charts.replay_curve_chart(curves, marks), key="replay_curve_chart")
        st.caption("Estimated from the answers' recorded route probabilities (AIOS_EXPLORE_RATE) and shadow "
                   "comparisons; the same figures as `python -m engine replay`.")
    if st.button("Train the learned router from this log", key="train_learned_router"):
        try:
            with st.spinner("Training on the log's labels..."):
                trained = services.train_learned_router()
        except services.EngineError as exc:
            st.warning(str(exc))
        else:
            held = trained.get("held_out") or {}
            apgr = "-" if held.get("apgr") is None else fmt_boundary(held["apgr"])
            share = "-" if held.get("main_share") is None else fmt_pct(held["main_share"])
            st.success(f"Model {trained['version']} trained on {trained['size']} questions and saved to "
                       f"{trained['out']}. Held out ({held.get('questions', 0)} questions it never saw): "
                       f"APGR {apgr}, main share at 0.5 {share}. Use it with AIOS_ROUTER=learned and "
                       f"AIOS_ROUTER_MODEL={services.learned_model_path()}.")


render_live(render_routing)
# Outside the live fragment: the replay reads the whole log, and training is on demand only.
if services.log_summary()["responses"]:
    render_replay(services.current_boundaries(services.current_filters()))
