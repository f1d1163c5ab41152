"""SLO check: each SLO judged on its own against runbook 004's thresholds, inputs validated."""

from __future__ import annotations

import json

import pytest

from engine.errors import InputError
from engine.golden.slo import SloThresholds, compute_slo_verdicts, load_slo_inputs, render_slo_table


def write_report(path, pass_rate=1.0, p95=14000.0):
    path.write_text(json.dumps({"status": "PASS", "pass_rate": pass_rate, "finished_at": "2026-01-01T00:00:00Z",
                                "latency_ms": {"p50": 9000.0, "p95": p95, "mean": 9000.0}}))
    return path


def write_state(path, control=0.5, treatment=0.5):
    path.write_text(json.dumps({"version": 1, "buckets": {"control": {"boundary": control, "sample_count": 3},
                                                          "treatment": {"boundary": treatment, "sample_count": 3}}}))
    return path


def verdicts(tmp_path, **kw):
    report = write_report(tmp_path / "r.json", **{k: v for k, v in kw.items() if k in ("pass_rate", "p95")})
    state = write_state(tmp_path / "s.json", **{k: v for k, v in kw.items() if k in ("control", "treatment")})
    return {v.name: v.ok for v in compute_slo_verdicts(load_slo_inputs(report, state))}


def test_healthy_system_passes_all(tmp_path):
    assert verdicts(tmp_path) == {"pass rate": True, "P95 latency": True, "boundary drift": True}


@pytest.mark.parametrize("kw, failing", [
    ({"pass_rate": 0.9}, "pass rate"),
    ({"p95": 20_001.0}, "P95 latency"),
    ({"treatment": 0.59}, "boundary drift"),
    ({"treatment": 0.41}, "boundary drift"),
])
def test_each_violation_on_its_own(tmp_path, kw, failing):
    result = verdicts(tmp_path, **kw)
    assert [name for name, ok in result.items() if not ok] == [failing]


def test_thresholds_are_inclusive(tmp_path):
    assert all(verdicts(tmp_path, pass_rate=0.95, p95=20_000.0, treatment=0.58).values())


def test_thresholds_can_be_overridden(tmp_path):
    inputs = load_slo_inputs(write_report(tmp_path / "r.json", pass_rate=0.9), write_state(tmp_path / "s.json"))
    assert all(v.ok for v in compute_slo_verdicts(inputs, SloThresholds(min_pass_rate=0.9)))
    assert not compute_slo_verdicts(inputs, SloThresholds(max_p95_latency_ms=1000))[1].ok


def test_missing_state_means_no_drift_with_a_note(tmp_path):
    inputs = load_slo_inputs(write_report(tmp_path / "r.json"), tmp_path / "none.json")
    assert inputs.boundary_drift == 0.0 and "no adaptive state" in inputs.notes[0]
    assert "no adaptive state" in render_slo_table(compute_slo_verdicts(inputs), inputs)


def input_error(report, state) -> str:
    """The message of the InputError load_slo_inputs raises (a bad input: exit code 2)."""
    with pytest.raises(InputError) as info:
        load_slo_inputs(report, state)
    assert info.value.exit_code == 2
    return info.value.message


def test_missing_report_is_a_clear_input_error(tmp_path):
    assert "golden report not found" in input_error(tmp_path / "last_report.json", tmp_path / "s.json")


@pytest.mark.parametrize("broken, content, field", [
    ("report", '{"pass_rate": "high"}', "pass_rate"),
    ("report", '{"pass_rate": 1.0, "latency_ms": {"p95": "slow"}}', "latency_ms.p95"),
    ("report", "not json", "not valid JSON"),
    ("state", '{"buckets": {"control": {"boundary": 0.5}}}', "buckets.treatment.boundary"),
    ("state", '{"buckets": {"treatment": {"boundary": "0.55"}}}', "buckets.treatment.boundary"),
    ("state", '{"buckets": {"control": {"boundary": 0.5}, "treatment": {"boundary": 0.5', "not valid JSON"),
])
def test_a_malformed_report_or_state_names_the_file_and_field(tmp_path, broken, content, field):
    """An SLO check never passes on an input it cannot read (the typed readers say why), and leaves
    the file as it was."""
    report, state = write_report(tmp_path / "r.json"), write_state(tmp_path / "s.json")
    path = report if broken == "report" else state
    path.write_text(content)
    message = input_error(report, state)
    assert str(path) in message and field in message and path.read_text() == content


def test_drift_is_read_from_the_engines_own_state_file(tmp_path):
    from engine.routing.adaptive import AdaptiveConfig, AdaptiveState
    from engine.routing.state import save_state

    state = AdaptiveState.fresh("seed", AdaptiveConfig())
    state.buckets["treatment"].boundary = 0.43
    save_state(tmp_path / "s.json", state)
    inputs = load_slo_inputs(write_report(tmp_path / "r.json"), tmp_path / "s.json")
    assert inputs.boundary_drift == pytest.approx(0.07) and inputs.control_boundary == 0.5
    assert [v.ok for v in compute_slo_verdicts(inputs)] == [True, True, True]


def test_table_lists_each_slo_value_threshold_and_verdict(tmp_path):
    inputs = load_slo_inputs(write_report(tmp_path / "r.json", pass_rate=0.9),
                             write_state(tmp_path / "s.json", treatment=0.55))
    table = render_slo_table(compute_slo_verdicts(inputs), inputs)
    assert "pass rate       90.0%" in table and ">= 95.0%" in table and "FAIL" in table
    assert "boundary drift  0.050" in table and "SLO violation: pass rate" in table
