"""The gateway's dashboard sections: the recipe bandit's arms (Hypotheses page) and the HTTP
gateway's address and health (Settings page). Draws only; data from dashboard.services."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components.charts import bandit_arms_chart
from dashboard.components.format import fmt_count, fmt_latency, fmt_number, fmt_pct
from dashboard.components.tables import BANDIT_ARMS, render_table


def render_bandit_section() -> None:
    st.subheader("Recipe bandit")
    arms, summary = services.bandit_arms()
    cols = st.columns(4)
    cols[0].metric("Bandit", "on" if summary["enabled"] else "off", border=True,
                   help="BANDIT_ENABLED=1 lets epsilon-greedy pick recipes; off (0) serves each pair's default "
                        "recipe.")
    cols[1].metric("Epsilon", fmt_number(summary["epsilon"]), border=True, help="Change with POST /bandit_config.")
    cols[2].metric("Explored share", fmt_pct(summary["explored_share"]), border=True,
                   help="Share of selections that explored; it should track epsilon when the bandit is enabled.")
    cols[3].metric("Selections", fmt_count(summary["selections"]), border=True)
    if not summary["selections"]:
        st.info("No recipe selections yet: they come from POST /choose and from chats through the gateway "
                "(`python -m engine serve`).")
    render_table(arms, BANDIT_ARMS, key="bandit_arms_table")
    if summary["selections"]:
        st.plotly_chart(bandit_arms_chart(arms[arms["pulls"] > 0]), key="bandit_arms_chart")


def render_gateway_section() -> None:
    st.subheader("HTTP gateway")
    health = services.gateway_health()
    cols = st.columns(2)
    cols[0].metric("Gateway", "up" if health["up"] else "down", border=True)
    cols[1].metric("/health latency", fmt_latency(health["latency_ms"]), border=True)
    st.caption(f"Address (AIOS_GATEWAY_URL): `{health['url']}`")
    if health["up"]:
        st.success(f"{health['detail']}; OpenAPI page: {health['url']}/docs", icon="🟢")
    else:
        st.warning(f"{health['detail']}", icon="🔌")
