"""Plotly figures for the pages: each takes what an engine function returned and only draws it."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

ROUTE_COLORS = {"main": "#1f77b4", "embedder": "#ff7f0e", "unknown": "#7f7f7f"}
BUCKET_COLORS = {"control": "#2ca02c", "treatment": "#9467bd"}


def _compact(fig: go.Figure, height: int = 320) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    return fig


def bucket_split_chart(split: pd.DataFrame) -> go.Figure:
    fig = px.bar(split, x="bucket", y="events", color="bucket", color_discrete_map=BUCKET_COLORS,
                 text=split["share"].map(lambda s: f"{100 * s:.1f} %"), title="A/B bucket split")
    return _compact(fig)


def routing_sources_chart(sources: pd.DataFrame) -> go.Figure:
    fig = px.bar(sources, x="bucket", y="share", color="source", color_discrete_map=ROUTE_COLORS,
                 barmode="stack", title="Who answered (share per bucket)",
                 category_orders={"source": ["main", "embedder", "unknown"]},
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
                      annotation_position="top" if bucket == "control" else "bottom")
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return _compact(fig, 400)


def routing_split_chart(series: pd.DataFrame) -> go.Figure:
    fig = px.area(series, x="t", y="share", color="route", facet_col="bucket",
                  color_discrete_map=ROUTE_COLORS, category_orders={"route": ["main", "embedder"]},
                  title="Routing split over time (share per bucket)")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _compact(fig)
