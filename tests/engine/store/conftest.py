"""A real PostgreSQL server for the store tests: Debian's binaries, `initdb` in a temporary folder and
`pg_ctl` on a free loopback port, stopped in teardown. Skipped with a notice when PostgreSQL is not
installed locally; required under CI=true (.ci/run installs it)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.settings import reset_settings
from tests.support.serve import free_port


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_server_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the postgres user then.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a fresh server (database `postgres`, user `aios`, trust auth on loopback)."""
    bindir = postgres_bin()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required under CI=true (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); store tests skipped")
    folder = Path(tempfile.mkdtemp(prefix="aios-pg-"))
    data = folder / "data"
    data.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (folder, data):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "aios",
                                    "--no-sync"]), check=True, capture_output=True)
    subprocess.run(_as_server_user([
        str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "30", "-l", str(data / "log"),
        "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
        "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql://aios@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
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
