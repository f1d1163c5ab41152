"""`python -m engine ask "QUESTION" --trait general [--session ID] [--json]`: one question through the loop."""

from __future__ import annotations

import argparse
import json
import sys

from engine.api import ask, run_shadow
from engine.errors import EXIT_OK, EXIT_PROVIDER
from engine.routing.routers import TRAITS
from engine.settings import get_settings

NAME = "ask"
HELP = "send one question through the loop (bucket, route, model, quality) and log it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", help="the question to ask")
    parser.add_argument("--trait", default="general", choices=TRAITS, help="answer style (default general)")
    parser.add_argument("--session", default=None, help="session id: keeps the A/B bucket sticky")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    result = ask(args.question, args.trait, args.session, settings=settings, shadow="defer")
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        sim = "  [SIMULATED]" if result.simulated else ""
        print(result.answer if result.answer else f"(no answer: {result.error_code})")
        print(f"\n-- {result.route} model {result.source} via {result.provider}{sim}; bucket {result.bucket} "
              f"(session {result.session_id}); complexity {result.complexity:.3f} vs boundary "
              f"{result.boundary:.3f}; quality {result.quality:.3f}; {result.latency_ms:.0f} ms")
        if result.error_code:
            print(f"-- error {result.error_code}: {result.error_message}")
    sys.stdout.flush()  # the answer is out before the shadow comparison (AIOS_SHADOW_RATE) runs
    run_shadow(result, settings)
    return EXIT_PROVIDER if result.error_code else EXIT_OK
