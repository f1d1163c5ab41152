"""The prompt engine's HTTP side (runbook 000): /engine/plan, /engine/transform, /diagnostics,
plus /health for the dashboard and load balancers."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictStr

import engine
from engine.gateway.deps import EngineDep, RecipesDep, SettingsDep, StartedAtDep
from engine.gateway.diagnostics import load_diagnostics
from engine.prompts.choose import DEFAULT_ASSISTANT, DEFAULT_CATEGORY
from engine.prompts.recipes import Recipe, RecipeSet, UnknownRecipeError
from engine.prompts.transform import compute_plan, compute_prompt_quality, compute_transform
from engine.runbook import PROVIDER_ERROR

log = logging.getLogger(__name__)
router = APIRouter(tags=["Prompt engine"])


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: StrictStr = Field(min_length=1, max_length=100_000)
    assistant: StrictStr = DEFAULT_ASSISTANT
    category: StrictStr = DEFAULT_CATEGORY
    recipe_id: StrictStr | None = Field(default=None, description="default: the pair's default recipe")


def _recipe(recipes: RecipeSet, body: PlanRequest) -> tuple[Recipe, str, list[dict[str, Any]]]:
    if body.recipe_id:
        recipe, how = recipes.get(body.recipe_id), "explicit"
    else:
        found = recipes.default_for(body.assistant, body.category)
        if found is None:
            raise UnknownRecipeError(f"no recipe for assistant {body.assistant!r} and category "
                                     f"{body.category!r}; pass recipe_id or add a recipe file")
        recipe, how = found, "default"
    warnings = [i.to_dict() for i in recipes.issues if i.recipe_id == recipe.id]
    return recipe, how, warnings


@router.post("/engine/plan", summary="Recipe, packs_applied and operator_plan for a prompt (no model call)")
def plan(body: PlanRequest, recipes: RecipesDep) -> dict[str, Any]:
    recipe, how, warnings = _recipe(recipes.get(), body)
    return {**compute_plan(recipe, body.prompt).to_dict(), "recipe_selection": how, "warnings": warnings}


@router.post("/engine/transform",
             summary="Apply the plan: operator_trace, prompt quality score and assist-operator outcomes")
def transform(body: PlanRequest, recipes: RecipesDep, settings: SettingsDep, loop: EngineDep) -> dict[str, Any]:
    recipe, how, warnings = _recipe(recipes.get(), body)
    assist_model = loop.providers.embedder

    def assist(messages: list[dict[str, str]]) -> tuple[str | None, str | None, str | None]:
        try:
            result = assist_model.chat(messages, max_tokens=settings.aios_max_tokens)
        except Exception as exc:  # providers promise not to raise; a transform must report, not crash
            log.warning("assist provider raised %s", type(exc).__name__)
            return None, PROVIDER_ERROR, f"assist provider raised {type(exc).__name__}"
        return result.text, result.error_code, result.error_message

    plan_ = compute_plan(recipe, body.prompt)
    result = compute_transform(plan_, body.prompt, assist)
    return {"recipe_id": recipe.id, "recipe_selection": how, "packs_applied": plan_.packs_applied,
            "operator_plan": [op.to_dict() for op in plan_.operator_plan],
            "system_prompt": result.system_prompt, "prompt": result.prompt,
            "operator_trace": result.operator_trace, "assist_outcomes": result.assist_outcomes,
            "quality": compute_prompt_quality(result.system_prompt, result.prompt),
            "warnings": warnings, "errors": result.errors}


@router.get("/diagnostics", summary="Recent recipe-validation and runtime issues")
def diagnostics(settings: SettingsDep, recipes: RecipesDep) -> dict[str, Any]:
    return load_diagnostics(settings, recipes.get())


@router.get("/health", summary="Liveness plus provider, models and bandit switch")
def health(settings: SettingsDep, recipes: RecipesDep, loop: EngineDep, started_at: StartedAtDep) -> dict[str, Any]:
    return {"status": "ok", "version": engine.__version__, "pid": os.getpid(),
            "uptime_s": round(time.time() - started_at, 1),
            "provider": loop.providers.mode, "simulated": loop.providers.simulated,
            "provider_reason": loop.providers.reason,
            "models": {"main": loop.models.main.name, "embedder": loop.models.embedder.name},
            "bandit_enabled": settings.bandit_enabled,
            "recipes": len(recipes.get().recipes)}
