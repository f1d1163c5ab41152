"""`python -m engine rotate`: move the provenance log to a dated gzip beside it."""

from __future__ import annotations

import argparse
import json

from engine.provenance import rotate_log
from engine.settings import get_settings

NAME = "rotate"
HELP = "rotate the provenance log to a dated .ndjson.gz archive (no event is lost)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    result = rotate_log(get_settings().paths.log)
    if args.json:
        print(json.dumps({"archive": str(result.archive) if result.archive else None,
                          "events": result.lines, "bytes": result.bytes}))
    else:
        print(result.message)
    return 0
