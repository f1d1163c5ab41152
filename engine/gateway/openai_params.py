"""The OpenAI chat-completions request as the gateway reads it: every standard parameter with OpenAI's
types and bounds, which ones go to the model server as the client wrote them (FORWARDED), which the
gateway reads itself (CONSUMED) and which it refuses with a 400 and the reason (REFUSED), so nothing a
client sends is silently dropped. Wrong types and values fail while FastAPI parses the body; refusals
and unknown arguments are InputErrors naming the field (the error handler turns both into `param`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from engine.errors import InputError

UNSUPPORTED_PARAMETER = "UNSUPPORTED_PARAMETER"
UNKNOWN_PARAMETER = "UNKNOWN_PARAMETER"

# Sent to the model server exactly as given (absent or null: not sent; the loop's token limit,
# AIOS_MAX_TOKENS, applies only when neither max_tokens nor max_completion_tokens is set).
FORWARDED = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
             "presence_penalty", "frequency_penalty", "response_format", "logit_bias",
             "reasoning_effort", "verbosity",
             # Sampling extensions the usual local servers (llama.cpp, vLLM, LM Studio) accept.
             "top_k", "min_p", "repetition_penalty")

# Read by the gateway itself, never sent upstream.
CONSUMED = {
    "model": "`router` runs the loop; a model's name forces its route",
    "messages": "system/developer text, history and the question (the loop adds the recipe's system prompt)",
    "stream": "the loop streams the upstream's deltas",
    "stream_options": "`include_usage` adds the usage chunk",
    "user": "the session: sticky A/B bucket",
    "safety_identifier": "the session when `user` is absent",
    "metadata": "`session_id`, `assistant`, `category`, `trait`, `recipe_id`; other keys are accepted as tags",
    "n": "1 only (the default)",
    "logprobs": "false only (the default)",
    "modalities": '["text"] only',
    "parallel_tool_calls": "accepted; meaningless without tools",
    "store": "accepted; every answer is in the provenance log anyway",
    "service_tier": "accepted; a local model server has no tiers",
    "prompt_cache_key": "accepted; the model server caches prompts on its own",
}

_NO_TOOLS = ("the loop answers with text and runs no tools: a tool call could not be routed on, scored "
             "for quality or relayed, so tools are refused rather than dropped")
REFUSED = {
    "tools": _NO_TOOLS,
    "tool_choice": _NO_TOOLS + ' (tool_choice "none" is accepted)',
    "functions": _NO_TOOLS,
    "function_call": _NO_TOOLS + ' (function_call "none" is accepted)',
    "n": ("one answer per request: each answer is routed, scored, logged and learned from once, and "
          "n answers from one route would count as one observation; send n requests instead"),
    "logprobs": "the gateway relays the answer's text only; log probabilities would be lost",
    "top_logprobs": "the gateway relays the answer's text only; log probabilities would be lost",
    "modalities": "text only: the loop scores and logs text answers",
    "audio": "text only: the loop scores and logs text answers",
    "prediction": "predicted outputs are not relayed to the model server",
    "web_search_options": "the model server has no web search",
}

Number = Annotated[float, Field(allow_inf_nan=False)]


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    type: StrictStr
    text: StrictStr | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: StrictStr | list[ContentPart] | None = None
    name: StrictStr | None = None
    tool_calls: list[Any] | None = None
    function_call: Any = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    include_usage: StrictBool = False


MetadataValue = Annotated[StrictStr, Field(max_length=512)]


class ChatRequest(BaseModel):
    """The OpenAI request body with OpenAI's types and bounds (strict: "0.5" is not a number)."""

    model_config = ConfigDict(extra="allow", strict=True)
    model: StrictStr
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    user: StrictStr | None = None
    safety_identifier: StrictStr | None = Field(default=None, max_length=64)
    metadata: dict[StrictStr, MetadataValue] | None = Field(
        default=None, max_length=16,
        description="OpenAI's metadata (16 string pairs); AIOS reads session_id, assistant, category, trait, "
                    "recipe_id")
    # Forwarded.
    temperature: Number | None = Field(default=None, ge=0, le=2)
    top_p: Number | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: StrictStr | Annotated[list[StrictStr], Field(max_length=4)] | None = None
    seed: int | None = None
    presence_penalty: Number | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: Number | None = Field(default=None, ge=-2, le=2)
    response_format: dict[StrictStr, Any] | None = None
    logit_bias: dict[StrictStr, Annotated[Number, Field(ge=-100, le=100)]] | None = None
    reasoning_effort: StrictStr | None = None
    verbosity: StrictStr | None = None
    top_k: int | None = None
    min_p: Number | None = Field(default=None, ge=0, le=1)
    repetition_penalty: Number | None = Field(default=None, gt=0)
    # Consumed (accepted values only; see REFUSED for the rest).
    n: int | None = Field(default=None, ge=1, le=128)
    logprobs: StrictBool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    modalities: list[StrictStr] | None = None
    parallel_tool_calls: StrictBool | None = None
    store: StrictBool | None = None
    service_tier: StrictStr | None = None
    prompt_cache_key: StrictStr | None = None
    # Refused unless absent (tool_choice/function_call may also be "none").
    tools: list[Any] | None = None
    tool_choice: StrictStr | dict[str, Any] | None = None
    functions: list[Any] | None = None
    function_call: StrictStr | dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None

    @field_validator("metadata")
    @classmethod
    def _metadata_keys(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if len(key) > 64:
                raise ValueError(f"key {key[:20]!r}... is longer than 64 characters")
        return value

    @field_validator("logit_bias")
    @classmethod
    def _token_ids(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for key in value or {}:
            if not key.isdigit():
                raise ValueError(f"keys must be token ids (digits), got {key!r}")
        return value

    @field_validator("response_format")
    @classmethod
    def _response_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        kind = value.get("type")
        if kind not in ("text", "json_object", "json_schema"):
            raise ValueError(f"type must be 'text', 'json_object' or 'json_schema', got {kind!r}")
        if kind == "json_schema":
            schema = value.get("json_schema")
            if not isinstance(schema, dict) or not isinstance(schema.get("name"), str):
                raise ValueError("type 'json_schema' needs a json_schema object with a name")
        return value


def check_supported(body: ChatRequest) -> None:
    """InputError (code UNKNOWN_PARAMETER / UNSUPPORTED_PARAMETER, naming the field) for an argument
    OpenAI does not define, or a feature the gateway refuses (REFUSED says why)."""
    unknown = sorted(body.model_extra or {})
    if unknown:
        raise InputError(f"field {unknown[0]}: unrecognized request argument supplied: {unknown[0]} (the gateway "
                         f"forwards {', '.join(FORWARDED)}; see the README's gateway section)",
                         code=UNKNOWN_PARAMETER)
    refused = compute_refused(body)
    if refused is not None:
        name, value = refused
        raise InputError(f"field {name}: not supported here ({value}): {REFUSED[name]}", code=UNSUPPORTED_PARAMETER)
    for i, message in enumerate(body.messages):
        for name in ("tool_calls", "function_call"):
            if getattr(message, name) is not None:
                raise InputError(f"field messages[{i}].{name}: not supported here (a tool call in the history): "
                                 f"{_NO_TOOLS}", code=UNSUPPORTED_PARAMETER)
        if isinstance(message.content, list):
            for j, part in enumerate(message.content):
                if part.type != "text":
                    raise InputError(f"field messages[{i}].content[{j}].type: not supported here ({part.type!r} "
                                     f"content): only text parts, since the loop scores and logs text",
                                     code=UNSUPPORTED_PARAMETER)


def compute_refused(body: ChatRequest) -> tuple[str, str] | None:
    """(field, value as shown) of the first refused feature the request asks for, else None."""
    if body.n is not None and body.n > 1:
        return "n", f"n={body.n}"
    for name in ("tools", "functions", "audio", "prediction", "web_search_options", "top_logprobs"):
        if getattr(body, name) is not None:
            return name, name
    for name in ("tool_choice", "function_call"):
        value = getattr(body, name)
        if value is not None and value != "none":
            return name, f"{name}={value!r}"
    if body.logprobs:
        return "logprobs", "logprobs=true"
    if body.modalities is not None and any(m != "text" for m in body.modalities):
        return "modalities", f"modalities={body.modalities!r}"
    return None


def compute_forwarded(body: ChatRequest) -> dict[str, Any]:
    """The parameters the model server receives besides model, messages and stream, as the client sent them."""
    return {name: value for name in FORWARDED if (value := getattr(body, name)) is not None}


def compute_session_id(body: ChatRequest, header: str | None) -> str | None:
    """The session (the A/B bucket's unit): `user`, else `safety_identifier`, else `metadata.session_id`,
    else the X-Session-Id header; None makes the loop start a new session."""
    meta: Mapping[str, str] = body.metadata or {}
    return body.user or body.safety_identifier or meta.get("session_id") or header or None
