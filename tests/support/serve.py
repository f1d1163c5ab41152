"""Real servers as subprocesses on a free loopback port, for tests and benches: the gateway
(`python -m engine serve`) and the dashboard (`streamlit run dashboard/app.py`), each started with
its environment, polled on its health URL until it answers and stopped by its PID.

Usage::

    from tests.support.serve import start_gateway, stop

    base_url, process = start_gateway({"AIOS_DATA_DIR": folder, "AIOS_STORE_URL": None}, "--workers", "2")
    try:
        httpx.get(base_url + "/health")
    finally:
        stop(process)

`env` is laid over this process's environment; a None value removes that variable. With `log=PATH`
the server's stdout and stderr go to that file and a server that exits or never answers raises
ServerStartError with what it printed; without it they are discarded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
GATEWAY_HEALTH = "/health"
DASHBOARD_HEALTH = "/_stcore/health"


class ServerStartError(RuntimeError):
    """The server exited before it answered its health URL, or did not answer in time."""


def free_port() -> int:
    """A loopback port nothing listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def compose_env(env: Mapping[str, str | None] | None) -> dict[str, str]:
    """This process's environment with `env` laid over it (None removes a variable)."""
    merged = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def start_server(command: list[str], env: Mapping[str, str | None] | None, health_url: str, *,
                 healthy: Callable[[httpx.Response], bool], timeout_s: float = 60.0,
                 log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start `command` in the repository and poll `health_url` until `healthy(response)`; the process.
    Raises ServerStartError (after stopping it) when it exits first or `timeout_s` pass."""
    output = log.open("wb") if log is not None else None
    try:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=compose_env(env),
                                   stdout=output or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    finally:
        if output is not None:
            output.close()  # the child holds its own copy of the file
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if healthy(httpx.get(health_url, timeout=1)):
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            exited = process.poll()
            stop(process)
            printed = log.read_text(errors="replace") if log is not None and log.exists() else ""
            why = f"exited with {exited}" if exited is not None else f"did not answer within {timeout_s:.0f} s"
            raise ServerStartError(f"{' '.join(command[1:4])} {why} ({health_url})"
                                   + (f":\n{printed}" if printed else ""))
        time.sleep(0.1)


def start_gateway(env: Mapping[str, str | None] | None = None, *args: str, timeout_s: float = 60.0,
                  log: Path | None = None) -> tuple[str, subprocess.Popen[bytes]]:
    """`python -m engine serve --port PORT *args` with `env`; (base URL, process) once /health is 200."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = start_server([sys.executable, "-m", "engine", "serve", "--port", str(port), *args], env,
                           base_url + GATEWAY_HEALTH, healthy=lambda r: r.status_code == 200,
                           timeout_s=timeout_s, log=log)
    return base_url, process


def start_dashboard(env: Mapping[str, str | None] | None = None, *, timeout_s: float = 60.0,
                    log: Path | None = None) -> tuple[str, subprocess.Popen[bytes]]:
    """`streamlit run dashboard/app.py` headless on loopback with `env`; (base URL, process) once its
    health URL answers "ok"."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    process = start_server(command, env, base_url + DASHBOARD_HEALTH, healthy=lambda r: r.text == "ok",
                           timeout_s=timeout_s, log=log)
    return base_url, process


def stop(process: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL when it has not exited after `timeout_s`; a process already gone is left."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
