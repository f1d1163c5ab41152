"""Runbook 004 entry point: `python scripts/golden_runner.py record|compare ...` = `python -m engine golden ...`."""

import sys
from pathlib import Path

# Runnable from any folder: the engine package lives in the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["golden", *sys.argv[1:]]))
