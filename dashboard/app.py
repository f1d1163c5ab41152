"""Entry point of the quality dashboard: page config, shared sidebar, navigation over the pages.

Run with `bash scripts/run_dashboard.sh` (or `streamlit run dashboard/app.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts only dashboard/ on sys.path; the pages import the
# `dashboard` and `engine` packages from the repository root.
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import streamlit as st  # noqa: E402

from dashboard import services  # noqa: E402
from dashboard.components.actions import render_flash  # noqa: E402
from dashboard.components.sidebar import render_provider_banner, render_sidebar  # noqa: E402

st.set_page_config(page_title="AIOS quality dashboard", page_icon=":material/monitoring:", layout="wide")

# One line per page; a new page registers itself by adding its line here.
PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("app_pages/hypotheses.py", title="Hypotheses", icon=":material/science:"),
    st.Page("app_pages/routing.py", title="Routing", icon=":material/alt_route:"),
    st.Page("app_pages/drilldown.py", title="Drill-down", icon=":material/search:"),
    st.Page("app_pages/goldens.py", title="Goldens", icon=":material/verified:"),
    st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
]

navigation = st.navigation(PAGES)
services.begin_run()
render_sidebar()
render_provider_banner()
render_flash()
navigation.run()
