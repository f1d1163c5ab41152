"""A throwaway PostgreSQL server for the store's tests and bench: Debian's binaries, `initdb` in a given
folder and `pg_ctl` on a free loopback port, stopped by the function it returns.

initdb and postgres refuse to run as root: as root they run as the `postgres` user (which then owns
the data folder and its parent).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.support.serve import free_port


def postgres_bin() -> Path | None:
    """The folder of initdb and pg_ctl (the newest Debian version first), None when not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def start_postgres(bindir: Path, data: Path, *, durable: bool = True) -> tuple[str, Callable[[], None]]:
    """Initialise `data` (created here) and start a server on it; (URL of its `postgres` database as user
    `aios` with trust auth on loopback, a function that stops it). `durable` False skips every fsync
    and stops without a checkpoint: for tests, never for a figure that counts writes."""
    data.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (data.parent, data):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    subprocess.run(as_server_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "aios",
                                   *([] if durable else ["--no-sync"])]), check=True, capture_output=True)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run(as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l", str(data / "log"),
                                   "-o", options + ("" if durable else " -c fsync=off"), "start"]),
                   check=True, capture_output=True)
    mode = "fast" if durable else "immediate"

    def stop() -> None:
        subprocess.run(as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", mode, "stop"]),
                       capture_output=True)

    return f"postgresql://aios@127.0.0.1:{port}/postgres", stop
