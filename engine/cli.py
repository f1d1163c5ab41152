"""`python -m engine COMMAND`: discovers one module per command in engine/commands/.

A command module defines NAME, HELP, `add_arguments(parser)` and `run(args) -> int`. EngineErrors
become a one-line message on stderr and their exit code (2 for bad input); Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from engine import commands
from engine.errors import EXIT_INTERRUPTED, EngineError
from engine.logging_setup import configure_logging, redact
from engine.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine",
                                     description="AIOS closed-loop routing and evaluation engine")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and retries")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"engine.commands.{info.name}")
        if not hasattr(module, "NAME"):
            continue
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except EngineError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    configure_logging(settings, logging.INFO if args.verbose else logging.WARNING)
    try:
        return int(args._run(args) or 0)
    except EngineError as exc:
        print(f"error [{exc.code}]: {redact(exc.message, settings)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
