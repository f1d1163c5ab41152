"""ci/golden_ci.sh: records the baseline when none exists, compares, checks SLOs; non-zero on regression."""

from __future__ import annotations

import json
import subprocess

from engine.settings import REPO_ROOT
from tests.scripts.helpers import BASELINE, REPORT, env_for, fresh_clone

CI = REPO_ROOT / "ci" / "golden_ci.sh"


def run_ci(work, **extra):
    return subprocess.run(["bash", str(CI)], cwd=work, env=env_for(work, **extra), capture_output=True, text=True,
                          timeout=180)


def test_ci_records_then_compares_and_passes(tmp_path):
    work = fresh_clone(tmp_path)
    first = run_ci(work)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (work / BASELINE).exists() and "golden_ci: PASS" in first.stdout
    assert "Status: PASS (10/10" in first.stdout and "All SLOs passing" in first.stdout
    recorded = (work / BASELINE).read_bytes()
    second = run_ci(work, GOLDEN_JUNIT=str(work / "junit.xml"))
    assert second.returncode == 0 and "exists; keeping it" in second.stdout
    assert (work / BASELINE).read_bytes() == recorded and (work / "junit.xml").exists()


def test_ci_fails_on_regression(tmp_path):
    work = fresh_clone(tmp_path)
    assert run_ci(work).returncode == 0
    baseline = json.loads((work / BASELINE).read_text())
    for entry in baseline["cases"].values():
        entry["answer"] = "A completely unrelated answer about gardening and tomatoes."
    (work / BASELINE).write_text(json.dumps(baseline))
    result = run_ci(work)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "golden_ci: FAIL - golden regression" in result.stderr
    assert json.loads((work / REPORT).read_text())["status"] == "FAIL"


def test_ci_reports_bad_input_as_2(tmp_path):
    work = fresh_clone(tmp_path)
    (work / "data_core" / "goldens" / "sample_set.json").write_text("[]")
    result = run_ci(work)
    assert result.returncode == 2 and "has no cases" in result.stderr
