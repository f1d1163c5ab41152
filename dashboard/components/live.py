"""Auto-refresh: only the live parts of a page rerun every few seconds, inside a fragment."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard import services


def render_live(render: Callable[[], None]) -> None:
    """Run `render` as a fragment that reruns on the auto-refresh interval when it is on."""
    st.fragment(render, run_every=services.refresh_interval())()
