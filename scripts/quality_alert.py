"""Runbook 004 entry point: `python scripts/quality_alert.py` = `python -m engine quality-alert`.

Exit 0 when all SLOs hold, 2 on a violation or a missing report.
"""

import sys
from pathlib import Path

# Runnable from any folder: the engine package lives in the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["quality-alert", *sys.argv[1:]]))
