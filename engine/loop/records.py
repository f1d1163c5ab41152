"""The loop's records: one frozen request every caller builds (api, CLI, gateway, goldens, simulate),
the routing decision made before the model is called (`Turn`), and the answer, which is a view over
its response event rather than a copy of its fields.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InputError
from engine.provenance.events import ResponseEvent
from engine.routing.bucketing import BUCKETS, Bucket
from engine.routing.routers import ROUTES, Route, check_trait

ORIGINS = ("ask", "simulate", "golden", "gateway")
HISTORY_ROLES = ("user", "assistant")


def check_history(history: Any) -> tuple[dict[str, str], ...]:
    """The prior turns as clean {"role", "content"} messages; InputError naming `history[i].field`.

    Only user/assistant turns: the system prompt has its own field and the loop runs no tools.
    Empty contents are allowed (an earlier answer may have failed); other keys are not passed on.
    """
    if history is None:
        return ()
    if not isinstance(history, (list, tuple)):
        raise InputError(f"field history: must be a list of messages, got {type(history).__name__}")
    turns = []
    for i, item in enumerate(history):
        if not isinstance(item, dict):
            raise InputError(f"field history[{i}]: must be an object with role and content, "
                             f"got {type(item).__name__}")
        role, content = item.get("role"), item.get("content")
        if role not in HISTORY_ROLES:
            raise InputError(f"field history[{i}].role: {role!r} is not one of {', '.join(HISTORY_ROLES)}")
        if not isinstance(content, str):
            raise InputError(f"field history[{i}].content: must be a string, got {type(content).__name__}")
        turns.append({"role": role, "content": content})
    return tuple(turns)


def compute_token_limit(params: Mapping[str, Any], default: int) -> int:
    """The answer's token limit: the request's `max_tokens` (or `max_completion_tokens`, OpenAI's newer
    name for it), else the loop's own (AIOS_MAX_TOKENS)."""
    for name in ("max_tokens", "max_completion_tokens"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return default


def compute_effective_params(params: Mapping[str, Any], default_max_tokens: int) -> dict[str, Any]:
    """The chat-completions parameters the model is asked with besides the messages, as the response
    event records them: the request's own, plus the loop's token limit when the request sets none."""
    effective = dict(params)
    if effective.get("max_tokens") is None and effective.get("max_completion_tokens") is None:
        effective["max_tokens"] = default_max_tokens
    return effective


@dataclass(frozen=True)
class AskRequest:
    """One question for the loop, as every caller states it.

    `bucket`/`route` force the A/B bucket or the model (goldens, a client naming a model);
    `record=False` writes no event and leaves the adaptive state alone; `reference` makes quality
    reference-based (agreement with a known-good answer); `history` holds the earlier
    turns, oldest first (routing and quality look at `question` alone); `params` are extra
    chat-completions parameters passed to the model as they are (e.g. max_tokens, stop, seed).
    """

    question: str
    trait: str = "general"
    session_id: str | None = None
    origin: str = "ask"
    run_id: str | None = None
    bucket: str | None = None
    route: str | None = None
    system_prompt: str | None = None
    recipe_id: str | None = None
    record: bool = True
    history: tuple[dict[str, str], ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    reference: str | None = None  # a known-good answer: quality then measures agreement with it

    @classmethod
    def build(cls, question: str | AskRequest, trait: str = "general", session_id: str | None = None,
              **options: Any) -> AskRequest:
        """A request from the api's arguments; InputError for an option that does not exist."""
        if isinstance(question, AskRequest):
            return dataclasses.replace(question, **options) if options else question
        unknown = sorted(set(options) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise InputError(f"field {unknown[0]}: not an option of ask (options: "
                             f"{', '.join(f.name for f in dataclasses.fields(cls))})")
        return cls(question, trait, session_id, **options)

    def checked(self) -> AskRequest:
        """This request validated and normalised; InputError names the offending field."""
        if not isinstance(self.question, str) or not self.question.strip():
            raise InputError("field question: the question is empty")
        history = check_history(self.history)
        check_trait(self.trait)
        if self.route is not None and self.route not in ROUTES:
            raise InputError(f"field route: {self.route!r} is not one of {', '.join(ROUTES)}")
        if self.bucket is not None and self.bucket not in BUCKETS:
            raise InputError(f"field bucket: {self.bucket!r} is not one of {', '.join(BUCKETS)}")
        if self.origin not in ORIGINS:
            raise InputError(f"field origin: {self.origin!r} is not one of {', '.join(ORIGINS)}")
        if not isinstance(self.params, Mapping):
            raise InputError(f"field params: must be a mapping, got {type(self.params).__name__}")
        return dataclasses.replace(self, history=history)


@dataclass
class Turn:
    """One request after routing, before the model answers (what a stream can announce up front)."""

    request: AskRequest
    session_id: str
    message_id: str
    bucket: Bucket
    bucket_value: float
    boundary: float
    complexity: float
    route: Route
    provider: Any
    messages: list[dict[str, str]]
    adaptive_enabled: bool
    started: float = field(default_factory=time.perf_counter)
    explored: bool = False  # routed against the router's decision (AIOS_EXPLORE_RATE)
    route_probability: float | None = None  # the chance the route had; None when the caller forced it

    @property
    def route_forced(self) -> bool:
        return self.request.route is not None


# What `AskResult.to_dict()` returns (docs/CONTRACTS.md), in this order.
ANSWER_FIELDS = ("message_id", "session_id", "question", "trait", "answer", "route", "source", "provider",
                 "simulated", "bucket", "boundary", "complexity", "quality", "quality_components",
                 "latency_ms", "tokens", "error_code", "error_message", "recipe_id", "quality_method",
                 "adaptive_enabled", "adaptation", "history_turns")


@dataclass(frozen=True)
class ShadowPlan:
    """A served answer chosen for a shadow comparison (with the probability it had), to be run by
    the caller once the answer is out: `Engine.run_shadow(plan)`."""

    turn: Turn
    served: ResponseEvent
    probability: float


@dataclass(frozen=True)
class AskResult:
    """What `ask` returns: the answer's response event (every field readable as an attribute:
    `result.answer`, `result.route`, `result.quality`, ...), the adaptation it caused, if any, and
    the shadow comparison still to run, if this answer was sampled for one."""

    event: ResponseEvent
    adaptation: dict[str, Any] | None = None
    shadow: ShadowPlan | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "event":
            raise AttributeError(name)
        return getattr(self.event, name)

    @property
    def tokens(self) -> dict[str, int]:
        return self.event.tokens.model_dump()

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ANSWER_FIELDS}
