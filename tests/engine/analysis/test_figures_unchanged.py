"""The read side gives the figures it gave before the restructure: a fixed simulated log, its adaptive
state and golden report (tests/data/fixed_log) against expected_figures.json, recorded with the pre-move
API. Strings and counts must be equal, floats within 1e-9."""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine import analysis
from engine.golden import slo
from engine.settings import get_settings

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "fixed_log"
EXPECTED: dict[str, Any] = json.loads((FIXTURE / "expected_figures.json").read_text())
STORE_FIGURES = ("compute_bucket_split", "compute_routing_sources", "compute_quality_by_bucket_route",
                 "compute_adaptations", "compute_hypothesis_pass_rates", "compute_routing_split_over_time",
                 "compute_pass_rate_over_time")


@pytest.fixture
def fixed_log(data_dir: Path) -> Path:
    """The fixture copied into this test's data dir; returns the log's path."""
    (data_dir / "analytics").mkdir()
    (data_dir / "goldens").mkdir()
    log = data_dir / "analytics" / "hypotheses.ndjson"
    log.write_bytes(gzip.decompress((FIXTURE / "hypotheses.ndjson.gz").read_bytes()))
    shutil.copy(FIXTURE / "adaptive_routing_state.json", data_dir / "analytics")
    shutil.copy(FIXTURE / "last_report.json", data_dir / "goldens")
    assert get_settings().paths.log == log
    return log


def frame(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A figure as the recording wrote it: records, bin times left out, other times as epoch
    milliseconds, floats to 10 decimals."""
    kept = df.drop(columns=[c for c in ("t", "bin_start") if c in df.columns])
    for column in kept.select_dtypes(include=["datetime", "datetimetz"]).columns:
        kept[column] = [None if pd.isna(t) else round(t.timestamp() * 1000) for t in kept[column]]
    return json.loads(kept.to_json(orient="records", double_precision=10))


def plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def assert_same(expected: Any, got: Any, where: str) -> None:
    """Equal strings, counts, None and structure; floats within 1e-9. A record may carry more
    columns than were recorded (new figures), never fewer."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), where
        assert set(expected) <= set(got), f"{where}: missing {sorted(set(expected) - set(got))}"
        for key, value in expected.items():
            assert_same(value, got[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), f"{where}: {got!r} != {expected!r}"
        for i, (a, b) in enumerate(zip(expected, got)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(expected, float) or isinstance(got, float):
        assert isinstance(got, (int, float)) and isinstance(expected, (int, float)), f"{where}: {got!r}"
        assert got == pytest.approx(expected, abs=1e-9, rel=0), where
    else:
        assert got == expected and type(got) is type(expected), f"{where}: {got!r} != {expected!r}"


@pytest.mark.parametrize("bulk_threshold", [1, 1 << 40], ids=["duckdb-ingest", "python-ingest"])
def test_store_figures_are_unchanged(fixed_log: Path, bulk_threshold: int) -> None:
    with analysis.EventStore(fixed_log, bulk_threshold=bulk_threshold) as store:
        stats = store.refresh()
        assert stats.method == ("duckdb" if bulk_threshold == 1 else "python") and stats.skipped == 0
        filters = analysis.Filters()
        assert_same(EXPECTED["headline"], plain(analysis.compute_headline(store, filters).as_dict()), "headline")
        for name in STORE_FIGURES:
            assert_same(EXPECTED[name], frame(getattr(analysis, name)(store, filters)), name)
        assert_same(EXPECTED["compute_current_boundaries"], analysis.compute_current_boundaries(store, filters),
                    "compute_current_boundaries")
        assert_same(EXPECTED["compute_event_counts"], frame(analysis.compute_event_counts(store)),
                    "compute_event_counts")
        # The summary with its intervals and the Hypotheses page's table are one figure now.
        assert_same(EXPECTED["hypothesis_summary"], frame(analysis.compute_hypothesis_pass_rates(store, filters)),
                    "hypothesis_summary")


@pytest.mark.parametrize("unit", ["session", "answer"])
def test_ab_report_is_unchanged(fixed_log: Path, unit: str) -> None:
    settings = get_settings()
    from_file = analysis.load_ab_report(settings, unit=unit)
    with analysis.EventStore(fixed_log) as store:
        store.refresh()
        from_store = analysis.load_ab_report(settings, unit=unit, store=store)
    for report in (from_file, from_store):
        assert_same(EXPECTED[f"ab_table_{unit}"], analysis.compute_table_rows(report), f"ab_table_{unit}")
        assert_same(EXPECTED[f"ab_verdict_{unit}"], plain(asdict(report.verdict)), f"ab_verdict_{unit}")
    assert from_file.expected_split == {"control": 0.5, "treatment": 0.5}  # from the fixture's state


def test_hypothesis_summary_of_the_log_file_is_unchanged(fixed_log: Path) -> None:
    summary = analysis.load_hypothesis_summary(fixed_log)
    assert_same(EXPECTED["hypothesis_summary"], frame(summary), "hypothesis_summary")
    assert_same(EXPECTED["compute_hypothesis_pass_rates"], frame(summary), "compute_hypothesis_pass_rates")


def test_slo_verdicts_are_unchanged(fixed_log: Path) -> None:
    paths = get_settings().paths
    inputs = slo.load_slo_inputs(paths.last_report, paths.adaptive_state)
    assert_same(EXPECTED["slo"], [v.to_dict() for v in slo.compute_slo_verdicts(inputs)], "slo")
