"""The gateway's dashboard sections: the recipe bandit's arms (Hypotheses page) and the HTTP
gateway's address and health (Settings page). Draws only; data from dashboard/services_gateway.py."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import services_gateway
from dashboard.components.format import fmt_count, fmt_pct


def arms_chart(arms: pd.DataFrame) -> go.Figure:
    labels = arms["assistant"] + "/" + arms["category"] + " · " + arms["recipe_id"]
    fig = go.Figure([go.Bar(name="exploit", y=labels, x=arms["exploit_pulls"], orientation="h"),
                     go.Bar(name="explore", y=labels, x=arms["explored_pulls"], orientation="h")])
    fig.update_layout(barmode="stack", height=80 + 28 * len(arms), margin=dict(l=10, r=10, t=30, b=10),
                      title="Pulls per recipe", legend_title_text="")
    return fig


def render_bandit_section() -> None:
    st.subheader("Recipe bandit")
    arms, summary = services_gateway.bandit_arms()
    cols = st.columns(4)
    cols[0].metric("Bandit", "enabled" if summary["enabled"] else "disabled (fixed recipe)", border=True,
                   help="BANDIT_ENABLED=1 lets epsilon-greedy pick recipes; 0 serves each pair's default recipe.")
    cols[1].metric("Epsilon", f"{summary['epsilon']:g}", border=True, help="Change with POST /bandit_config.")
    cols[2].metric("Explored share", fmt_pct(summary["explored_share"]), border=True,
                   help="Share of selections that explored; it should track epsilon when the bandit is enabled.")
    cols[3].metric("Selections", fmt_count(summary["selections"]), border=True)
    if not summary["selections"]:
        st.info("No recipe selections yet: they come from POST /choose and from chats through the gateway "
                "(`python -m engine serve`).")
    st.dataframe(arms, hide_index=True, key="bandit_arms_table", column_config={
        "explored_share": st.column_config.NumberColumn(format="percent"),
        "mean_reward": st.column_config.NumberColumn(format="%.3f")})
    if summary["selections"]:
        st.plotly_chart(arms_chart(arms[arms["pulls"] > 0]), key="bandit_arms_chart")


def render_gateway_section() -> None:
    st.subheader("HTTP gateway")
    health = services_gateway.gateway_health()
    cols = st.columns(3)
    cols[0].metric("Gateway", "up" if health["up"] else "down", border=True)
    cols[1].metric("Gateway address", health["url"], border=True, help="AIOS_GATEWAY_URL")
    cols[2].metric("Gateway /health latency", "–" if health["latency_ms"] is None else f"{health['latency_ms']:.0f} ms",
                   border=True)
    if health["up"]:
        st.success(f"{health['detail']}; OpenAPI page: {health['url']}/docs", icon="🟢")
    else:
        st.warning(f"{health['detail']}", icon="🔌")
