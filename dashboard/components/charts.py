"""Every Plotly figure the dashboard shows: each takes what a service returned and only draws it
(pages and the other components draw no figure themselves)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard.components.format import fmt_pct, fmt_pct_round
from engine.runbook import CONTROL, EMBEDDER, MAIN, MIN_PASS_RATE, TREATMENT, UNKNOWN_SOURCE

COMPLEXITY_TITLE = "Complexity vs quality, one dot per answer (up to 5,000 sampled)"
ROUTE_COLORS = {MAIN: "#1f77b4", EMBEDDER: "#ff7f0e", UNKNOWN_SOURCE: "#7f7f7f"}
BUCKET_COLORS = {CONTROL: "#2ca02c", TREATMENT: "#9467bd"}


def _compact(fig: go.Figure, height: int = 320) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend_title_text="")
    return fig


def bucket_split_chart(split: pd.DataFrame) -> go.Figure:
    fig = px.bar(split, x="bucket", y="events", color="bucket", color_discrete_map=BUCKET_COLORS,
                 text=split["share"].map(fmt_pct), title="A/B bucket split", labels={"events": "answers"})
    return _compact(fig)


def routing_sources_chart(sources: pd.DataFrame) -> go.Figure:
    fig = px.bar(sources, x="bucket", y="share", color="source", color_discrete_map=ROUTE_COLORS,
                 barmode="stack", title="Who answered (share per bucket)",
                 category_orders={"source": [MAIN, EMBEDDER, UNKNOWN_SOURCE]},
                 hover_data=["events"], labels={"events": "answers", "source": "answered by"})
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _compact(fig)


def _time_axis(fig: go.Figure, bin_seconds: int) -> go.Figure:
    """Ticks no finer than the bins: whole seconds for second bins, minutes, then days."""
    fmt = "%H:%M:%S" if bin_seconds < 60 else "%H:%M" if bin_seconds < 86400 else "%b %d"
    fig.update_xaxes(tickformat=fmt, title_text="time (UTC)", nticks=6, tickangle=0)
    return fig


def _marker_sizes(counts: pd.Series) -> list[float]:
    """Marker area grows with the answers in a bin, so a bin of few answers looks light."""
    top = max(float(counts.max() or 1), 1.0)
    return [4 + 10 * (float(n) / top) ** 0.5 for n in counts.fillna(0)]


def pass_rate_chart(series: pd.DataFrame, bin_seconds: int, min_count: int) -> go.Figure:
    """Pass rate per bucket and bin; marker size and hover show each bin's answers. Bins of fewer
    than `min_count` answers and gaps without data carry no value (the engine blanked them), so
    the line breaks there instead of drawing a cliff or a bridge."""
    fig = go.Figure()
    for bucket in sorted(series["bucket"].dropna().unique()):
        part = series[series["bucket"] == bucket]
        fig.add_trace(go.Scatter(
            x=part["t"], y=part["pass_rate"], name=bucket, mode="lines+markers", connectgaps=False,
            line_color=BUCKET_COLORS.get(bucket), marker_size=_marker_sizes(part["events"]),
            customdata=part["events"], hovertemplate="%{x}<br>pass rate %{y:.1%}<br>n = %{customdata} answers"))
    fig.update_layout(title=f"Pass rate over time (bins of fewer than {min_count} answers not drawn)")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], title_text="pass rate")
    return _compact(_time_axis(fig, bin_seconds))


def quality_chart(table: pd.DataFrame) -> go.Figure:
    fig = px.bar(table, x="bucket", y="mean_quality", color="route", barmode="group",
                 color_discrete_map=ROUTE_COLORS, title="Mean quality per bucket and route",
                 hover_data=["events", "pass_rate", "p10_quality"],
                 labels={"mean_quality": "mean quality", "events": "answers", "pass_rate": "pass rate",
                         "p10_quality": "P10 quality"})
    fig.update_yaxes(range=[0, 1])
    return _compact(fig)


def boundary_chart(series: pd.DataFrame, control: float, slo: float, red_flag: float,
                   bin_seconds: int) -> go.Figure:
    """Boundary per bucket over time, with the drift SLO band and the red-flag lines around control.
    A step line: the boundary holds its value until the next bin moves it, and breaks at a gap
    without answers (the engine put a blank row there); marker size and hover show each bin's n."""
    fig = go.Figure()
    for bucket in sorted(series["bucket"].dropna().unique()):
        part = series[series["bucket"] == bucket]
        fig.add_trace(go.Scatter(
            x=part["t"], y=part["boundary"], name=bucket, mode="lines+markers", line_shape="hv",
            connectgaps=False, line_color=BUCKET_COLORS.get(bucket), marker_size=_marker_sizes(part["events"]),
            customdata=part["events"], hovertemplate="%{x}<br>boundary %{y:.3f}<br>n = %{customdata} answers"))
    fig.update_layout(title="Routing boundary over time")
    fig.update_yaxes(title_text="boundary")
    _time_axis(fig, bin_seconds)
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
                     title=COMPLEXITY_TITLE, labels={"complexity": "complexity score", "quality": "quality"})
    for bucket, value in sorted(boundaries.items()):
        fig.add_vline(x=value, line_color=BUCKET_COLORS.get(bucket, "black"), line_dash="dot",
                      annotation_text=f"{bucket} {value:.3f}",
                      annotation_position="top" if bucket == CONTROL else "bottom")
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return _compact(fig, 400)


def routing_split_chart(series: pd.DataFrame, bin_seconds: int) -> go.Figure:
    """Share of each route per bucket and bin (bins of too few answers and gaps left blank)."""
    fig = px.line(series, x="t", y="share", color="route", facet_col="bucket", markers=True,
                  color_discrete_map=ROUTE_COLORS, category_orders={"route": [MAIN, EMBEDDER]},
                  hover_data={"events": True}, facet_col_spacing=0.08,
                  labels={"t": "time (UTC)", "share": "share", "events": "answers", "route": "route"},
                  title="Routing split over time (share per bucket)")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_traces(connectgaps=False)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return _compact(_time_axis(fig, bin_seconds))


def agreement_chart(table: pd.DataFrame) -> go.Figure:
    """Agreement with the other model per complexity band and served route, n on hover."""
    fig = px.bar(table, x="score_band", y="agreement_rate", color="served_route", barmode="group",
                 color_discrete_map=ROUTE_COLORS, hover_data={"comparisons": True, "failed": True},
                 labels={"score_band": "complexity band", "agreement_rate": "agreement",
                         "served_route": "served by", "comparisons": "comparisons", "failed": "shadow failed"},
                 title="Agreement with the other model's answer (shadow comparisons)")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return _compact(fig)


def hypothesis_trends_chart(trends: pd.DataFrame) -> go.Figure:
    """Pass rate per hypothesis and time bin; bins of too few checks and gaps carry no value (the
    engine blanked them), so lines break there."""
    fig = px.line(trends, x="bin_start", y="pass_rate", color="hypothesis_id",
                  markers=True, hover_data=["checks", "passed", "failed", "errors"],
                  labels={"bin_start": "time (UTC)", "pass_rate": "pass rate", "hypothesis_id": "hypothesis"},
                  title="Pass rate per hypothesis over time")
    fig.update_traces(connectgaps=False)
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
                         height=320, margin=dict(t=50, b=30), xaxis_tickformat="%b %d %H:%M",
                         xaxis_title="compare finished (UTC)", yaxis_title="pass rate")
    if len(history) < 3:  # one or two runs: a tick per run, not sub-second ones between them
        figure.update_xaxes(tickmode="array", tickvals=list(history["finished_at"]))
    return figure


def replay_curve_chart(curves: pd.DataFrame, marks: pd.DataFrame) -> go.Figure:
    """Estimated quality against main share per router (replayed on the log), with the boundaries in
    use marked on the curve of the router the log used."""
    fig = px.line(curves, x="main_share", y="quality", color="router", markers=True,
                  hover_data={"boundary": ":.3f", "accuracy": ":.3f"},
                  labels={"main_share": "share sent to main", "quality": "estimated mean quality"},
                  title="Replay: quality against main share, per router, on the logged traffic")
    for _, mark in marks.iterrows():
        if mark["main_share"] is None or mark["quality"] is None:
            continue
        fig.add_trace(go.Scatter(x=[mark["main_share"]], y=[mark["quality"]], mode="markers+text",
                                 marker={"size": 13, "symbol": "diamond",
                                         "color": BUCKET_COLORS.get(mark["bucket"], "black")},
                                 text=[f"{mark['bucket']} {mark['boundary']:.3f}"], textposition="top center",
                                 name=f"{mark['bucket']} boundary in use", showlegend=True))
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    return _compact(fig, 380)
