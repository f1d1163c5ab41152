"""The README's main command, `bash scripts/run_dashboard.sh`: it says which provider answers,
prints the URL, and serves the dashboard there (AIOS_DASHBOARD_PORT chooses the port), on loopback
only unless AIOS_DASHBOARD_ADDRESS says otherwise; a bad setting stops it with one line and exit 2."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from engine.settings import REPO_ROOT
from tests.support.serve import free_port


def non_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_a_bad_setting_stops_the_script_with_one_line_and_exit_2(data_dir: Path):
    env = dict(os.environ, AIOS_DATA_DIR=str(data_dir), AIOS_PROVIDER="bogus", AIOS_DASHBOARD_PORT="1")
    done = subprocess.run(["bash", "scripts/run_dashboard.sh"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if not line.startswith("==>")]
    assert len(errors) == 1 and errors[0].startswith("error: ") and "AIOS_PROVIDER" in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "streamlit" not in done.stdout.lower()


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
        # Issue 13 item 11: bound to 127.0.0.1, so no other interface of this machine answers.
        assert "Network URL" not in printed
        other = non_loopback_address()
        if other is not None:
            with socket.socket() as sock:
                sock.settimeout(2)
                assert sock.connect_ex((other, port)) != 0, f"the dashboard answers on {other}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.close()
