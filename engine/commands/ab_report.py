"""`python -m engine ab-report [--json]`: control vs treatment with intervals, SRM and a verdict."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from engine.analysis.ab_report import ANALYSIS_UNITS, DEFAULT_UNIT, load_ab_report, render_ab_report_text
from engine.errors import InputError
from engine.settings import get_settings

NAME = "ab-report"
HELP = "compare the control and treatment buckets (quality, pass rate, latency, main-model share)"


def _since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"option --since: {text!r} is not an ISO-8601 time such as 2026-01-31T08:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--log", type=Path, default=None,
                        help="read this log or rotated .ndjson.gz archive instead of the current log")
    parser.add_argument("--since", default=None, help="only answers at or after this UTC ISO-8601 time")
    parser.add_argument("--include-golden", action="store_true",
                        help="count golden-run answers too (they are forced into control)")
    parser.add_argument("--unit", choices=ANALYSIS_UNITS, default=DEFAULT_UNIT,
                        help="unit of analysis: session (default; buckets are per session, so answers of one "
                             "session are not independent) or answer (every answer independent, narrower intervals)")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.log is not None and not args.log.exists():
        raise InputError(f"option --log: {args.log} does not exist")
    report = load_ab_report(settings, path=args.log, since=_since(args.since) if args.since else None,
                            include_golden=args.include_golden, unit=args.unit)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        print(render_ab_report_text(report))
    return 0
