"""What a gateway handler may depend on, as typed FastAPI dependencies: `SettingsDep`, `RecipesDep`,
`BanditDep`, `EngineDep`, `RegistryDep`, `StartedAtDep`. Each worker process builds one `Gateway`
(the app factory stores it on the app); these read it, so handlers never touch app.state.

The functions are `async def` on purpose: they do no I/O, and a plain `def` dependency would cost
every request a hop to the thread pool (measurable on /choose).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from prometheus_client import CollectorRegistry

from engine.api import Engine, get_engine
from engine.gateway.metrics import AiosCollector, build_registry
from engine.prompts.bandit import Bandit, BanditStore
from engine.prompts.store import RecipeStore
from engine.provenance import EventSink
from engine.settings import Settings


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


def install_gateway(app: FastAPI, gateway: Gateway) -> None:
    app.state.gateway = gateway


def find_gateway(app: FastAPI) -> Gateway | None:
    """The app's Gateway, or None before `install_gateway` (for code outside a handler: error handlers)."""
    gateway = getattr(app.state, "gateway", None)
    return gateway if isinstance(gateway, Gateway) else None


async def get_gateway(request: Request) -> Gateway:
    gateway = find_gateway(request.app)
    if gateway is None:
        raise RuntimeError("the app was not built by engine.gateway.app.create_app (no Gateway installed)")
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


async def get_gateway_settings(gateway: GatewayDep) -> Settings:
    return gateway.settings


async def get_recipes(gateway: GatewayDep) -> RecipeStore:
    return gateway.recipes


async def get_bandit(gateway: GatewayDep) -> Bandit:
    return gateway.bandit


async def get_registry(gateway: GatewayDep) -> CollectorRegistry:
    return gateway.registry


async def get_started_at(gateway: GatewayDep) -> float:
    return gateway.started_at


SettingsDep = Annotated[Settings, Depends(get_gateway_settings)]
RecipesDep = Annotated[RecipeStore, Depends(get_recipes)]
BanditDep = Annotated[Bandit, Depends(get_bandit)]
RegistryDep = Annotated[CollectorRegistry, Depends(get_registry)]
StartedAtDep = Annotated[float, Depends(get_started_at)]


async def get_loop_engine(settings: SettingsDep) -> Engine:
    """The loop for the app's settings (engine.api caches it; create_app builds it at start-up)."""
    return get_engine(settings)


EngineDep = Annotated[Engine, Depends(get_loop_engine)]
