"""Shared by the read-side tests: a fixture log with odd lines, and every store figure at once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine import analysis
from engine.analysis import EventStore, Filters
from tests.dashboard.fixture_log import write_fixture_log

ODD = [b"not json at all\n", b"[1, 2]\n", b"{}\n", b'{"event_type": "response", "bucket": "control", '
       b'"route": "main", "source": "m", "quality": "very good", "latency_ms": 5, "ts": "yesterday"}\n']


def write_odd_log(path: Path) -> Path:
    """100 fixture responses (each with a hypothesis event, an adaptation every 25) around 4 odd lines."""
    write_fixture_log(path, n=80)
    with open(path, "ab") as handle:
        handle.writelines(ODD)
    write_fixture_log(path, n=20, first=80)
    return path


def compute_all(store: EventStore, filters: Filters = Filters()) -> dict:
    return {
        "headline": analysis.compute_headline(store, filters).as_dict(),
        "split": analysis.compute_bucket_split(store, filters),
        "sources": analysis.compute_routing_sources(store, filters),
        "quality": analysis.compute_quality_by_bucket_route(store, filters),
        "boundary": analysis.compute_boundary_over_time(store, filters),
        "adaptations": analysis.compute_adaptations(store, filters),
        "hypotheses": analysis.compute_hypothesis_pass_rates(store, filters),
        "trends": analysis.compute_hypothesis_trends(store, filters),
        "split_over_time": analysis.compute_routing_split_over_time(store, filters),
    }


def assert_same_figures(a: dict, b: dict) -> None:
    for key in a:
        if isinstance(a[key], pd.DataFrame):
            pd.testing.assert_frame_equal(a[key], b[key], check_dtype=False)
        else:
            assert a[key] == pytest.approx(b[key]), key
