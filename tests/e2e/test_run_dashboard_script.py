"""The README's main command, `bash scripts/run_dashboard.sh`: it says which provider answers,
prints the URL, and serves the dashboard there (AIOS_DASHBOARD_PORT chooses the port)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from engine.settings import REPO_ROOT
from tests.e2e.test_browser import free_port


def test_run_dashboard_sh_serves_the_dashboard(data_dir: Path, tmp_path: Path):
    port = free_port()
    env = dict(os.environ, AIOS_DATA_DIR=str(data_dir), AIOS_PROVIDER="sim",
               AIOS_DASHBOARD_PORT=str(port))
    out = open(tmp_path / "run_dashboard.log", "wb")
    # Its own process group: the script execs streamlit, which is stopped with the group.
    proc = subprocess.Popen(["bash", "scripts/run_dashboard.sh"], cwd=REPO_ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # a first run may still install the requirements
        healthy = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                healthy = requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).text == "ok"
            except requests.RequestException:
                healthy = False
            if healthy:
                break
            time.sleep(0.3)
        printed = (tmp_path / "run_dashboard.log").read_text(errors="replace")
        assert healthy, printed
        assert "provider: SIMULATED" in printed
        assert f"dashboard: http://localhost:{port}" in printed
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.close()
