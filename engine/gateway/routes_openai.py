"""OpenAI-compatible endpoints: GET /v1/models and POST /v1/chat/completions (plain and streamed).

Model `router` runs the closed loop (bucket by session: `user`, `safety_identifier`, `metadata.session_id`
or X-Session-Id; route, answer, quality, provenance); naming the main or embedder model forces that route
(still logged). The recipe is the explicit one (metadata.recipe_id / X-AIOS-Recipe) or the bandit's choice
for (assistant, category). `stream: true` relays the model's deltas as they arrive (engine.api.ask_stream).
The last user message is the question; the user/assistant turns before it go to the model as history.
The standard parameters (temperature, max_tokens, stop, ...) reach the model unchanged; what is refused
and why is in openai_params. The response's `model` is the one requested (`router`), as OpenAI-style
routers report it; the model that answered is `aios.source` and the `x-aios-model` header.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from engine.api import AskResult, AskStream, ask, ask_stream, run_shadow
from engine.errors import InputError
from engine.gateway.deps import BanditDep, EngineDep, RecipesDep, SettingsDep, StartedAtDep
from engine.gateway.errors import PROVIDER_STATUS, error_response
from engine.gateway.guard import check_chat_limits, stop_if_gone
from engine.gateway.openai_params import (
    ChatMessage,
    ChatRequest,
    check_supported,
    compute_forwarded,
    compute_session_id,
)
from engine.logging_setup import redact
from engine.prompts.choose import DEFAULT_ASSISTANT, DEFAULT_CATEGORY, RecipeChoice, choose_recipe
from engine.runbook import EMBEDDER, MAIN
from engine.settings import ModelConfig, Settings

router = APIRouter(tags=["OpenAI-compatible"])

ROUTER_MODEL = "router"


SYSTEM_ROLES = ("system", "developer")
HISTORY_ROLES = ("user", "assistant")


def compute_conversation(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]], str]:
    """(question, history, client system text) of a chat request.

    System/developer messages, wherever they are, make the client's system text. Of the others, the
    last must be a user message with text (the question); the ones before it are the history, user
    and assistant turns only (the loop runs no tools). InputError names the message's index.
    """
    system = "\n\n".join(m.text for m in messages if m.role in SYSTEM_ROLES and m.text)
    turns = [(i, m) for i, m in enumerate(messages) if m.role not in SYSTEM_ROLES]
    if not turns:
        raise InputError("field messages: no user message with text content")
    last_index, last = turns[-1]
    if last.role != "user":
        raise InputError(f"field messages[{last_index}].role: the last message must be the user's question, "
                         f"got {last.role!r}")
    if not last.text.strip():
        raise InputError(f"field messages[{last_index}].content: the last user message has no text")
    history = []
    for i, message in turns[:-1]:
        if message.role not in HISTORY_ROLES:
            raise InputError(f"field messages[{i}].role: {message.role!r} messages cannot be sent as "
                             f"conversation history; only {' and '.join(HISTORY_ROLES)} turns")
        history.append({"role": message.role, "content": message.text})
    return last.text, history, system


def resolve_route(model: str, models: ModelConfig) -> str | None:
    """None for the router, else the forced route; InputError(MODEL_NOT_FOUND) for anything else."""
    if model == ROUTER_MODEL:
        return None
    if model in (models.main.name, MAIN):
        return MAIN
    if model in (models.embedder.name, EMBEDDER):
        return EMBEDDER
    raise InputError(f"model {model!r} does not exist here; use {ROUTER_MODEL!r}, "
                     f"{models.main.name!r} or {models.embedder.name!r} (GET /v1/models)",
                     code="MODEL_NOT_FOUND")


@router.get("/v1/models", summary="Models served: the router and the two models it routes between")
def list_models(loop: EngineDep, started_at: StartedAtDep) -> dict[str, Any]:
    models = loop.models
    created = int(started_at)
    rows = [(ROUTER_MODEL, "closed loop: bucket, route, answer, quality, provenance"),
            (models.main.name, "main model (route forced to main)"),
            (models.embedder.name, "embedder model (route forced to embedder)")]
    return {"object": "list", "data": [{"id": mid, "object": "model", "created": created, "owned_by": "aios",
                                        "description": text} for mid, text in rows]}


def compute_selection_fields(choice: RecipeChoice) -> dict[str, Any]:
    """How the recipe was chosen, for the `aios` object: the policy, and the bandit's pick if it made one."""
    selection = choice.selection
    if selection is None:
        return {"recipe_policy": choice.policy}
    return {"recipe_policy": selection.policy, "explored": selection.explored,
            "selection_id": selection.selection_id, "assistant": selection.assistant,
            "category": selection.category}


def _aios_fields(result: AskResult, selection: dict[str, Any], requested: str) -> dict[str, Any]:
    return {"message_id": result.message_id, "session_id": result.session_id, "route": result.route,
            "bucket": result.bucket, "boundary": result.boundary, "complexity": result.complexity,
            "quality": result.quality, "source": result.source, "provider": result.provider,
            "simulated": result.simulated, "latency_ms": result.latency_ms, "requested_model": requested,
            "recipe_id": result.recipe_id, "history_turns": result.history_turns, **selection}


def _headers(result: AskResult | AskStream) -> dict[str, str]:
    # The model that answers: a stream announces the route's configured model before the first token.
    answering = result.model if isinstance(result, AskStream) else result.source
    headers = {"x-aios-route": result.route, "x-aios-bucket": result.bucket, "x-aios-model": answering,
               "x-aios-message-id": result.message_id, "x-aios-session-id": result.session_id,
               "x-aios-simulated": "true" if result.simulated else "false"}
    if result.recipe_id:
        headers["x-aios-recipe-id"] = result.recipe_id
    return headers


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


DONE = b"data: [DONE]\n\n"


async def _live_stream(stream: AskStream, deltas: Iterator[str], first: str | None, model: str,
                       aios: Callable[[AskResult], dict], include_usage: bool,
                       mask: Callable[[str], str]) -> AsyncIterator[bytes]:
    """SSE chunks of a streamed answer as the model writes it; the `aios` object and usage at the end.

    Each next delta is awaited in a worker thread. If the client goes away, Starlette cancels this
    generator: `finally` closes the stream, so the loop logs the partial answer (CLIENT_DISCONNECTED).
    """
    base = {"id": f"chatcmpl-{stream.message_id}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra})

    finished = False
    try:
        yield chunk({"role": "assistant", "content": ""})
        delta = first
        while delta is not None:
            yield chunk({"content": delta})
            delta = await anyio.to_thread.run_sync(next, deltas, None)
        result = stream.result
        if result is None:  # the loop sets it when the deltas end
            raise RuntimeError("the loop's stream ended without a result")
        finished = True
        if result.error_code:
            # Headers are out: the failure goes in the stream, as OpenAI's API does it.
            yield _sse({"error": {"code": result.error_code, "type": "server_error", "param": None,
                                  "message": mask(result.error_message or result.error_code),
                                  "message_id": result.message_id, "route": result.route,
                                  "bucket": result.bucket}})
            yield DONE
            return
        yield chunk({}, "stop", aios=aios(result))
        if include_usage:
            yield _sse({**base, "choices": [], "usage": _usage(result)})
        yield DONE
    finally:
        if not finished:
            # Shielded: this runs while the request is being cancelled, and the log must get the event.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(stream.close)


def _usage(result: AskResult) -> dict[str, int]:
    return {"prompt_tokens": result.tokens.get("prompt", 0), "completion_tokens": result.tokens.get("completion", 0),
            "total_tokens": result.tokens.get("total", 0)}


def compute_recipe_request(meta: dict[str, str], assistant_header: str | None, category_header: str | None,
                           recipe_header: str | None) -> tuple[str | None, str | None, str | None]:
    """(assistant, category, recipe_id) for `choose_recipe` from metadata, else the X-AIOS-* headers.

    An empty metadata value counts as absent; naming either assistant or category (even as an
    empty header) fills the other one's default, so the pair goes to the bandit as named.
    """
    assistant = meta.get("assistant") or assistant_header
    category = meta.get("category") or category_header
    if assistant is not None or category is not None:
        assistant, category = assistant or DEFAULT_ASSISTANT, category or DEFAULT_CATEGORY
    return assistant, category, meta.get("recipe_id") or recipe_header or None


@router.post("/v1/chat/completions", summary="Chat completion through the loop (OpenAI format; stream supported)",
             response_model=None)
def chat_completions(request: Request, body: ChatRequest, loop: EngineDep, settings: SettingsDep,
                     recipes: RecipesDep, bandit: BanditDep,
                     x_session_id: str | None = Header(default=None),
                     x_aios_assistant: str | None = Header(default=None),
                     x_aios_category: str | None = Header(default=None),
                     x_aios_recipe: str | None = Header(default=None)) -> JSONResponse | StreamingResponse:
    check_supported(body)
    route = resolve_route(body.model, loop.models)
    meta = body.metadata or {}
    question, history, client_system = compute_conversation(body.messages)
    session_id = compute_session_id(body, x_session_id)
    check_chat_limits(settings, len(body.messages), session_id)
    params = compute_forwarded(body)
    trait = meta.get("trait", "general")
    if not trait.strip():  # checked here so that the error names the request's field
        raise InputError("field metadata.trait: must be a non-empty string when given (a routing trait such as "
                         "general or technical, or your own label)")
    assistant, category, recipe_id = compute_recipe_request(meta, x_aios_assistant, x_aios_category, x_aios_recipe)
    choice = choose_recipe(recipes, bandit, question=question, assistant=assistant, category=category,
                           recipe_id=recipe_id, session_id=session_id, system=client_system)
    selection = compute_selection_fields(choice)
    prompt = choice.question if choice.question is not None else question
    gone = stop_if_gone(request)
    if gone is not None:
        return gone
    if body.stream:
        return _stream_response(request, settings, body, prompt, history, trait, session_id, route,
                                choice.system_prompt, choice.recipe_id, selection, params)
    result = ask(prompt, trait, session_id, origin="gateway", route=route, system_prompt=choice.system_prompt,
                 recipe_id=choice.recipe_id, settings=settings, history=history, shadow="defer", params=params)
    headers = _headers(result)
    if result.error_code:
        return _provider_error(request, result, result.error_code, headers)
    return JSONResponse({
        "id": f"chatcmpl-{result.message_id}", "object": "chat.completion", "created": int(time.time()),
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": result.answer},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(result), "aios": _aios_fields(result, selection, body.model)}, headers=headers,
        # A sampled shadow comparison runs after the answer is sent (AIOS_SHADOW_RATE): never delays it.
        background=BackgroundTask(run_shadow, result, settings) if result.shadow is not None else None)


def _provider_error(request: Request, result: AskResult, code: str, headers: dict[str, str]) -> JSONResponse:
    # The failed answer is already in the log as a response event with its error_code.
    status = PROVIDER_STATUS.get(code, 502)
    return error_response(request, status, code, result.error_message or code,
                          headers=headers, log_event=False, message_id=result.message_id,
                          route=result.route, bucket=result.bucket)


def _stream_response(request: Request, settings: Settings, body: ChatRequest, question: str,
                     history: list[dict[str, str]], trait: str, session_id: str | None, route: str | None,
                     system_prompt: str | None, recipe_id: str | None, selection: dict[str, Any],
                     params: dict[str, Any]) -> JSONResponse | StreamingResponse:
    """Wait for the first delta (in this worker thread): a failure before it is a JSON error with a
    5xx status; after it, headers go out and the rest streams as it arrives."""
    stream = ask_stream(question, trait, session_id, origin="gateway", route=route, system_prompt=system_prompt,
                        recipe_id=recipe_id, settings=settings, history=history, params=params)
    headers = _headers(stream)
    deltas = iter(stream)
    try:
        first = next(deltas, None)
    except BaseException:
        stream.close()
        raise
    failed = stream.result if first is None else None
    if failed is not None and failed.error_code:
        return _provider_error(request, failed, failed.error_code, headers)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return StreamingResponse(
        _live_stream(stream, deltas, first, body.model, lambda result: _aios_fields(result, selection, body.model),
                     include_usage, lambda text: redact(text, settings)),
        media_type="text/event-stream", headers={**headers, "cache-control": "no-cache"},
        background=BackgroundTask(_shadow_after_stream, stream, settings))


def _shadow_after_stream(stream: AskStream, settings: Settings) -> None:
    """Once the stream is sent, its sampled shadow comparison (if any) runs: the client never waits."""
    if stream.result is not None and stream.result.shadow is not None:
        run_shadow(stream.result, settings)
