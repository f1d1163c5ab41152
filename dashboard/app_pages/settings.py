"""Settings: raw adaptive state, model config and settings (secrets redacted), paths, kill switch,
unreadable log lines, and the state-changing actions (reset adaptive state, rotate the log)."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components.actions import render_reset, render_rotate
from dashboard.components.empty import render_empty_state
from dashboard.components.format import fmt_count
from dashboard.components.gateway import render_gateway_section
from dashboard.components.tables import EVENT_COUNTS, render_table

st.title("Settings")

summary = services.log_summary()
render_empty_state(summary)
provider = services.provider_info()
switch = services.kill_switch()

cols = st.columns(4)
cols[0].metric("Provider", "sim" if provider["simulated"] else provider["mode"], border=True,
               help="The built-in simulator answers when no model server does (AIOS_PROVIDER).")
cols[1].metric("Adaptive routing", "on" if switch["adaptive_enabled"] else "off", border=True,
               help="AIOS_ADAPTIVE_ENABLED=0 stops adaptation; treatment then routes like control.")
cols[2].metric("Events in log", fmt_count(summary["events"]), border=True,
               help="Every event type (answers, hypothesis checks, adaptations, comparisons, ...); "
                    "Overview counts answers only.")
cols[3].metric("Unreadable log lines", fmt_count(summary["unreadable"]), border=True)
st.caption(provider["reason"])

st.subheader("Events by type")
render_table(services.event_counts(), EVENT_COUNTS, key="event_counts_table")

st.subheader("Data paths")
st.table(services.data_paths())

st.subheader("Adaptive state (raw)")
state, state_error = services.adaptive_state()
if state_error:
    st.error(state_error)
elif state is None:
    st.info("No adaptive state yet: it is created with the first answer.")
else:
    st.json(state, expanded=1)

st.subheader("Model config")
config, config_error = services.model_config()
if config_error:
    st.error(config_error)
else:
    st.json(config)

st.subheader("Settings (secrets redacted)")
st.json(services.settings_view(), expanded=False)

st.subheader("Log reader")
st.json(summary["counters"], expanded=False)

st.subheader("Actions")
left, right = st.columns(2)
with left:
    render_reset()
with right:
    render_rotate()

render_gateway_section()
