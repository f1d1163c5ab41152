"""Service level objectives (runbook 004): golden pass rate, P95 latency and boundary drift,
read from the last golden report and the adaptive routing state, judged against thresholds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from engine.analysis.stats import compute_boundary_drift
from engine.errors import InputError
from engine.routing.state import read_state_file
from engine.runbook import MAX_BOUNDARY_DRIFT, MAX_P95_LATENCY_MS, MIN_PASS_RATE


@dataclass(frozen=True)
class SloThresholds:
    min_pass_rate: float = MIN_PASS_RATE
    max_p95_latency_ms: float = MAX_P95_LATENCY_MS
    max_boundary_drift: float = MAX_BOUNDARY_DRIFT


@dataclass
class SloInputs:
    """The measured values, where they came from, and notes on anything assumed."""

    pass_rate: float
    p95_latency_ms: float | None
    boundary_drift: float
    report_path: Path
    state_path: Path
    report_finished_at: str | None = None
    report_status: str | None = None
    control_boundary: float | None = None
    treatment_boundary: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class SloVerdict:
    name: str
    value: float | None
    threshold: float
    comparison: str  # ">=" or "<="
    unit: str
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return {"slo": self.name, "value": self.value, "threshold": self.threshold,
                "comparison": self.comparison, "unit": self.unit, "verdict": "PASS" if self.ok else "FAIL",
                "shown_value": format_slo_value(self.value, self.unit),
                "shown_threshold": f"{self.comparison} {format_slo_value(self.threshold, self.unit)}"}


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_report_metrics(path: Path) -> dict[str, Any]:
    """pass_rate, p95 latency, finish time and status from a golden report (InputError naming the file)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: golden report not found. Run the golden compare first: "
                         "python scripts/golden_runner.py compare --set ... --baseline ... --out " + str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: golden report is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: golden report must be a JSON object")
    pass_rate = data.get("pass_rate")
    if not _number(pass_rate) or not 0 <= pass_rate <= 1:
        raise InputError(f"{path}: field pass_rate is missing or not a fraction in [0, 1]")
    latency = data.get("latency_ms")
    p95 = latency.get("p95") if isinstance(latency, dict) else None
    if p95 is not None and not _number(p95):
        raise InputError(f"{path}: field latency_ms.p95 is not a number")
    return {"pass_rate": float(pass_rate), "p95": None if p95 is None else float(p95),
            "finished_at": data.get("finished_at"), "status": data.get("status")}


def load_boundaries(path: Path) -> tuple[float | None, float | None, str | None]:
    """(control, treatment, note) boundaries from the adaptive state; a missing file is no drift.

    The state comes from the one typed reader (engine.routing.state.read_state_file) and the drift
    from engine.analysis.stats.compute_boundary_drift, the figure the A/B report and the dashboard
    use. An unusable state raises InputError naming this file and the field: an SLO check must not
    pass on a state it cannot read.
    """
    found = read_state_file(path)
    if found.problem is not None:
        raise InputError(found.problem)
    drift = compute_boundary_drift(found.state)
    if drift is None:
        return None, None, f"no adaptive state at {path}: drift taken as 0 (the A/B test has not started)"
    return drift.control_boundary, drift.treatment_boundary, None


def load_slo_inputs(report_path: Path, state_path: Path) -> SloInputs:
    """Read the report and the adaptive state. Raises InputError when the report is missing or either
    file is malformed (the message names the file and field)."""
    metrics = load_report_metrics(report_path)
    control, treatment, note = load_boundaries(state_path)
    drift = 0.0 if control is None or treatment is None else abs(treatment - control)
    notes = [note] if note else []
    if metrics["p95"] is None:
        notes.append(f"{report_path}: no latency recorded (no case ran); P95 cannot be judged")
    return SloInputs(pass_rate=metrics["pass_rate"], p95_latency_ms=metrics["p95"], boundary_drift=drift,
                     report_path=Path(report_path), state_path=Path(state_path),
                     report_finished_at=metrics["finished_at"], report_status=metrics["status"],
                     control_boundary=control, treatment_boundary=treatment, notes=notes)


def compute_slo_verdicts(inputs: SloInputs, thresholds: SloThresholds = SloThresholds()) -> list[SloVerdict]:
    """Each SLO against its threshold. Pass rate holds at >= its minimum; latency and drift at <= their
    maximum. A P95 that could not be measured fails (nothing ran, so nothing is known to be fast)."""
    p95 = inputs.p95_latency_ms
    # Rounded before comparing so a value printed as 0.08 is judged as 0.08 (binary float noise).
    drift = round(inputs.boundary_drift, 9)
    return [
        SloVerdict("pass rate", inputs.pass_rate, thresholds.min_pass_rate, ">=", "fraction",
                   round(inputs.pass_rate, 9) >= thresholds.min_pass_rate),
        SloVerdict("P95 latency", p95, thresholds.max_p95_latency_ms, "<=", "ms",
                   p95 is not None and p95 <= thresholds.max_p95_latency_ms),
        SloVerdict("boundary drift", drift, thresholds.max_boundary_drift, "<=", "",
                   drift <= thresholds.max_boundary_drift),
    ]


def format_slo_value(value: float | None, unit: str) -> str:
    """How an SLO value is written everywhere (CLI table, JSON, dashboard): 95.0%, 14,701 ms, 0.080."""
    if value is None:
        return "n/a"
    if unit == "fraction":
        return f"{value:.1%}"
    if unit == "ms":
        return f"{value:,.0f} ms"
    return f"{value:.3f}"


def render_slo_table(verdicts: list[SloVerdict], inputs: SloInputs) -> str:
    """A fixed-width table: SLO, value, threshold, verdict; then notes and the overall line."""
    rows = [("SLO", "value", "threshold", "verdict")]
    for v in verdicts:
        threshold = f"{v.comparison} {format_slo_value(v.threshold, v.unit)}"
        rows.append((v.name, format_slo_value(v.value, v.unit), threshold, "PASS" if v.ok else "FAIL"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"report: {inputs.report_path}" + (f" (finished {inputs.report_finished_at})"
                                                    if inputs.report_finished_at else ""))
    if inputs.control_boundary is not None:
        lines.append(f"adaptive state: {inputs.state_path} (control {inputs.control_boundary:.3f}, "
                     f"treatment {inputs.treatment_boundary:.3f})")
    lines.extend(f"note: {note}" for note in inputs.notes)
    failed = [v.name for v in verdicts if not v.ok]
    lines.append("SLO violation: " + ", ".join(failed) if failed else "All SLOs passing")
    return "\n".join(lines)
