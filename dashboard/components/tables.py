"""Every table of the dashboard as a reader sees it: human headers, one format per kind of number
(components/format.py), the key columns first. A spec names the columns shown, in order; a
page draws a table with `render_table(frame, SPEC, key)`; tests compare `format_table(engine
frame, SPEC)` with what the page shows."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard.components.format import FORMATS


@dataclass(frozen=True)
class TableSpec:
    """(column, header, kind) per shown column, in order; kind is a key of format.FORMATS."""

    columns: tuple[tuple[str, str, str], ...]

    @property
    def headers(self) -> list[str]:
        return [header for _, header, _ in self.columns]


def format_table(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """The frame's spec columns formatted as text under their headers (a missing column is skipped)."""
    out = {}
    for column, header, kind in spec.columns:
        if column in frame.columns:
            out[header] = [FORMATS[kind](value) for value in frame[column]]
    return pd.DataFrame(out, index=range(len(frame)))


def render_table(frame: pd.DataFrame, spec: TableSpec, key: str, **kwargs) -> None:
    st.dataframe(format_table(frame, spec), hide_index=True, key=key, **kwargs)


BUCKET_SPLIT = TableSpec((("bucket", "Bucket", "text"), ("events", "Answers", "count"), ("share", "Share", "pct")))
ROUTING_SOURCES = TableSpec((("bucket", "Bucket", "text"), ("source", "Answered by", "text"),
                             ("events", "Answers", "count"), ("share", "Share", "pct")))
QUALITY = TableSpec((("bucket", "Bucket", "text"), ("route", "Route", "text"), ("events", "Answers", "count"),
                     ("pass_rate", "Pass rate", "pct"), ("mean_quality", "Mean quality", "quality"),
                     ("p10_quality", "P10 quality", "quality"), ("p50_latency_ms", "P50 latency", "latency"),
                     ("p95_latency_ms", "P95 latency", "latency")))
HYPOTHESES = TableSpec((("hypothesis_id", "Hypothesis", "text"), ("checks", "Checks", "count"),
                        ("passed", "Passed", "count"), ("failed", "Failed", "count"), ("errors", "Errors", "count"),
                        ("pass_rate", "Pass rate", "pct"), ("ci_low", "95 % CI low", "pct"),
                        ("ci_high", "95 % CI high", "pct")))
ADAPTATIONS = TableSpec((("ts", "Time (UTC)", "time"), ("bucket", "Bucket", "text"),
                         ("old_boundary", "From", "boundary"), ("new_boundary", "To", "boundary"),
                         ("reason", "Reason", "text"), ("evidence", "Evidence", "text")))
AGREEMENT = TableSpec((("served_route", "Served by", "text"), ("score_band", "Complexity band", "text"),
                       ("comparisons", "Comparisons", "count"), ("failed", "Shadow failed", "count"),
                       ("agreement_rate", "Agreement", "pct")))
ACCURACY = TableSpec((("bucket", "Bucket", "text"), ("route", "Route", "text"),
                      ("answers", "Answers with known truth", "count"), ("correct", "Correct", "count"),
                      ("accuracy", "Accuracy (simulated)", "pct")))
QUALITY_METHODS = TableSpec((("quality_method", "Quality method", "text"), ("answers", "Answers", "count"),
                             ("mean_quality", "Mean quality", "quality"), ("pass_rate", "Pass rate", "pct")))
BANDIT_ARMS = TableSpec((("assistant", "Assistant", "text"), ("category", "Category", "text"),
                         ("recipe_id", "Recipe", "text"), ("pulls", "Pulls", "count"),
                         ("explored_pulls", "Explored", "count"), ("explored_share", "Explored share", "pct"),
                         ("mean_reward", "Mean reward", "quality"), ("rewards", "Rewards", "count")))
EVENT_COUNTS = TableSpec((("event_type", "Event type", "text"), ("events", "Events", "count")))
# The drill-down: the text first, then route and quality with its method; the ids last.
DRILLDOWN = TableSpec((("question", "Question", "text"), ("answer", "Answer", "text"), ("route", "Route", "text"),
                       ("quality", "Quality", "quality"), ("quality_method", "Method", "text"),
                       ("latency_ms", "Latency", "latency"), ("bucket", "Bucket", "text"), ("trait", "Trait", "text"),
                       ("ts", "Time (UTC)", "time"), ("error_code", "Error", "text"),
                       ("message_id", "Message id", "text")))
