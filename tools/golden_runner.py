"""Runbook 004's Windows path `py tools\\golden_runner.py ...`: the same entry point as scripts/golden_runner.py."""

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "golden_runner.py"), run_name="__main__")
