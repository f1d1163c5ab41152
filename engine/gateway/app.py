"""The ASGI app factory of the HTTP gateway (`python -m engine serve`): OpenAI-compatible chat,
the prompt engine's plan/transform/diagnostics, the recipe bandit and /metrics. OpenAPI at /docs.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

import engine
from engine.api import Engine, get_engine
from engine.gateway.errors import install_error_handlers
from engine.gateway.metrics import AiosCollector, build_registry
from engine.logging_setup import configure_logging
from engine.prompts.bandit import Bandit, BanditStore
from engine.prompts.recipes import RecipeStore
from engine.provenance import EventSink
from engine.settings import Settings, get_settings

log = logging.getLogger("engine.gateway")


@dataclass
class Gateway:
    """What one worker process shares between requests."""

    settings: Settings
    recipes: RecipeStore
    bandit: Bandit
    sink: EventSink
    collector: AiosCollector
    registry: CollectorRegistry
    started_at: float = field(default_factory=time.time)

    @classmethod
    def build(cls, settings: Settings) -> Gateway:
        recipes = RecipeStore(settings)
        sink = EventSink(settings.paths.log)
        store = BanditStore(settings.paths.bandit_db)
        bandit = Bandit(settings, recipes, store=store, sink=sink)
        collector = AiosCollector(settings, store)
        return cls(settings, recipes, bandit, sink, collector, build_registry(collector))

    def engine(self) -> Engine:
        return get_engine(self.settings)

    def health(self) -> dict:
        loop = self.engine()
        return {"status": "ok", "version": engine.__version__, "pid": os.getpid(),
                "uptime_s": round(time.time() - self.started_at, 1),
                "provider": loop.providers.mode, "simulated": loop.providers.simulated,
                "provider_reason": loop.providers.reason,
                "models": {"main": loop.models.main.name, "embedder": loop.models.embedder.name},
                "bandit_enabled": self.settings.bandit_enabled,
                "recipes": len(self.recipes.get().recipes)}


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
                    '{"error": {"code": ..., "message": ...}}.',
    )
    app.state.gateway = gateway
    install_error_handlers(app)

    from engine.gateway import routes_bandit, routes_engine, routes_openai
    app.include_router(routes_openai.router)
    app.include_router(routes_engine.router)
    app.include_router(routes_bandit.router)

    # Runbook 000: "check ... logs for bandit.enabled true".
    log.info("bandit.enabled %s", "true" if settings.bandit_enabled else "false")
    recipes = gateway.recipes.get()
    log.info("recipes: %d loaded from %s (%s), %d validation issues", len(recipes.recipes),
             recipes.directory, recipes.source, len(recipes.issues))
    loop = gateway.engine()  # resolve providers now, not on the first request
    log.info("provider: %s", loop.providers.reason)
    return app
