"""`python -m engine quality-alert` (and scripts/quality_alert.py): check the runbook's SLOs.

Exit 0 when every SLO holds, 2 on any violation, and 2 with a message when the report is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.errors import EXIT_BAD_INPUT, EXIT_OK
from engine.golden.slo import (
    MAX_BOUNDARY_DRIFT,
    MAX_P95_LATENCY_MS,
    MIN_PASS_RATE,
    SloThresholds,
    compute_slo_verdicts,
    load_slo_inputs,
    render_slo_table,
)
from engine.settings import get_settings

NAME = "quality-alert"
HELP = "check the SLOs (pass rate, P95 latency, boundary drift); exit 0 all hold, 2 on a violation"


def _fraction(text: str) -> float:
    """A pass rate as a fraction; 95 and 95% are read as 0.95."""
    value = float(text.rstrip("%"))
    value = value / 100 if value > 1 or text.endswith("%") else value
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a pass rate (0-1 or 0-100%)")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", type=Path, default=None,
                        help="golden report (default: <data dir>/goldens/last_report.json)")
    parser.add_argument("--state", type=Path, default=None,
                        help="adaptive state (default: <data dir>/analytics/adaptive_routing_state.json)")
    parser.add_argument("--min-pass-rate", type=_fraction, default=MIN_PASS_RATE,
                        help=f"minimum golden pass rate, 0-1 or a percentage (default {MIN_PASS_RATE})")
    parser.add_argument("--max-p95-ms", type=float, default=MAX_P95_LATENCY_MS,
                        help=f"maximum P95 latency in ms (default {MAX_P95_LATENCY_MS:.0f})")
    parser.add_argument("--max-drift", type=float, default=MAX_BOUNDARY_DRIFT,
                        help=f"maximum |treatment - control| boundary drift (default {MAX_BOUNDARY_DRIFT})")
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")


def run(args: argparse.Namespace) -> int:
    paths = get_settings().paths
    inputs = load_slo_inputs(args.report or paths.last_report, args.state or paths.adaptive_state)
    thresholds = SloThresholds(args.min_pass_rate, args.max_p95_ms, args.max_drift)
    verdicts = compute_slo_verdicts(inputs, thresholds)
    ok = all(v.ok for v in verdicts)
    if args.json:
        print(json.dumps({"ok": ok, "slos": [v.to_dict() for v in verdicts], "notes": inputs.notes,
                          "report": str(inputs.report_path), "state": str(inputs.state_path)}, indent=2))
    else:
        print(render_slo_table(verdicts, inputs))
    if not ok:
        print("quality alert: SLO violation (see the table above; runbook: SLO Alert Failing)", file=sys.stderr)
    return EXIT_OK if ok else EXIT_BAD_INPUT
