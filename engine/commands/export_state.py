"""`python -m engine export-state [--out PATH]`: write the adaptive state the engine uses (the store's
row with AIOS_STORE_URL, else the file) as adaptive_routing_state.json, for the runbook's commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.atomic import write_bytes_atomic
from engine.errors import StateError
from engine.routing.state import encode_state, read_state_file
from engine.settings import get_settings

NAME = "export-state"
HELP = "write the adaptive state in use (PostgreSQL or file) as adaptive_routing_state.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write (default: adaptive_routing_state.json in the data folder's "
                             "analytics, the path the runbook's commands read)")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    source = settings.paths.adaptive_state
    found = read_state_file(source)
    if found.problem:
        raise StateError(found.problem)
    if found.state is None:
        print("no adaptive state yet (no answer has been recorded): nothing written")
        return 0
    out = Path(args.out).expanduser().resolve() if args.out else source
    write_bytes_atomic(out, encode_state(found.state))
    print(f"wrote {out}")
    return 0
