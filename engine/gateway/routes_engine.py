"""The prompt engine's HTTP side (runbook 000): /engine/plan, /engine/transform, /diagnostics,
plus /health for the dashboard and load balancers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from engine.gateway.diagnostics import load_diagnostics
from engine.prompts.recipes import (
    Recipe,
    UnknownRecipeError,
    compute_plan,
    compute_prompt_quality,
    compute_transform,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["Prompt engine"])


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: StrictStr = Field(min_length=1, max_length=100_000)
    assistant: StrictStr = "chatgpt"
    category: StrictStr = "general"
    recipe_id: StrictStr | None = Field(default=None, description="default: the pair's default recipe")


def _recipe(request: Request, body: PlanRequest) -> tuple[Recipe, str, list[dict[str, Any]]]:
    recipes = request.app.state.gateway.recipes.get()
    if body.recipe_id:
        recipe, how = recipes.get(body.recipe_id), "explicit"
    else:
        recipe = recipes.default_for(body.assistant, body.category)
        if recipe is None:
            raise UnknownRecipeError(f"no recipe for assistant {body.assistant!r} and category "
                                     f"{body.category!r}; pass recipe_id or add a recipe file")
        how = "default"
    warnings = [i.to_dict() for i in recipes.issues if i.recipe_id == recipe.id]
    return recipe, how, warnings


@router.post("/engine/plan", summary="Recipe, packs_applied and operator_plan for a prompt (no model call)")
def plan(request: Request, body: PlanRequest) -> dict[str, Any]:
    recipe, how, warnings = _recipe(request, body)
    return {**compute_plan(recipe, body.prompt).to_dict(), "recipe_selection": how, "warnings": warnings}


@router.post("/engine/transform",
             summary="Apply the plan: operator_trace, prompt quality score and assist-operator outcomes")
def transform(request: Request, body: PlanRequest) -> dict[str, Any]:
    gateway = request.app.state.gateway
    recipe, how, warnings = _recipe(request, body)
    assist_model = gateway.engine().providers.embedder

    def assist(messages: list[dict[str, str]]) -> tuple[str | None, str | None, str | None]:
        try:
            result = assist_model.chat(messages, max_tokens=gateway.settings.aios_max_tokens)
        except Exception as exc:  # providers promise not to raise; a transform must report, not crash
            log.warning("assist provider raised %s", type(exc).__name__)
            return None, "PROVIDER_ERROR", f"assist provider raised {type(exc).__name__}"
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
def diagnostics(request: Request) -> dict[str, Any]:
    gateway = request.app.state.gateway
    return load_diagnostics(gateway.settings, gateway.recipes.get())


@router.get("/health", summary="Liveness plus provider, models and bandit switch")
def health(request: Request) -> dict[str, Any]:
    return request.app.state.gateway.health()
