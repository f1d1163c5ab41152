"""A real PostgreSQL server for the store tests: Debian's binaries, `initdb` in a temporary folder and
`pg_ctl` on a free loopback port, stopped in teardown. Skipped with a notice when PostgreSQL is not
installed locally; required under CI=true (.ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.settings import reset_settings
from tests.support.postgres import postgres_bin, start_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a fresh server (database `postgres`, user `aios`, trust auth on loopback)."""
    bindir = postgres_bin()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required under CI=true (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); store tests skipped")
    folder = Path(tempfile.mkdtemp(prefix="aios-pg-"))
    url, stop = start_postgres(bindir, folder / "data", durable=False)
    try:
        yield url
    finally:
        stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def store_url(postgres_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database of its own for one test, set as AIOS_STORE_URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres_server.rsplit("/", 1)[0] + "/" + name
    monkeypatch.setenv("AIOS_STORE_URL", url)
    reset_settings()
    yield url
    from engine.api import clear_engines
    from engine.store.postgres import close_pools

    clear_engines()
    close_pools()
    reset_settings()
