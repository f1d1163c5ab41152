"""Every command's `--help` is what it was before the restructure (tests/data/cli_help/, recorded
with COLUMNS=100): users' scripts and habits depend on the CLI's names, flags and wording.

A deliberate change to a command's options updates its file in the same commit, and says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HELP_DIR = REPO_ROOT / "tests" / "data" / "cli_help"
CASES = {"_top": [], "golden_record": ["golden", "record"], "golden_compare": ["golden", "compare"]}
CASES.update({path.stem: [path.stem] for path in HELP_DIR.glob("*.txt") if path.stem not in CASES})


def cli_help(args: list[str]) -> str:
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-m", "engine", *args, "--help"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_help_text_is_unchanged(name):
    assert cli_help(CASES[name]) == (HELP_DIR / f"{name}.txt").read_text(encoding="utf-8")


def test_every_command_has_a_recorded_help_text():
    from engine.cli import discover_commands

    assert set(discover_commands()) <= set(CASES), "a new command needs tests/data/cli_help/<name>.txt"
    assert len(CASES) >= 13
