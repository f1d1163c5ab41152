"""The ASGI app factory of the HTTP gateway (`python -m engine serve`): OpenAI-compatible chat,
the prompt engine's plan/transform/diagnostics, the recipe bandit and /metrics. OpenAPI at /docs.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

import engine
from engine.api import get_engine
from engine.gateway import routes_bandit, routes_engine, routes_openai, routes_replay
from engine.gateway.deps import Gateway, install_gateway
from engine.gateway.errors import install_error_handlers
from engine.gateway.guard import GatewayGuard
from engine.logging_setup import configure_logging
from engine.settings import Settings, get_settings

log = logging.getLogger("engine.gateway")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for a settings object (default: the process settings from the environment)."""
    settings = settings or get_settings()
    if not logging.getLogger().handlers:
        # A worker process spawned by `serve --workers N` starts without the CLI's logging setup.
        configure_logging(settings)
        logging.getLogger("engine.gateway").setLevel(logging.INFO)
    gateway = Gateway.build(settings)
    app = FastAPI(
        title="AIOS gateway",
        version=engine.__version__,
        description="OpenAI-compatible chat over the closed routing loop (model `router`), the prompt "
                    "engine's recipes (/engine/plan, /engine/transform, /diagnostics), the epsilon-greedy "
                    "recipe bandit and Prometheus metrics. Every error is "
                    '{"error": {"code": ..., "message": ..., "type": ..., "param": ...}} with OpenAI\'s status codes.',
    )
    install_gateway(app, gateway)
    install_error_handlers(app)
    # Host check, bearer token and body limit before any route (engine.gateway.guard).
    app.add_middleware(GatewayGuard, settings=settings)
    app.include_router(routes_openai.router)
    app.include_router(routes_engine.router)
    app.include_router(routes_bandit.router)
    app.include_router(routes_replay.router)

    # Runbook 000: "check ... logs for bandit.enabled true".
    log.info("bandit.enabled %s", "true" if settings.bandit_enabled else "false")
    recipes = gateway.recipes.get()
    log.info("recipes: %d loaded from %s (%s), %d validation issues", len(recipes.recipes),
             recipes.directory, recipes.source, len(recipes.issues))
    loop = get_engine(settings)  # resolve providers now, not on the first request
    log.info("provider: %s", loop.providers.reason)
    return app
