"""Drill-down: the answers, text first (question, answer, route, quality and its method), searched,
sorted and paginated by the engine; one answer's events folded below."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components.empty import render_empty_state
from dashboard.components.format import fmt_count, fmt_quality
from dashboard.components.tables import DRILLDOWN, format_table

st.title("Drill-down")

PAGE_SIZES = [25, 50, 100, 250]

summary = services.log_summary()
if not render_empty_state(summary):
    filters = services.current_filters()
    c1, c2, c3, c4 = st.columns([3, 1.2, 1.1, 0.8])
    search = c1.text_input("Search questions and answers", key="dd_search")
    sort_by = c2.selectbox("Sort by", services.sortable_columns(), key="dd_sort")
    descending = c3.toggle("Descending", value=True, key="dd_desc")
    page_size = c4.selectbox("Rows", PAGE_SIZES, index=1, key="dd_page_size")
    page_number = st.number_input("Page", min_value=1, value=1, step=1, key="dd_page")
    page = services.event_page(filters, search, sort_by, descending, int(page_number), int(page_size))
    st.caption(f"{fmt_count(page.total)} matching answers · page {page.page} of {page.pages} · "
               "click a row to see its events")
    selection = st.dataframe(format_table(page.rows, DRILLDOWN), hide_index=True, key="dd_table",
                             on_select="rerun", selection_mode="single-row",
                             column_config={"Question": st.column_config.TextColumn(width="medium"),
                                            "Answer": st.column_config.TextColumn(width="medium")})
    ids = list(page.rows["message_id"])
    if ids:
        chosen_rows = selection.selection.rows if selection is not None else []
        index = chosen_rows[0] if chosen_rows else 0
        row = page.rows.iloc[index]
        st.subheader("Selected answer")
        st.markdown(f"**Question:** {row['question']}")
        st.markdown(f"**Answer:** {row['answer']}")
        st.caption(f"route {row['route']} · quality {fmt_quality(row['quality'])} "
                   f"({row.get('quality_method') or 'heuristic'}) · message {row['message_id']}")
        message_id = st.selectbox("Events of message", ids, index=index, key=f"dd_event_{index}")
        with st.expander("All events of this message (JSON)", expanded=False):
            st.json(services.message_events(message_id), expanded=1)
