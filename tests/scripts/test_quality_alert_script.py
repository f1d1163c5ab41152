"""scripts/quality_alert.py on prepared reports and adaptive states: exit 0 when all SLOs hold,
2 for each violation on its own, 2 with a clear message when the report is missing."""

from __future__ import annotations

import json

import pytest

from tests.scripts.helpers import REPORT, fresh_clone, run_script

STATE = "data_core/analytics/adaptive_routing_state.json"


def prepare(work, *, pass_rate=1.0, p95=14_000.0, treatment=0.5):
    (work / REPORT).write_text(json.dumps({"status": "PASS", "pass_rate": pass_rate,
                                           "latency_ms": {"p50": 10_000.0, "p95": p95, "mean": 11_000.0}}))
    (work / STATE).parent.mkdir(parents=True, exist_ok=True)
    (work / STATE).write_text(json.dumps({"version": 1, "buckets": {
        "control": {"boundary": 0.5, "sample_count": 20}, "treatment": {"boundary": treatment, "sample_count": 20}}}))


def verdict_rows(stdout):
    return {line.split("  ")[0]: line.split()[-1] for line in stdout.splitlines()
            if line.startswith(("pass rate", "P95 latency", "boundary drift"))}


def test_all_slos_hold(tmp_path):
    work = fresh_clone(tmp_path)
    prepare(work)
    result = run_script(work, "quality_alert.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert verdict_rows(result.stdout) == {"pass rate": "PASS", "P95 latency": "PASS", "boundary drift": "PASS"}


@pytest.mark.parametrize("kw, failing", [
    ({"pass_rate": 0.9}, "pass rate"),
    ({"p95": 25_000.0}, "P95 latency"),
    ({"treatment": 0.62}, "boundary drift"),
])
def test_each_violation_alone_exits_2(tmp_path, kw, failing):
    work = fresh_clone(tmp_path)
    prepare(work, **kw)
    result = run_script(work, "quality_alert.py")
    assert result.returncode == 2, result.stdout
    rows = verdict_rows(result.stdout)
    assert [name for name, verdict in rows.items() if verdict == "FAIL"] == [failing]
    assert f"SLO violation: {failing}" in result.stdout


def test_thresholds_are_overridable_by_flags(tmp_path):
    work = fresh_clone(tmp_path)
    prepare(work, pass_rate=0.9, p95=25_000.0, treatment=0.62)
    result = run_script(work, "quality_alert.py", "--min-pass-rate", "90", "--max-p95-ms", "30000",
                        "--max-drift", "0.15")
    assert result.returncode == 0, result.stdout
    strict = run_script(work, "quality_alert.py", "--min-pass-rate", "0.95", "--json")
    assert strict.returncode == 2
    assert [s["verdict"] for s in json.loads(strict.stdout)["slos"]] == ["FAIL", "FAIL", "FAIL"]


def test_missing_report_exits_2_with_a_clear_message(tmp_path):
    work = fresh_clone(tmp_path)
    result = run_script(work, "quality_alert.py")
    assert result.returncode == 2
    assert "last_report.json: golden report not found" in result.stderr and "golden_runner.py compare" in result.stderr


def test_missing_state_counts_as_no_drift(tmp_path):
    work = fresh_clone(tmp_path)
    prepare(work)
    (work / STATE).unlink()
    result = run_script(work, "quality_alert.py")
    assert result.returncode == 0 and "drift taken as 0" in result.stdout
