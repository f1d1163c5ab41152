"""Reading reports back: the case table and the pass-rate history across comparison files."""

from __future__ import annotations

import json

import pytest

from engine.errors import InputError
from engine.golden.history import compute_case_table, load_comparison_history, load_report

REPORT = {
    "status": "FAIL", "pass_rate": 0.5, "threshold": 0.25, "finished_at": "2026-01-02T00:00:00Z",
    "summary": {"cases": 2, "failed": 1},
    "cases": [
        {"id": "a", "status": "pass", "passed": True, "reasons": [], "why": "similarity 1.00 to the recorded answer",
         "similarity": 1.0, "quality": 0.9,
         "baseline_quality": 0.9, "latency_ms": 900.0, "route": "main", "source": "m", "pass_rate": 1.0},
        {"id": "b", "status": "fail", "passed": False, "reasons": ["no answer: source unknown", "x"],
         "similarity": None, "quality": 0.0, "baseline_quality": 0.8, "latency_ms": 3.0, "route": "embedder",
         "source": "unknown", "pass_rate": 0.0},
        {"id": "c", "status": "added", "passed": True, "reasons": ["added: not in the baseline"],
         "similarity": None, "quality": 0.7, "baseline_quality": None, "latency_ms": 800.0, "route": "main",
         "source": "m", "pass_rate": 1.0},
    ],
    "missing_cases": [{"id": "gone", "reason": "missing: in the baseline but no longer in the set"}],
}


def test_case_table_rows_and_results():
    table = compute_case_table(REPORT)
    assert list(table["case"]) == ["a", "b", "c", "gone"]
    assert list(table["result"]) == ["PASS", "FAIL", "ADDED", "MISSING"]
    assert table.loc[1, "reason"] == "no answer: source unknown; x"
    assert table.loc[2, "reason"] == "" and table["similarity"].isna().sum() == 3
    assert list(table["why"]) == ["similarity 1.00 to the recorded answer", "", "", ""]  # older reports: none


def test_load_report_none_when_absent_and_input_error_when_broken(tmp_path):
    assert load_report(tmp_path / "last_report.json") is None
    (tmp_path / "last_report.json").write_text('{"status": "PASS"}')
    with pytest.raises(InputError, match="last_report.json: not a golden report"):
        load_report(tmp_path / "last_report.json")


def test_history_is_ordered_by_time_and_skips_unreadable_files(tmp_path):
    for name, finished, rate in (("comparison_20260103T000000Z.json", "2026-01-03T00:00:00Z", 1.0),
                                 ("comparison_20260101T000000Z.json", "2026-01-01T00:00:00Z", 0.8)):
        (tmp_path / name).write_text(json.dumps(dict(REPORT, finished_at=finished, pass_rate=rate)))
    (tmp_path / "comparison_20260102T000000Z.json").write_text("{torn")
    (tmp_path / "last_report.json").write_text(json.dumps(REPORT))  # not part of the history
    history = load_comparison_history(tmp_path)
    assert list(history.frame["pass_rate"]) == [0.8, 1.0]
    assert history.unreadable == ["comparison_20260102T000000Z.json"]
    assert load_comparison_history(tmp_path / "nowhere").frame.empty
