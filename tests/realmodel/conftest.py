"""The real-model tier: one llama.cpp server with SmolLM2-135M for the whole session, started on a free
loopback port and stopped by its PID. Without its packages (requirements-realmodel.txt) the tier is
skipped with a notice; under CI=true it is required and their absence fails it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.realmodel.llama import LlamaServer, missing_packages, start_llama_server

REQUIREMENTS = "requirements-realmodel.txt"


def _required() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    missing = missing_packages()
    if missing:
        message = (f"real-model tier: {', '.join(missing)} not installed "
                   f"(pip install -r {REQUIREMENTS}; scripts/test.sh installs it)")
        if _required():
            pytest.fail(f"{message}; CI=true requires the tier", pytrace=False)
        pytest.skip(message)
    server = start_llama_server(tmp_path_factory.mktemp("llama"))
    try:
        yield server
    finally:
        server.stop()
