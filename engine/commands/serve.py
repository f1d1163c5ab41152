"""`python -m engine serve`: run the HTTP gateway (FastAPI on uvicorn; OpenAPI page at /docs)."""

from __future__ import annotations

import argparse
import logging

from engine.errors import InputError
from engine.settings import get_settings

NAME = "serve"
HELP = "serve the HTTP gateway: OpenAI-compatible /v1/chat/completions, recipes, bandit, /metrics"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes (default 1); stats and metrics are shared through files")
    parser.add_argument("--access-log", action="store_true", help="log every request (off by default)")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: expected 1-65535")
    if args.workers < 1:
        raise InputError(f"--workers {args.workers}: expected at least 1")
    settings = get_settings()  # fail fast on bad settings, before any worker starts
    # The gateway's startup lines (bandit.enabled, recipes, provider) are INFO.
    logging.getLogger("engine.gateway").setLevel(logging.INFO)
    logging.getLogger("engine.prompts.store").setLevel(logging.INFO)  # "recipes loaded from ..."
    print(f"AIOS gateway on http://{args.host}:{args.port} (OpenAPI: /docs; data: {settings.aios_data_dir})",
          flush=True)
    uvicorn.run("engine.gateway.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, access_log=args.access_log, log_level="info",
                log_config=None)
    return 0
