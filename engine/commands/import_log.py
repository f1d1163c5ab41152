"""`python -m engine import-log PATH...`: load NDJSON logs (live or rotated .ndjson.gz archives) into
the PostgreSQL store (AIOS_STORE_URL). Idempotent: an event already stored is not added again."""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from engine.errors import ConfigError, InputError
from engine.settings import get_settings

NAME = "import-log"
HELP = "load NDJSON logs and rotated archives into the PostgreSQL store (idempotent)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="an .ndjson log or .ndjson.gz archive")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")


def read_lines(path: Path) -> Iterator[bytes]:
    """The lines of a log or a gzip archive; an unterminated last line (a write in progress) is left out."""
    if not path.is_file():
        raise InputError(f"{path}: not a log file")
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        for line in handle:
            if line.endswith(b"\n"):
                yield line


def run(args: argparse.Namespace) -> int:
    from engine.store.select import store_target

    target = store_target(get_settings())
    if target is None:
        raise ConfigError("AIOS_STORE_URL is not set: import-log loads logs into the PostgreSQL store")
    from engine.store.postgres import import_lines

    totals = {"read": 0, "inserted": 0, "already_stored": 0, "skipped": 0}
    for path in args.paths:
        read, inserted, skipped = import_lines(target, read_lines(Path(path)))
        totals["read"] += read
        totals["inserted"] += inserted
        totals["skipped"] += skipped
        totals["already_stored"] += read - inserted - skipped
        if not args.json:
            print(f"{path}: {read} events read, {inserted} new, {read - inserted - skipped} already stored, "
                  f"{skipped} unreadable")
    if args.json:
        print(json.dumps(totals))
    return 0
