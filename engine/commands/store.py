"""`python -m engine store init|status`: create or migrate the PostgreSQL store (AIOS_STORE_URL) and
show what it holds."""

from __future__ import annotations

import argparse
import json

from engine.errors import ConfigError
from engine.settings import get_settings

NAME = "store"
HELP = "PostgreSQL store (AIOS_STORE_URL): init creates or migrates the schema, status shows it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("init", "status"),
                        help="init: create or migrate the schema (idempotent); status: schema version and counts")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace) -> int:
    from engine.store.select import store_target

    target = store_target(get_settings())
    if target is None:
        raise ConfigError("AIOS_STORE_URL is not set: the experiment lives in files (nothing to do)")
    from engine.store.postgres import load_status, pool_for

    pool_for(target)  # opening the pool applies any missing migration
    status = load_status(target)
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
        return 0
    if args.action == "init":
        print(f"store {status.url}: schema version {status.schema_version} (latest {status.latest})")
        return 0
    print(f"store:           {status.url}")
    print(f"schema version:  {status.schema_version} (this engine: {status.latest})")
    print(f"events:          {status.events}")
    for kind, count in status.events_by_type.items():
        print(f"  {kind:<15}{count}")
    print(f"experiments:     {', '.join(status.experiments) or '(no adaptive state yet)'}")
    print(f"bandit arms:     {status.bandit_arms}")
    return 0
