"""The catalog recipes draw from: operators (each with a pydantic model of its parameters and what it
does to a prompt) and packs (operator bundles applied when their condition matches).

A leaf module: recipe validation checks entries against it, the transform runs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator

# Law and medical recipes get a disclaimer pack, and VALIDATION_STRICT_SCOPE=critical applies to them.
CRITICAL_CATEGORIES = frozenset({"law", "medical"})


@dataclass
class PromptState:
    """What operators transform: the system-prompt parts and the user's prompt."""

    system: list[str]
    prompt: str

    @property
    def system_prompt(self) -> str:
        return "\n\n".join(part for part in self.system if part)


def add_system(state: PromptState, text: str, *, first: bool = False) -> None:
    # A pack may repeat what the recipe already asked for; say it once.
    if text in state.system:
        return
    if first:
        state.system.insert(0, text)
    else:
        state.system.append(text)


# --------------------------------------------------------------------------- parameters

class Params(BaseModel):
    """An operator's parameters as a recipe writes them next to "op"; anything else is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


class ConstraintsParams(Params):
    items: list[Annotated[StrictStr, Field(min_length=1)]] | None = None


IO_FORMATS = {
    "markdown": "Format the answer in Markdown with short sections.",
    "bullets": "Answer as a short bulleted list.",
    "plain": "Answer in plain prose without Markdown.",
    "code": "Put code in fenced code blocks with the language named, then explain briefly.",
    "json": "Answer with a single JSON object and nothing else.",
}


class IoFormatParams(Params):
    format: StrictStr = "markdown"

    @field_validator("format")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in IO_FORMATS:
            raise ValueError(f"must be one of {sorted(IO_FORMATS)}")
        return value


class MaxPromptCharsParams(Params):
    limit: StrictInt = Field(default=4000, ge=16, le=100_000)


def describe_params_error(exc: ValidationError) -> str:
    """One line naming each bad parameter, e.g. "format: must be one of [...]"."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "parameters"
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- operators

DEFAULT_CONSTRAINTS = ["Be accurate; say so when you are unsure.",
                       "Stay on the question; do not pad the answer."]

Apply = Callable[[Any, PromptState, str], None]
"""A local operator: (its validated parameters, the state to change in place, the recipe's category)."""


def _normalize_ws(params: NoParams, state: PromptState, category: str) -> None:
    state.prompt = " ".join(state.prompt.split())


def _role_hdr(params: NoParams, state: PromptState, category: str) -> None:
    add_system(state, f"You are an expert {category} assistant.", first=True)


def _constraints(params: ConstraintsParams, state: PromptState, category: str) -> None:
    items = params.items or DEFAULT_CONSTRAINTS
    add_system(state, "Constraints:\n" + "\n".join(f"- {item}" for item in items))


def _io_format(params: IoFormatParams, state: PromptState, category: str) -> None:
    add_system(state, IO_FORMATS[params.format])


def _quality_bar(params: NoParams, state: PromptState, category: str) -> None:
    add_system(state, "Before answering, check that the answer is complete, correct and "
                      "addresses every part of the question.")


def _max_prompt_chars(params: MaxPromptCharsParams, state: PromptState, category: str) -> None:
    if len(state.prompt) > params.limit:
        state.prompt = state.prompt[:params.limit]


@dataclass(frozen=True)
class OperatorSpec:
    """A known operator. `apply` is None for an assist operator, which calls a model instead."""

    name: str
    params: type[Params]
    apply: Apply | None
    doc: str = ""

    @property
    def assist(self) -> bool:
        return self.apply is None

    def check(self, raw: dict[str, Any]) -> str | None:
        """The problem with a recipe's parameters for this operator, or None when they are fine."""
        try:
            self.params.model_validate(raw)
        except ValidationError as exc:
            return describe_params_error(exc)
        return None

    def run(self, raw: dict[str, Any], state: PromptState, category: str) -> None:
        """Apply a local operator in place; its parameters were checked when the recipe was loaded.
        (Validating them again costs about 2 us an operator, less than model_construct.)"""
        if self.apply is None:
            raise TypeError(f"{self.name} is an assist operator; the transform calls its model")
        self.apply(self.params.model_validate(raw), state, category)


OPERATORS: dict[str, OperatorSpec] = {spec.name: spec for spec in (
    OperatorSpec("normalize_ws", NoParams, _normalize_ws, "collapse runs of whitespace in the prompt"),
    OperatorSpec("role_hdr", NoParams, _role_hdr, "state the assistant's role in the system prompt"),
    OperatorSpec("constraints", ConstraintsParams, _constraints, "add a constraints list to the system prompt"),
    OperatorSpec("io_format", IoFormatParams, _io_format, "ask for an output format"),
    OperatorSpec("quality_bar", NoParams, _quality_bar, "ask the model to check its answer before sending"),
    OperatorSpec("max_prompt_chars", MaxPromptCharsParams, _max_prompt_chars, "truncate an overlong prompt"),
    OperatorSpec("assist_clarify", NoParams, None,
                 'ask a model to rewrite the prompt more clearly; expects JSON {"prompt": ...}'),
)}


# --------------------------------------------------------------------------- packs

@dataclass(frozen=True)
class Pack:
    """A named bundle of operators, applied only when its condition holds for (prompt, category)."""

    name: str
    operators: tuple[tuple[str, dict[str, Any]], ...]
    when: Callable[[str, str], bool]
    doc: str


CODE_HINT = re.compile(r"```|\bdef |\bclass |\b(function|traceback|exception|stack trace|compile|"
                       r"python|javascript|sql|regex|bug)\b", re.I)

PACKS: dict[str, Pack] = {pack.name: pack for pack in (
    Pack("code_fence", (("io_format", {"format": "code"}),),
         lambda prompt, category: bool(CODE_HINT.search(prompt)),
         "the prompt mentions code: ask for fenced code blocks"),
    Pack("concise", (("constraints", {"items": ["Answer in at most three sentences."]}),),
         lambda prompt, category: len(prompt.split()) <= 12,
         "a short question gets a short answer"),
    Pack("safety_disclaimer",
         (("constraints", {"items": ["Give general information only, not professional advice, "
                                     "and say when to consult a professional."]}),),
         lambda prompt, category: category in CRITICAL_CATEGORIES,
         "law and medical recipes add a disclaimer"),
)}
