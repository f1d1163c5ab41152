"""The shared sidebar: provider banner, time window and filters, auto-refresh and cache toggles."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components.actions import render_generate_demo


def render_provider_banner() -> None:
    """A visible SIMULATED banner whenever the built-in simulator answers instead of a model."""
    info = services.provider_info()
    if info["simulated"]:
        st.warning("**SIMULATED**: answers come from the built-in simulator, not a model server. "
                   f"{info['reason']}", icon=":material/science:")
    elif info["mode"] == "error":
        st.error(f"Model configuration problem: {info['reason']}")


def render_sidebar() -> None:
    info = services.provider_info()
    with st.sidebar:
        if info["simulated"]:
            st.markdown(":orange-background[**SIMULATED provider**]")
        st.caption(f"Provider: **{info['mode']}**"
                   + (f" · main `{info['main']}` · embedder `{info['embedder']}`" if info["main"] else ""))
        st.selectbox("Time window", services.window_choices(), key="window")
        options = services.filter_options()
        st.selectbox("Trait", [services.ALL, *options["trait"]], key="trait_filter")
        st.selectbox("Bucket", [services.ALL, *options["bucket"]], key="bucket_filter")
        st.selectbox("Route", [services.ALL, *options["route"]], key="route_filter")
        st.toggle(f"Auto-refresh (every {services.AUTO_REFRESH_SECONDS} s)", key="auto_refresh")
        st.toggle("Disable cache", key="disable_cache",
                  help="Recompute every figure from the log on each run (the runbook's fix when "
                       "the dashboard shows no new data).")
        st.divider()
        render_generate_demo(key="generate_demo")
