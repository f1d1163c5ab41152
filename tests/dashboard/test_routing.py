"""Routing page: boundaries with the drift SLO band and red flag, scatter, split, adaptations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dashboard.components.charts import COMPLEXITY_TITLE
from dashboard.components.format import fmt_boundary
from dashboard.components.tables import ADAPTATIONS, format_table
from engine.analysis import (
    DRIFT_RED_FLAG,
    DRIFT_SLO,
    Filters,
    compute_adaptations,
    compute_bin_seconds,
    compute_boundary_trend,
    compute_complexity_quality,
    compute_current_boundaries,
    compute_routing_split_over_time,
    compute_trend_display,
)
from tests.dashboard.conftest import (
    assert_same_frame,
    chart,
    engine_store,
    metrics,
    open_page,
    tables,
    texts,
    trace,
    values,
)


def check_routing(at, log_path, filters: Filters, boundaries: dict[str, float]) -> None:
    store = engine_store(log_path)
    shown = metrics(at)
    for bucket, value in boundaries.items():
        assert shown[f"{bucket} boundary"] == fmt_boundary(value)
    boundary_fig = chart(at, "Routing boundary over time")
    scatter = chart(at, COMPLEXITY_TITLE)
    split_fig = chart(at, "Routing split over time (share per bucket)")
    series = compute_boundary_trend(store, filters)
    for bucket, rows in series.groupby("bucket"):
        np.testing.assert_allclose(values(trace(boundary_fig, bucket).y),
                                   rows["boundary"].to_numpy(dtype=float))
    # The SLO band is control ± 0.08 and the red-flag lines sit at control ± 0.1.
    control = boundaries["control"]
    shapes = boundary_fig.layout.shapes
    band = next(s for s in shapes if s.type == "rect")
    assert (band.y0, band.y1) == pytest.approx((control - DRIFT_SLO, control + DRIFT_SLO))
    lines = sorted(s.y0 for s in shapes if s.type == "line")
    assert lines == pytest.approx([control - DRIFT_RED_FLAG, control + DRIFT_RED_FLAG])
    points = compute_complexity_quality(store, filters)
    assert sum(len(values(t.x)) for t in scatter.data) == len(points)
    drawn = sorted(s.x0 for s in scatter.layout.shapes)
    assert drawn == sorted(boundaries.values())
    split = compute_trend_display(compute_routing_split_over_time(store, filters),
                                  compute_bin_seconds(store, filters), ["share"], group_columns=["bucket", "route"])
    assert sum(len(values(t.y)) for t in split_fig.data) == len(split)
    adaptations = compute_adaptations(store, filters)
    assert_same_frame(tables(at)[0].drop(columns=["Time (UTC)"]),
                      format_table(adaptations, ADAPTATIONS).drop(columns=["Time (UTC)"]))
    if not adaptations.empty:  # the latest adaptation and its reason, in words above the table
        assert f"because {adaptations['reason'].iloc[0]}" in texts(at)


def test_routing_figures_equal_the_engine(fixture_log):
    at = open_page("routing")
    store = engine_store(fixture_log)
    # No adaptive state file in this fixture: the boundaries come from the log's last events.
    boundaries = compute_current_boundaries(store, Filters())
    assert boundaries == {"control": 0.5, "treatment": 0.45}
    check_routing(at, fixture_log, Filters(), boundaries)
    assert "quality delta 0.07 > 0.05 after 100 samples" in set(tables(at)[0]["Reason"])


def test_routing_draws_the_boundaries_of_the_adaptive_state(fixture_log, data_dir):
    state = {"version": 1, "buckets": {"control": {"boundary": 0.52, "sample_count": 60},
                                       "treatment": {"boundary": 0.43, "sample_count": 60}}}
    (data_dir / "analytics" / "adaptive_routing_state.json").write_text(json.dumps(state))
    at = open_page("routing")
    check_routing(at, fixture_log, Filters(), {"control": 0.52, "treatment": 0.43})


def test_routing_with_corrupt_lines(corrupt_log):
    at = open_page("routing")
    boundaries = compute_current_boundaries(engine_store(corrupt_log), Filters())
    check_routing(at, corrupt_log, Filters(), boundaries)


def test_routing_without_data_offers_demo_traffic(no_data_log):
    at = open_page("routing")
    assert at.button(key="generate_demo_empty")
    assert not at.get("plotly_chart")
