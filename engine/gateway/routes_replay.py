"""POST /replay, /optimize and /stress-test: the CLI's commands of the same names over HTTP, returning
the same JSON as their --json; errors are the gateway's error object. Each handler is a plain `def`:
FastAPI runs it on the thread pool, so a replay of a long log or a load run never blocks the event loop.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from engine.analysis.replay import compute_optimize, compute_replay, load_log_events
from engine.gateway.deps import SettingsDep
from engine.loop.stress import run_stress_test

router = APIRouter(tags=["Routing evaluation"])

Number = StrictFloat | StrictInt


class LogOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    router: StrictStr | None = Field(default=None, description="router to evaluate (default: the log's)")
    model: StrictStr | None = Field(default=None, description="the learned router's model path")
    all: StrictBool = Field(default=False, description="include the log's rotated archives")


class ReplayRequest(LogOptions):
    boundary: Number | None = None
    target_main_share: Number | None = None


class OptimizeRequest(LogOptions):
    target_main_share: Number | None = None
    max_quality_loss: Number | None = None


class StressRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: StrictInt = 200
    concurrency: StrictInt = 4
    router: StrictStr | None = None
    model: StrictStr | None = None
    url: StrictStr | None = Field(default=None, description="a gateway on loopback; default: in-process")
    max_seconds: Number = 60.0
    load: StrictBool = True


@router.post("/replay", summary="What a router and boundary would have done on the logged traffic")
def replay(body: ReplayRequest, settings: SettingsDep) -> dict[str, Any]:
    events = load_log_events(settings.paths.log, include_archives=body.all)
    return compute_replay(events, router=body.router, model=body.model, boundary=body.boundary,
                          target_main_share=body.target_main_share).to_dict()


@router.post("/optimize", summary="The boundary that meets a main-share or quality-loss goal on the log")
def optimize(body: OptimizeRequest, settings: SettingsDep) -> dict[str, Any]:
    events = load_log_events(settings.paths.log, include_archives=body.all)
    return compute_optimize(events, target_main_share=body.target_main_share,
                            max_quality_loss=body.max_quality_loss, router=body.router, model=body.model).to_dict()


@router.post("/stress-test", summary="Route flips under harmless perturbations and a bounded load (loopback only)")
def stress_test(body: StressRequest, settings: SettingsDep) -> dict[str, Any]:
    return run_stress_test(settings, n=body.n, concurrency=body.concurrency, router=body.router,
                           model=body.model, url=body.url, max_seconds=float(body.max_seconds), load=body.load)
