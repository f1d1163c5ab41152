"""Drill-down: the per-message event table, searchable, sortable and paginated by the engine."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components.empty import render_empty_state

st.title("Drill-down")

PAGE_SIZES = [25, 50, 100, 250]

summary = services.log_summary()
if not render_empty_state(summary):
    filters = services.current_filters()
    c1, c2, c3, c4 = st.columns([3, 1.2, 0.8, 0.8])
    search = c1.text_input("Search questions and answers", key="dd_search")
    sort_by = c2.selectbox("Sort by", services.sortable_columns(), key="dd_sort")
    descending = c3.toggle("Descending", value=True, key="dd_desc")
    page_size = c4.selectbox("Rows", PAGE_SIZES, index=1, key="dd_page_size")
    page_number = st.number_input("Page", min_value=1, value=1, step=1, key="dd_page")
    page = services.event_page(filters, search, sort_by, descending, int(page_number), int(page_size))
    st.caption(f"{page.total:,} matching answers · page {page.page} of {page.pages}")
    selection = st.dataframe(page.rows, hide_index=True, key="dd_table", on_select="rerun",
                             selection_mode="single-row",
                             column_config={"question": st.column_config.TextColumn(width="large"),
                                            "answer": st.column_config.TextColumn(width="large")})
    ids = list(page.rows["message_id"])
    if ids:
        chosen_rows = selection.selection.rows if selection is not None else []
        index = chosen_rows[0] if chosen_rows else 0
        message_id = st.selectbox("Show the whole event of", ids, index=index, key=f"dd_event_{index}")
        st.json(services.message_events(message_id), expanded=2)
