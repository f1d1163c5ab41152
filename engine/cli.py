"""`python -m engine COMMAND`: discovers one module per command in engine/commands/.

A command module defines NAME, HELP, `add_arguments(parser)` and `run(args) -> int`. EngineErrors
become a one-line message on stderr and their exit code (2 for bad input); Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import logging
import pkgutil
import sys
from pathlib import Path

from engine import commands
from engine.errors import EXIT_INTERRUPTED, EngineError
from engine.logging_setup import configure_logging, redact
from engine.settings import get_settings


def discover_commands() -> dict[str, tuple[str, str]]:
    """{command name: (module name, help)} read from engine/commands/*.py without importing them.

    Only the module of the command being run is imported, so `python -m engine status` does not
    pay for pandas, DuckDB or FastAPI that other commands need.
    """
    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(commands.__path__):
        path = Path(commands.__path__[0]) / f"{info.name}.py"
        constants: dict[str, str] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id in ("NAME", "HELP")
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                constants[node.targets[0].id] = node.value.value
        if "NAME" in constants:
            found[constants["NAME"]] = (info.name, constants.get("HELP", ""))
    return dict(sorted(found.items()))


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The full parser; only the `chosen` command's module is imported to add its arguments."""
    parser = argparse.ArgumentParser(prog="python -m engine",
                                     description="AIOS closed-loop routing and evaluation engine")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and retries")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in discover_commands().items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(f"engine.commands.{module_name}")
            module.add_arguments(command)
            command.set_defaults(_run=module.run, _parser=command)
    return parser


def chosen_command(argv: list[str]) -> str | None:
    """The first argument that is not an option: the command name."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(chosen_command(argv))
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # a wrong option of a command: that command's own usage, not the top-level one
        getattr(args, "_parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
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
