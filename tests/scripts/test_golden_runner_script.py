"""Runbook 004's golden commands, verbatim, as subprocesses on the simulator in a fresh data dir;
an injected regression; malformed inputs exiting 2 with the file and case named."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from engine.settings import REPO_ROOT
from tests.scripts.helpers import (
    BASELINE,
    REPORT,
    SET,
    compare,
    copy_clone,
    env_for,
    fresh_clone,
    record,
    run_script,
)
from tests.support.fake_openai import FakeOpenAIServer, closed_port


def test_runbook_record_then_compare_passes_ten_of_ten(tmp_path):
    work = fresh_clone(tmp_path)
    rec = record(work)
    assert rec.returncode == 0, rec.stderr
    assert "Recorded 10 cases" in rec.stdout and "60% main, 40% embedder" in rec.stdout
    cmp_ = compare(work)
    assert cmp_.returncode == 0, cmp_.stdout + cmp_.stderr
    assert "Status: PASS (10/10 cases pass" in cmp_.stdout
    report = json.loads((work / REPORT).read_text())
    assert report["status"] == "PASS" and report["pass_rate"] == 1.0 and report["summary"]["label"] == "10/10"
    assert report["routing"]["main_pct"] == 0.6 and report["simulated"] is True
    assert report["set"]["hash"] == json.loads((work / BASELINE).read_text())["set_hash"]
    assert len(list((work / "data_core" / "goldens").glob("comparison_*.json"))) == 1
    alert = run_script(work, "quality_alert.py")
    assert alert.returncode == 0, alert.stdout + alert.stderr
    assert "All SLOs passing" in alert.stdout
    log = (work / "data_core" / "analytics" / "hypotheses.ndjson").read_text().splitlines()
    golden = [json.loads(line) for line in log if '"golden"' in line]
    assert len(golden) == 20 and {e["mode"] for e in golden} == {"record", "compare"}
    assert not [line for line in log if '"event_type":"response"' in line]  # goldens are not traffic


def test_python_m_engine_golden_uses_data_dir_defaults_and_writes_junit(tmp_path):
    work = fresh_clone(tmp_path)
    env = env_for(work)
    base = [sys.executable, "-m", "engine", "golden"]
    rec = subprocess.run([*base, "record", "-j", "3"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert rec.returncode == 0, rec.stderr
    assert (work / BASELINE).exists()
    junit = work / "junit.xml"
    cmp_ = subprocess.run([*base, "compare", "-j", "5", "--repeat", "2", "--junit", str(junit)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert cmp_.returncode == 0, cmp_.stdout + cmp_.stderr
    report = json.loads((work / REPORT).read_text())
    assert report["summary"]["runs"] == 20 and report["repeat"] == 2 and report["jobs"] == 5
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("tests") == "10" and suite.get("failures") == "0"
    backup = subprocess.run([sys.executable, "-m", "engine", "backup-baseline"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert backup.returncode == 0 and len(list((work / "data_core" / "goldens").glob("baseline_2*.json"))) == 1


def test_unreachable_main_model_regresses_its_cases_and_fails_the_slo(tmp_path):
    work = fresh_clone(tmp_path)
    reply = lambda body: f"Here is a careful answer about: {body['messages'][-1]['content']}"  # noqa: E731
    with FakeOpenAIServer(models=["main-7b", "small-1b"], reply=reply) as server:
        models = dict(AIOS_PROVIDER="openai", AIOS_MAIN_MODEL="main-7b", AIOS_EMBEDDER_MODEL="small-1b",
                      AIOS_MAIN_ENDPOINT=server.chat_url, AIOS_EMBEDDER_ENDPOINT=server.chat_url,
                      AIOS_MAX_RETRIES="0")
        assert record(work, **models).returncode == 0
        assert compare(work, **models).returncode == 0
        broken = dict(models, AIOS_MAIN_ENDPOINT=f"http://127.0.0.1:{closed_port()}/v1/chat/completions")
        result = compare(work, **broken)
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads((work / REPORT).read_text())
    assert report["status"] == "FAIL"
    main_cases = [row["id"] for row in report["cases"] if row["route"] == "main"]
    assert sorted(report["summary"]["regressed"]) == sorted(main_cases) and len(main_cases) == 6
    for case_id in main_cases:
        assert f"FAIL {case_id}: no answer: source unknown (PROVIDER_UNREACHABLE)" in result.stdout
    alert = run_script(work, "quality_alert.py")
    assert alert.returncode == 2 and "SLO violation: pass rate" in alert.stdout


def test_a_much_better_baseline_makes_compare_fail_on_quality_and_similarity(tmp_path, compared_clone):
    work = copy_clone(compared_clone, tmp_path)
    baseline = json.loads((work / BASELINE).read_text())
    first = next(iter(baseline["cases"]))
    baseline["cases"][first].update(quality=1.0, answer="An entirely different, richer explanation " * 5)
    (work / BASELINE).write_text(json.dumps(baseline))
    result = compare(work)
    assert result.returncode == 1
    assert f"FAIL {first}: " in result.stdout and "answer similarity to the baseline" in result.stdout


@pytest.fixture(scope="module")
def compared_clone(tmp_path_factory):
    """A clone with a recorded baseline and one passing report (made once for the module)."""
    work = fresh_clone(tmp_path_factory.mktemp("template"))
    assert record(work).returncode == 0
    assert compare(work).returncode == 0
    return work


def write(work, rel, content):
    path = work / rel
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


CASES = json.loads((REPO_ROOT / SET).read_text())


@pytest.mark.parametrize("which, content, expected", [
    ("set", "{this is not json", "not valid JSON (line 1"),
    ("set", CASES[:3] + [{"id": "no_question", "trait": "general"}],
     "case 'no_question' (#4): field 'question' is missing"),
    ("set", CASES[:3] + [dict(CASES[1])], f"case '{CASES[1]['id']}' (#4): duplicate id"),
    ("set", "", "golden set file is empty"),
    ("set", CASES[:2] + [{"id": "blank", "question": ""}], "case 'blank' (#3): field 'question' is empty"),
    ("baseline", "", "baseline file is empty"),
    ("baseline", "[not json", "not valid JSON"),
])
def test_malformed_inputs_exit_2_naming_file_and_case(tmp_path, compared_clone, which, content, expected):
    work = copy_clone(compared_clone, tmp_path)
    report_before = (work / REPORT).read_bytes()
    history_before = sorted((work / "data_core" / "goldens").glob("comparison_*.json"))
    path = write(work, SET if which == "set" else BASELINE, content)
    result = compare(work)
    assert result.returncode == 2, result.stdout + result.stderr
    assert path.name in result.stderr and expected in result.stderr
    assert (work / REPORT).read_bytes() == report_before  # no report written, old one whole
    assert sorted((work / "data_core" / "goldens").glob("comparison_*.json")) == history_before
    assert not list((work / "data_core" / "goldens").glob(".*tmp"))


def test_baseline_from_another_set_exits_2(tmp_path, compared_clone):
    work = copy_clone(compared_clone, tmp_path)
    (work / REPORT).unlink()
    other = [{"id": "other_1", "question": "What colour is the sky?", "trait": "general"}]
    write(work, SET, other)
    result = compare(work)
    assert result.returncode == 2
    assert "baseline_new.json" in result.stderr and "baseline is from another set" in result.stderr
    assert "case 'other_1'" in result.stderr and not (work / REPORT).exists()


def test_missing_set_and_baseline_exit_2(tmp_path):
    work = fresh_clone(tmp_path)
    result = compare(work)
    assert result.returncode == 2 and "baseline_new.json: baseline file not found" in result.stderr
    (work / SET).unlink()
    result = record(work)
    assert result.returncode == 2 and "sample_set.json: golden set file not found" in result.stderr


def test_ctrl_c_exits_130_and_leaves_the_previous_report_whole(tmp_path, compared_clone):
    import signal
    import time

    work = copy_clone(compared_clone, tmp_path)
    before = (work / REPORT).read_bytes()
    history_before = sorted((work / "data_core" / "goldens").glob("comparison_*.json"))
    with FakeOpenAIServer(models=["main-7b", "small-1b"], reply="slow answer", delay_s=1.0) as server:
        env = env_for(work, AIOS_PROVIDER="openai", AIOS_MAIN_ENDPOINT=server.chat_url,
                      AIOS_EMBEDDER_ENDPOINT=server.chat_url, AIOS_MAX_RETRIES="0")
        proc = subprocess.Popen([sys.executable, str(REPO_ROOT / "scripts" / "golden_runner.py"), "compare",
                                 "--set", SET, "--baseline", BASELINE, "--out", REPORT, "-j", "2"],
                                cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not server.chat_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    assert (work / REPORT).read_bytes() == before
    assert sorted((work / "data_core" / "goldens").glob("comparison_*.json")) == history_before
    assert not [p for p in (work / "data_core" / "goldens").iterdir() if p.name.startswith(".")]


def test_runbook_windows_path_tools_golden_runner_records_the_same_way(tmp_path):
    """Runbook 004 writes `py tools\\golden_runner.py record ...`; that path works too."""
    work = fresh_clone(tmp_path)
    rec = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "golden_runner.py"), "record",
                          "--set", SET, "--out", BASELINE], cwd=work, env=env_for(work),
                         capture_output=True, text=True, timeout=120)
    assert rec.returncode == 0, rec.stderr
    assert "Recorded 10 cases" in rec.stdout
    assert json.loads((work / BASELINE).read_text())["cases"]
