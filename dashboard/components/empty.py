"""What a page shows when there is nothing to show yet: what to do, and demo traffic a click away."""

from __future__ import annotations

import streamlit as st

from dashboard.components.actions import render_generate_demo


def render_empty_state(summary: dict) -> bool:
    """Draw the empty state and return True when the log holds no response yet."""
    if summary["responses"] > 0:
        return False
    if not summary["exists"]:
        st.info(f"No provenance log yet at `{summary['path']}`. Ask a question, run "
                "`python -m engine simulate --n 200`, or generate demo traffic here.")
    elif summary["unreadable"]:
        st.warning(f"The log at `{summary['path']}` has no readable answers "
                   f"({summary['unreadable']} unreadable lines). Generate demo traffic or check the file.")
    else:
        st.info(f"The log at `{summary['path']}` has no answers yet. Generate demo traffic to see the pages fill.")
    render_generate_demo(key="generate_demo_empty")
    return True


def render_log_warning(summary: dict) -> None:
    if summary["unreadable"]:
        st.caption(f":material/warning: {summary['unreadable']} unreadable log lines were skipped (see Settings).")

