"""`python -m engine backup-baseline`: dated copy of the golden baseline (runbook: Backup Golden Baselines)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.golden.runner import backup_baseline
from engine.settings import get_settings

NAME = "backup-baseline"
HELP = "copy the golden baseline to baseline_<YYYYMMDD>.json beside it (before major changes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", type=Path, default=None,
                        help="baseline to back up (default: <data dir>/goldens/baseline_new.json)")


def run(args: argparse.Namespace) -> int:
    source = args.baseline or get_settings().paths.baseline
    target = backup_baseline(source)
    print(f"Backed up {source} to {target}")
    return 0
