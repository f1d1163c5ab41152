"""The gateway's dashboard sections: the recipe bandit's arms (Hypotheses page) and the HTTP
gateway's address and health (Settings page). Draws only; data from dashboard.services."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components.charts import bandit_arms_chart
from dashboard.components.format import fmt_count, fmt_ms, fmt_number, fmt_pct


def render_bandit_section() -> None:
    st.subheader("Recipe bandit")
    arms, summary = services.bandit_arms()
    cols = st.columns(4)
    cols[0].metric("Bandit", "enabled" if summary["enabled"] else "disabled (fixed recipe)", border=True,
                   help="BANDIT_ENABLED=1 lets epsilon-greedy pick recipes; 0 serves each pair's default recipe.")
    cols[1].metric("Epsilon", fmt_number(summary["epsilon"]), border=True, help="Change with POST /bandit_config.")
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
        st.plotly_chart(bandit_arms_chart(arms[arms["pulls"] > 0]), key="bandit_arms_chart")


def render_gateway_section() -> None:
    st.subheader("HTTP gateway")
    health = services.gateway_health()
    cols = st.columns(3)
    cols[0].metric("Gateway", "up" if health["up"] else "down", border=True)
    cols[1].metric("Gateway address", health["url"], border=True, help="AIOS_GATEWAY_URL")
    cols[2].metric("Gateway /health latency", fmt_ms(health["latency_ms"]), border=True)
    if health["up"]:
        st.success(f"{health['detail']}; OpenAPI page: {health['url']}/docs", icon="🟢")
    else:
        st.warning(f"{health['detail']}", icon="🔌")
