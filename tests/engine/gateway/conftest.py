"""Gateway fixtures: an in-process app client, and the real server (`python -m engine serve`) as a
subprocess on a free loopback port, both on the test's own AIOS_DATA_DIR."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from engine.api import clear_engines
from engine.gateway.app import create_app
from engine.settings import REPO_ROOT, build_settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_client() -> Iterator[Callable[[], TestClient]]:
    """Build the app from the current environment (set env with monkeypatch first)."""
    clients: list[TestClient] = []

    def build() -> TestClient:
        client = TestClient(create_app(build_settings()), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
    clear_engines()


@pytest.fixture
def live_gateway(data_dir) -> Iterator[Callable[..., str]]:
    """Start the real server; returns its base URL. Stopped (by PID) after the test."""
    procs: list[subprocess.Popen] = []

    def start(*extra_args: str, **env: str) -> str:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "serve", "--port", str(port), *extra_args],
            cwd=REPO_ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise AssertionError(f"gateway exited with {proc.returncode}:\n{output}")
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    return base
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("gateway did not answer /health within 30 s")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()
