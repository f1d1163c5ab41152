"""Plan and transform: which packs apply to a prompt and the ordered operators of a recipe, then
running them (assist operators through a model call that may fail or answer badly, never raising)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from engine.prompts.operators import IO_FORMATS, OPERATORS, PACKS, PromptState
from engine.prompts.recipes import Recipe
from engine.runbook import ASSIST_JSON_INVALID

MAX_ASSIST_PROMPT_CHARS = 8000


@dataclass
class PlannedOperator:
    op: str
    params: dict[str, Any]
    source: str  # "recipe" or "pack:<name>"
    assist: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    recipe: Recipe
    packs_applied: list[str]
    operator_plan: list[PlannedOperator]

    def to_dict(self) -> dict[str, Any]:
        return {"recipe": self.recipe.to_dict(), "packs_applied": self.packs_applied,
                "operator_plan": [op.to_dict() for op in self.operator_plan]}


def compute_plan(recipe: Recipe, prompt: str) -> Plan:
    """Which packs apply to this prompt and the ordered operators to run. Calls no model."""
    packs_applied = [name for name in recipe.packs if PACKS[name].when(prompt, recipe.category)]
    plan = [PlannedOperator(op, dict(params), "recipe", OPERATORS[op].assist) for op, params in recipe.operators]
    for name in packs_applied:
        plan += [PlannedOperator(op, dict(params), f"pack:{name}", OPERATORS[op].assist)
                 for op, params in PACKS[name].operators]
    return Plan(recipe, packs_applied, plan)


AssistCall = Callable[[list[dict[str, str]]], tuple[str | None, str | None, str | None]]
"""An assist model call: messages -> (text, error_code, error_message)."""

ASSIST_INSTRUCTIONS = ('Rewrite the user\'s prompt so that it is clear and self-contained, keeping its '
                       'meaning. Reply with JSON only: {"prompt": "<the rewritten prompt>"}')


def compute_assist_reply(text: str) -> str:
    """The rewritten prompt from an assist model's reply; raises ValueError when it is not the JSON asked for."""
    cleaned = text.strip()
    if cleaned.startswith("```"):
        cleaned = cleaned.strip("`").removeprefix("json").strip()
    data = json.loads(cleaned)
    if not isinstance(data, dict) or not isinstance(data.get("prompt"), str) or not data["prompt"].strip():
        raise ValueError('expected a JSON object with a non-empty string "prompt"')
    return data["prompt"].strip()[:MAX_ASSIST_PROMPT_CHARS]


@dataclass
class TransformResult:
    plan: Plan
    system_prompt: str
    prompt: str
    operator_trace: list[dict[str, Any]]
    assist_outcomes: list[dict[str, Any]]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [{"code": o["code"], "op": o["op"], "message": o["message"]}
                for o in self.assist_outcomes if not o["ok"]]


def compute_transform(plan: Plan, prompt: str, assist: AssistCall | None = None) -> TransformResult:
    """Run the plan's operators in order. An assist operator never raises: a model failure or a
    reply that is not the JSON asked for (ASSIST_JSON_INVALID) leaves the prompt unchanged and is
    reported in the trace and in assist_outcomes. Without `assist`, assist operators are skipped."""
    state = PromptState(system=[plan.recipe.render_system()], prompt=prompt)
    trace: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    for step in plan.operator_plan:
        started = time.perf_counter()
        before_system, before_prompt = state.system_prompt, state.prompt
        outcome, detail = "ok", ""
        if step.assist:
            if assist is None:
                outcome, detail = "skipped", "no assist model available"
            else:
                messages = [{"role": "system", "content": ASSIST_INSTRUCTIONS},
                            {"role": "user", "content": state.prompt}]
                text, code, message = assist(messages)
                if code:
                    outcome, detail = code, message or code
                else:
                    try:
                        state.prompt = compute_assist_reply(text or "")
                    except ValueError as exc:
                        outcome = ASSIST_JSON_INVALID
                        detail = f"the assist model did not answer the JSON asked for ({str(exc)[:120]})"
            outcomes.append({"op": step.op, "source": step.source, "ok": outcome == "ok", "code":
                             None if outcome == "ok" else outcome, "message": detail or "prompt rewritten"})
        else:
            OPERATORS[step.op].run(step.params, state, plan.recipe.category)
        trace.append({"op": step.op, "params": step.params, "source": step.source, "assist": step.assist,
                      "outcome": outcome, "detail": detail,
                      "changed_system": state.system_prompt != before_system,
                      "changed_prompt": state.prompt != before_prompt,
                      "prompt_chars": len(state.prompt), "system_chars": len(state.system_prompt),
                      "duration_ms": round((time.perf_counter() - started) * 1000, 3)})
    return TransformResult(plan, state.system_prompt, state.prompt, trace, outcomes)


def compute_local_transform(recipe: Recipe, prompt: str) -> tuple[str, str]:
    """(system prompt, prompt) after the recipe's local operators, for the chat path: assist
    operators are skipped there so that a chat answer costs one model call."""
    plan = compute_plan(recipe, prompt)
    plan = replace(plan, operator_plan=[step for step in plan.operator_plan if not step.assist])
    result = compute_transform(plan, prompt)
    return result.system_prompt, result.prompt


def compute_prompt_quality(system_prompt: str, prompt: str) -> dict[str, Any]:
    """A heuristic score in [0, 1] of the engineered prompt (not of an answer): does the system
    prompt state a role, constraints and an output format, and is the prompt itself usable."""
    lower = system_prompt.lower()
    words = len(prompt.split())
    components = {
        "role": 1.0 if re.search(r"\byou are\b", lower) else 0.0,
        "constraints": 1.0 if "constraints:" in lower or re.search(r"\b(do not|don't|never|only)\b", lower) else 0.0,
        "output_format": 1.0 if any(hint.lower() in lower for hint in IO_FORMATS.values())
        or re.search(r"\b(format|markdown|list|json)\b", lower) else 0.0,
        "prompt_length": 1.0 if 3 <= words <= 400 else (0.5 if 0 < words else 0.0),
        "system_length": 1.0 if len(system_prompt) <= 2000 else 0.5,
    }
    return {"score": round(sum(components.values()) / len(components), 4), "components": components,
            "method": "prompt_heuristic"}
