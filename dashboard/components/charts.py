"""Every Plotly figure the dashboard shows: each takes what a service returned and only draws it
(pages and the other components draw no figure themselves)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard.components.format import fmt_pct, fmt_pct_round
from engine.runbook import CONTROL, EMBEDDER, MAIN, MIN_PASS_RATE, TREATMENT, UNKNOWN_SOURCE

ROUTE_COLORS = {MAIN: "#1f77b4", EMBEDDER: "#ff7f0e", UNKNOWN_SOURCE: "#7f7f7f"}
BUCKET_COLORS = {CONTROL: "#2ca02c", TREATMENT: "#9467bd"}


def _compact(fig: go.Figure, height: int = 320) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    return fig


def bucket_split_chart(split: pd.DataFrame) -> go.Figure:
    fig = px.bar(split, x="bucket", y="events", color="bucket", color_discrete_map=BUCKET_COLORS,
                 text=split["share"].map(fmt_pct), title="A/B bucket split")
    return _compact(fig)


def routing_sources_chart(sources: pd.DataFrame) -> go.Figure:
    fig = px.bar(sources, x="bucket", y="share", color="source", color_discrete_map=ROUTE_COLORS,
                 barmode="stack", title="Who answered (share per bucket)",
                 category_orders={"source": [MAIN, EMBEDDER, UNKNOWN_SOURCE]},
                 hover_data=["events"])
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _compact(fig)


def pass_rate_chart(series: pd.DataFrame) -> go.Figure:
    fig = px.line(series, x="t", y="pass_rate", color="bucket", markers=True,
                  color_discrete_map=BUCKET_COLORS, title="Pass rate over time")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return _compact(fig)


def quality_chart(table: pd.DataFrame) -> go.Figure:
    fig = px.bar(table, x="bucket", y="mean_quality", color="route", barmode="group",
                 color_discrete_map=ROUTE_COLORS, title="Mean quality per bucket and route",
                 hover_data=["events", "pass_rate", "p10_quality"])
    fig.update_yaxes(range=[0, 1])
    return _compact(fig)


def boundary_chart(series: pd.DataFrame, control: float, slo: float, red_flag: float) -> go.Figure:
    """Boundary per bucket over time, with the drift SLO band and the red-flag lines around control."""
    fig = px.line(series, x="t", y="boundary", color="bucket", markers=True,
                  color_discrete_map=BUCKET_COLORS, title="Routing boundary over time")
    fig.add_hrect(y0=control - slo, y1=control + slo, fillcolor="green", opacity=0.08, line_width=0,
                  annotation_text=f"drift SLO ±{slo}", annotation_position="top left")
    fig.add_hline(y=control + red_flag, line_color="red", line_dash="dash",
                  annotation_text=f"red flag ±{red_flag}", annotation_position="top right")
    fig.add_hline(y=control - red_flag, line_color="red", line_dash="dash")
    fig.update_yaxes(range=[max(0.0, control - 2 * red_flag), min(1.0, control + 2 * red_flag)])
    return _compact(fig, 360)


def complexity_scatter(points: pd.DataFrame, boundaries: dict[str, float]) -> go.Figure:
    """Complexity against quality, coloured by route, with each bucket's current boundary drawn."""
    fig = px.scatter(points, x="complexity", y="quality", color="route", symbol="bucket",
                     color_discrete_map=ROUTE_COLORS, opacity=0.6,
                     title="Complexity vs quality (weight scatter)")
    for bucket, value in sorted(boundaries.items()):
        fig.add_vline(x=value, line_color=BUCKET_COLORS.get(bucket, "black"), line_dash="dot",
                      annotation_text=f"{bucket} {value:.3f}",
                      annotation_position="top" if bucket == CONTROL else "bottom")
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return _compact(fig, 400)


def routing_split_chart(series: pd.DataFrame) -> go.Figure:
    fig = px.area(series, x="t", y="share", color="route", facet_col="bucket",
                  color_discrete_map=ROUTE_COLORS, category_orders={"route": [MAIN, EMBEDDER]},
                  title="Routing split over time (share per bucket)")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _compact(fig)


def hypothesis_trends_chart(trends: pd.DataFrame) -> go.Figure:
    """Pass rate per hypothesis and time bin (bins without a check are left out)."""
    fig = px.line(trends.dropna(subset=["pass_rate"]), x="bin_start", y="pass_rate", color="hypothesis_id",
                  markers=True, hover_data=["checks", "passed", "failed", "errors"],
                  title="Pass rate per hypothesis over time")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return _compact(fig, 340)


def bandit_arms_chart(arms: pd.DataFrame) -> go.Figure:
    """Pulls per recipe, split into exploiting and exploring ones."""
    labels = arms["assistant"] + "/" + arms["category"] + " · " + arms["recipe_id"]
    fig = go.Figure([go.Bar(name="exploit", y=labels, x=arms["exploit_pulls"], orientation="h"),
                     go.Bar(name="explore", y=labels, x=arms["explored_pulls"], orientation="h")])
    fig.update_layout(barmode="stack", height=80 + 28 * len(arms), margin=dict(l=10, r=10, t=30, b=10),
                      title="Pulls per recipe", legend_title_text="")
    return fig


def golden_history_chart(history: pd.DataFrame) -> go.Figure:
    """Golden pass rate per comparison file, with the runbook's pass-rate SLO as a line."""
    figure = go.Figure(go.Scatter(x=history["finished_at"], y=history["pass_rate"], mode="lines+markers",
                                  name="pass rate", text=history["file"]))
    figure.add_hline(y=MIN_PASS_RATE, line_dash="dash", annotation_text=f"SLO {fmt_pct_round(MIN_PASS_RATE)}")
    figure.update_layout(title="Golden pass rate", yaxis_tickformat=".0%", yaxis_range=[0, 1.05],
                         height=320, margin=dict(t=50, b=30))
    return figure
