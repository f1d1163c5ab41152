"""`python -m engine status|rotate` as a user runs them (subprocesses), and the CLI's exit codes."""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys

import pytest

from engine.cli import build_parser, main
from engine.errors import EXIT_BAD_INPUT
from engine.provenance import EventSink
from engine.settings import REPO_ROOT


@pytest.fixture(autouse=True)
def keep_root_logging():
    """main() installs its own stderr handler on the root logger; give later tests theirs back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def run_engine(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **extra_env)
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True,
                          env=env, cwd=REPO_ROOT, timeout=60)


def write_events(log, count: int) -> None:
    with EventSink(log) as sink:
        sink.append([{"event_type": "feedback", "message_id": f"m{i}", "reward": 1.0} for i in range(count)])


def test_status_json_parses_and_says_simulated(data_dir):
    write_events(data_dir / "analytics" / "hypotheses.ndjson", 3)
    done = run_engine("status", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["simulated"] is True and status["provider_mode"] == "sim"
    assert "AIOS_PROVIDER=sim" in status["provider_reason"]
    assert [m["role"] for m in status["models"]] == ["main", "embedder"]
    assert all(m["provider"] == "sim" for m in status["models"])
    assert status["paths"]["data_dir"] == str(data_dir.resolve())
    assert status["event_count"] == 3 and status["adaptive"] is None


def test_status_text_shows_the_simulated_banner(data_dir):
    done = run_engine("status")
    assert done.returncode == 0, done.stderr
    assert "[SIMULATED]" in done.stdout and str(data_dir.resolve()) in done.stdout


def test_rotate_makes_a_gzip_and_leaves_an_empty_log(data_dir):
    log = data_dir / "analytics" / "hypotheses.ndjson"
    write_events(log, 40)
    done = run_engine("rotate")
    assert done.returncode == 0, done.stderr
    assert "rotated 40 events" in done.stdout
    archives = list(log.parent.glob("hypotheses_*.ndjson.gz"))
    assert len(archives) == 1 and str(archives[0]) in done.stdout
    assert log.exists() and log.stat().st_size == 0
    with gzip.open(archives[0], "rt") as handle:
        assert [json.loads(line)["message_id"] for line in handle] == [f"m{i}" for i in range(40)]

    again = run_engine("rotate", "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == {"archive": None, "events": 0, "bytes": 0}


def test_a_bad_profile_exits_2_with_a_clear_message():
    done = run_engine("status", AIOS_PROFILE="production")
    assert done.returncode == EXIT_BAD_INPUT
    assert "AIOS_PROFILE='production'" in done.stderr and "local-hf" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_malformed_model_config_exits_2_naming_the_file(data_dir, capsys):
    config = data_dir / "config" / "model_config.json"
    config.parent.mkdir(parents=True)
    config.write_text('{"main_model": {"name": "x"')
    assert main(["status"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "CONFIG_INVALID" in err and str(config) in err


def test_a_bad_setting_value_exits_2_naming_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("AIOS_REQUEST_TIMEOUT_S", "-5")
    assert main(["status"]) == EXIT_BAD_INPUT
    assert "AIOS_REQUEST_TIMEOUT_S" in capsys.readouterr().err


def test_commands_are_discovered_and_listed_in_help(capsys):
    help_text = build_parser().format_help()
    assert "status" in help_text and "rotate" in help_text
    # In-process: every `python -m engine` start imports all command modules (about 2 s here).
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == EXIT_BAD_INPUT and "invalid choice" in capsys.readouterr().err


def test_the_engine_runs_from_any_folder(tmp_path):
    """`python -m engine` is installed into the venv (editable), so it works outside the repository."""
    env = {**os.environ, "AIOS_PROVIDER": "sim"}
    done = subprocess.run([sys.executable, "-m", "engine", "status", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"simulated": true' in done.stdout
