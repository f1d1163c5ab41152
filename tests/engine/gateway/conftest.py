"""Gateway fixtures: an in-process app client; the real server (`python -m engine serve`) as a
subprocess on a free loopback port, both on the test's own AIOS_DATA_DIR; and, for the OpenAI-protocol
tests, a recording loopback upstream with the real server in front of it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from engine.api import clear_engines
from engine.gateway.app import create_app
from engine.provenance import read_events
from engine.settings import build_settings
from tests.support.fake_openai import FakeOpenAIServer
from tests.support.serve import start_gateway, stop

UPSTREAM_REPLY = "Paris is the capital of France."


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
def live_gateway(data_dir: Path, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start the real server; returns its base URL. Stopped (by PID) after the test."""
    procs = []

    def start(*extra_args: str, **env: str) -> str:
        base, proc = start_gateway(env, *extra_args, timeout_s=30, log=tmp_path / f"gateway{len(procs)}.log")
        procs.append(proc)
        return base

    yield start
    for proc in procs:
        stop(proc)


@pytest.fixture
def upstream_reply() -> str:
    """What the recording upstream answers; a test module overrides this fixture for another answer."""
    return UPSTREAM_REPLY


@pytest.fixture
def upstream(upstream_reply: str) -> Iterator[FakeOpenAIServer]:
    """A loopback chat-completions server that records every request it receives."""
    with FakeOpenAIServer(models=["fake-7b"], reply=upstream_reply) as server:
        yield server


@pytest.fixture
def gateway(live_gateway, upstream: FakeOpenAIServer) -> str:
    """The real server with both routes on `upstream`; its base URL."""
    # No retries and no shadow comparisons: every upstream call recorded is the answer's own, once.
    return live_gateway(AIOS_PROVIDER="openai", AIOS_MAIN_ENDPOINT=upstream.chat_url,
                        AIOS_EMBEDDER_ENDPOINT=upstream.chat_url, AIOS_MAX_RETRIES="0", AIOS_SHADOW_RATE="0")


@pytest.fixture
def client(gateway: str) -> OpenAI:
    """The official `openai` client on `gateway`."""
    return OpenAI(base_url=gateway + "/v1", api_key="unused", max_retries=0, timeout=30)


def logged_responses(n: int, timeout_s: float = 10.0) -> list[dict]:
    """The log's response events, waiting briefly (until there are `n`) for a streamed answer's event to land."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = read_events(build_settings().paths.log, event_types={"response"}).events
        if len(found) >= n or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
