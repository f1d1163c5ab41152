"""The Overview's answer to the runbook's daily question: the red flags that fire, and this day or
week against the one before (worse, slower or more expensive?). Draws only."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import services
from dashboard.components.format import (
    MISSING,
    fmt_change,
    fmt_count,
    fmt_latency,
    fmt_number,
    fmt_pct,
    fmt_pct_round,
)

# How each figure of the period comparison is written (the engine names the figures).
FIGURE_KINDS = {"answers": "count", "pass rate": "pct", "accuracy (simulated)": "pct",
                "P95 latency": "latency", "main-model share": "pct"}
_VALUE = {"count": fmt_count, "pct": fmt_pct, "latency": fmt_latency}
PERIOD_LABELS = {"day": ("Last 24 h", "24 h before"), "week": ("Last 7 days", "7 days before")}


def render_flags(flags) -> None:
    """One red box per red flag that fires; one quiet line when none does."""
    fired = [flag for flag in flags if flag.fired]
    for flag in fired:
        st.error(f"**Red flag: {flag.text}**", icon="🚩")
    if not fired:
        lines = {flag.name: flag.threshold for flag in flags}
        st.caption(f":green[No red flag:] pass rate ≥ {fmt_pct_round(lines.get('pass rate'))}, "
                   f"P95 ≤ {fmt_latency(lines.get('P95 latency'))}, both models answer, "
                   f"drift ≤ {fmt_number(lines.get('drift'))}.")


def format_period_table(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    now_label, before_label = PERIOD_LABELS[period]
    rows = []
    for row in frame.itertuples(index=False):
        kind = FIGURE_KINDS.get(row.figure, "pct")
        verdict = MISSING if row.worse is None else ("worse" if row.worse else "same or better")
        rows.append({"Figure": row.figure, now_label: _VALUE[kind](row.current),
                     before_label: _VALUE[kind](row.previous), "Change": fmt_change(row.change, kind),
                     "Reading": verdict if kind != "count" else MISSING})
    return pd.DataFrame(rows)


def render_period_table(filters) -> None:
    period = st.segmented_control("Compare with", services.period_choices(), default="day",
                                  key="overview_period", format_func=lambda p: f"the {p} before")
    period = period or "day"
    frame = services.period_comparison(filters, period)
    st.dataframe(format_period_table(frame, period), hide_index=True, key="period_table")
