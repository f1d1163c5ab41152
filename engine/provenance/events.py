"""Event models of the provenance log. Every event carries `schema_version`, `ts` and `event_type`.

Bump SCHEMA_VERSION when a field changes meaning; readers keep accepting older versions and
unknown extra fields (forward compatibility), so a log is never rewritten to match new code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.ids import new_id, utc_now_iso  # noqa: F401  (re-exported: events are where callers look)

SCHEMA_VERSION = 1


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    schema_version: int = SCHEMA_VERSION
    ts: str = Field(default_factory=utc_now_iso, json_schema_extra={"format": "date-time"})  # UTC ISO-8601
    event_type: str
    message_id: str | None = None
    session_id: str | None = None
    run_id: str | None = None

    def to_json_line(self) -> str:
        return self.model_dump_json(exclude_none=False) + "\n"


class Tokens(BaseModel):
    prompt: int = 0
    completion: int = 0
    total: int = 0


class ResponseEvent(Event):
    """One question answered (or not) by the loop."""

    event_type: Literal["response"] = "response"
    question: str
    trait: str = "general"
    answer: str = ""
    bucket: Literal["control", "treatment"]
    bucket_value: float | None = None
    hash_version: int = 1
    complexity: float
    boundary: float
    route: Literal["main", "embedder"]
    router: str = "complexity"
    source: str  # the model name that answered, or "unknown"
    provider: str  # "sim", "lmstudio", "hf", ... ; "sim" always means simulated
    simulated: bool = False
    latency_ms: float
    tokens: Tokens = Field(default_factory=Tokens)
    quality: float
    quality_components: dict[str, float] = Field(default_factory=dict)
    quality_method: str = "heuristic"
    error_code: str | None = None
    recipe_id: str | None = None
    adaptive_enabled: bool = True
    origin: str = "ask"  # ask | simulate | golden | gateway
    quality_fallback_reason: str | None = None  # why the judge was not used (e.g. ASSIST_JSON_INVALID)
    error_message: str | None = None
    route_forced: bool = False  # the caller chose the route (bypassing the router)
    sim_latency_scale: float | None = None  # simulator only: real sleep = latency_ms x this scale
    history_turns: int = 0  # earlier conversation turns sent with the question; their text is never logged
    quality_reference: str | None = None  # where a reference came from (e.g. "golden"), when quality used one
    sim_correct: bool | None = None  # simulator only: its ground truth (right final answer); never used to learn
    # The chat-completions parameters the model was asked with besides the messages (the request's own,
    # e.g. temperature, stop, seed; plus the loop's max_tokens when the request set no limit).
    request_params: dict[str, Any] | None = None
    router_version: str | None = None  # a trained router's model version
    explored: bool = False  # routed against the router's decision (AIOS_EXPLORE_RATE)
    route_probability: float | None = None  # the chance this route had (None: written before it was recorded)


class GoldenEvent(Event):
    event_type: Literal["golden"] = "golden"
    mode: Literal["record", "compare"]
    case_id: str
    question: str = ""
    passed: bool | None = None
    reasons: list[str] = Field(default_factory=list)
    similarity: float | None = None
    quality: float | None = None
    baseline_quality: float | None = None
    latency_ms: float | None = None
    route: str | None = None
    source: str | None = None
    provider: str | None = None


class AdaptationEvent(Event):
    event_type: Literal["adaptation"] = "adaptation"
    bucket: str = "treatment"
    old_boundary: float
    new_boundary: float
    quality_delta: float | None = None
    latency_delta_ms: float | None = None
    samples: dict[str, int] = Field(default_factory=dict)
    reason: str
    adaptive_enabled: bool = True
    control_boundary: float | None = None
    drift: float | None = None  # |treatment - control| after this move
    evidence: str = "quality"  # what moved it: "labels" (shadow comparisons) or "quality" (the score)


class HypothesisEvent(Event):
    event_type: Literal["hypothesis"] = "hypothesis"
    hypothesis_id: str
    passed: bool | None
    value: float | None = None
    threshold: float | None = None
    bucket: str | None = None
    route: str | None = None
    error: str | None = None


class BanditSelectionEvent(Event):
    event_type: Literal["bandit_selection"] = "bandit_selection"
    assistant: str
    category: str
    recipe_id: str
    policy: str
    explored: bool
    probability: float
    epsilon: float


class FeedbackEvent(Event):
    event_type: Literal["feedback"] = "feedback"
    assistant: str | None = None
    category: str | None = None
    recipe_id: str | None = None
    reward: float


class ComparisonEvent(Event):
    """A shadow comparison: the served answer's question asked of the other model after the served
    answer was returned, and how far the two final answers agree (the embedder's agreement with main).
    `message_id` is the served answer's; `sampling_probability` the chance it had to be compared."""

    event_type: Literal["comparison"] = "comparison"
    bucket: Literal["control", "treatment"]
    complexity: float
    boundary: float
    trait: str = "general"
    served_route: Literal["main", "embedder"]
    shadow_route: Literal["main", "embedder"]
    served_final_answer: str | None = None
    shadow_final_answer: str | None = None
    agreement: float | None = None  # None when the shadow call failed
    method: str = "final_answer"
    shadow_source: str = "unknown"
    shadow_latency_ms: float = 0.0
    shadow_tokens: Tokens = Field(default_factory=Tokens)
    shadow_error_code: str | None = None
    sampling_probability: float
    simulated: bool = False
    served_sim_correct: bool | None = None  # simulator only: ground truth of each answer
    shadow_sim_correct: bool | None = None


class ErrorEvent(Event):
    event_type: Literal["error"] = "error"
    code: str
    message: str
    where: str | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["event_type"].default: cls
    for cls in (ResponseEvent, GoldenEvent, AdaptationEvent, HypothesisEvent,
                BanditSelectionEvent, FeedbackEvent, ComparisonEvent, ErrorEvent)
}


def parse_event(data: dict[str, Any]) -> Event:
    """Validate a decoded line into its typed model (unknown types stay generic Events)."""
    cls = EVENT_TYPES.get(data.get("event_type", ""), Event)
    return cls.model_validate(data)
