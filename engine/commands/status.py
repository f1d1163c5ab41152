"""`python -m engine status [--json]`: profile, providers, models, paths, events, adaptive state."""

from __future__ import annotations

import argparse
import json

from engine.analysis.status import compute_status, render_status_text
from engine.settings import get_settings

NAME = "status"
HELP = "show the system overview: profile, provider, whether each model answers, paths, events"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace) -> int:
    status = compute_status(get_settings())
    print(json.dumps(status.to_dict(), indent=2) if args.json else render_status_text(status))
    return 0
