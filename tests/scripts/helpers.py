"""Run the runbook's entry points as subprocesses in a fresh folder laid out like a clone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from engine.settings import REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"
SET = "data_core/goldens/sample_set.json"
BASELINE = "data_core/goldens/baseline_new.json"
REPORT = "data_core/goldens/last_report.json"


def fresh_clone(tmp_path: Path) -> Path:
    """A working folder with data_core/goldens/sample_set.json copied from the repository."""
    work = tmp_path / "clone"
    (work / "data_core" / "goldens").mkdir(parents=True)
    shutil.copy(REPO_ROOT / SET, work / SET)
    return work


def env_for(work: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOS_")}
    env.update(AIOS_DATA_DIR=str(work / "data_core"), AIOS_PROVIDER="sim", AIOS_SIM_LATENCY_SCALE="0")
    env.update(extra)
    return env


def copy_clone(template: Path, tmp_path: Path) -> Path:
    """A copy of a prepared clone (so slow setup runs once per module)."""
    work = tmp_path / "clone"
    shutil.copytree(template, work)
    return work


def run_script(work: Path, script: str, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / script), *args], cwd=work, env=env_for(work, **extra),
                          capture_output=True, text=True, timeout=120)


def record(work: Path, **extra: str) -> subprocess.CompletedProcess:
    return run_script(work, "golden_runner.py", "record", "--set", SET, "--out", BASELINE, **extra)


def compare(work: Path, *more: str, **extra: str) -> subprocess.CompletedProcess:
    return run_script(work, "golden_runner.py", "compare", "--set", SET, "--baseline", BASELINE,
                      "--threshold", "0.25", "--out", REPORT, *more, **extra)
