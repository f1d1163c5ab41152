"""The recipe bandit's endpoints (runbook 000, legacy section) and GET /metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from engine.gateway.deps import BanditDep, RecipesDep, RegistryDep
from engine.gateway.metrics import CONTENT_TYPE, render_metrics
from engine.prompts.choose import DEFAULT_ASSISTANT, DEFAULT_CATEGORY, choose_recipe

router = APIRouter(tags=["Bandit and metrics"])

# /choose and /feedback are `async def`: each is one short SQLite transaction and one log append
# (well under a millisecond), cheaper to run on the event loop than to hand to the thread pool.

Number = StrictFloat | StrictInt


class ChooseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assistant: StrictStr = DEFAULT_ASSISTANT
    category: StrictStr = DEFAULT_CATEGORY
    session_id: StrictStr | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assistant: StrictStr
    category: StrictStr
    recipe_id: StrictStr
    reward: Number | StrictBool = Field(description="in [0, 1]")
    message_id: StrictStr | None = Field(default=None, description="the selection or answer it rates")
    session_id: StrictStr | None = None


class ConfigRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epsilon: Number | None = None
    min_initial_samples: StrictInt | None = None
    optimistic_initial_value: Number | None = None


class BackfillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assistant: StrictStr
    category: StrictStr
    recipe_id: StrictStr | None = None


@router.post("/choose", summary="Pick a recipe for (assistant, category); logs a bandit_selection event")
async def choose(body: ChooseRequest, recipes: RecipesDep, bandit: BanditDep) -> JSONResponse:
    choice = choose_recipe(recipes, bandit, assistant=body.assistant, category=body.category,
                           session_id=body.session_id)
    if choice.selection is None:  # a named pair always goes to the bandit (or raises UnknownArmError)
        raise RuntimeError("choose_recipe made no bandit selection for a named pair")
    # A JSONResponse skips FastAPI's generic re-encoding of the returned dict (hot path).
    return JSONResponse(choice.selection.to_dict())


@router.post("/feedback", summary="Reward in [0, 1] for a recipe; logs a feedback event")
async def feedback(body: FeedbackRequest, bandit: BanditDep) -> JSONResponse:
    return JSONResponse(bandit.feedback(body.assistant, body.category, body.recipe_id, body.reward,
                                        message_id=body.message_id, session_id=body.session_id))


@router.get("/bandit_stats", summary="Per-arm pulls, explored share and mean reward, with epsilon")
def bandit_stats(bandit: BanditDep, assistant: str | None = None, category: str | None = None) -> dict[str, Any]:
    return bandit.stats(assistant, category)


@router.post("/bandit_config", summary="Set epsilon, min_initial_samples, optimistic_initial_value")
def bandit_config(body: ConfigRequest, bandit: BanditDep) -> dict[str, Any]:
    config = bandit.configure(**body.model_dump(exclude_none=True))
    return {"epsilon": config.epsilon, "min_initial_samples": config.min_initial_samples,
            "optimistic_initial_value": config.optimistic_initial_value, "enabled": bandit.enabled}


@router.post("/bandit_backfill", summary="Rebuild an arm's stats from the provenance log")
def bandit_backfill(body: BackfillRequest, bandit: BanditDep) -> dict[str, Any]:
    return bandit.backfill(body.assistant, body.category, body.recipe_id)


@router.get("/metrics", summary="Prometheus text format", response_class=Response)
def metrics(registry: RegistryDep) -> Response:
    return Response(render_metrics(registry), media_type=CONTENT_TYPE)
