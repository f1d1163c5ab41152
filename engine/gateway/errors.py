"""The gateway's one error shape, {"error": {"code", "message"}}, and the HTTP status of each code.

Every error response passes through `error_response`, which masks configured secrets and logs an
`error` event to the provenance log so that /diagnostics sees it from any worker process.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import ConfigError, EngineError, InputError, StateError
from engine.gateway.deps import find_gateway
from engine.logging_setup import redact
from engine.provenance import ErrorEvent

log = logging.getLogger(__name__)

# Provider failure codes from the loop -> HTTP status a client can act on.
PROVIDER_STATUS = {
    "EGRESS_BLOCKED": 403,
    "PROVIDER_TIMEOUT": 504,
    "PROVIDER_UNREACHABLE": 502,
    "PROVIDER_HTTP_ERROR": 502,
    "PROVIDER_BAD_RESPONSE": 502,
    "PROVIDER_ERROR": 502,
}
CODE_STATUS = {
    "INVALID_JSON": 400,
    "INPUT_INVALID": 422,
    "REWARD_OUT_OF_RANGE": 422,
    "UNKNOWN_RECIPE": 404,
    "UNKNOWN_ARM": 404,
    "MODEL_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "STATE_ERROR": 503,
    "CONFIG_INVALID": 500,
    "INTERNAL_ERROR": 500,
    **PROVIDER_STATUS,
}
HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE",
              415: "UNSUPPORTED_MEDIA_TYPE"}


def status_for(error: EngineError) -> int:
    if error.code in CODE_STATUS:
        return CODE_STATUS[error.code]
    if isinstance(error, InputError):
        return 422
    if isinstance(error, StateError):
        return 503
    if isinstance(error, ConfigError):
        return 500
    return 500


def error_response(request: Request, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None, log_event: bool = True,
                   **extra: Any) -> JSONResponse:
    """The error object with its status; secrets masked; one `error` event logged (unless the
    failure is already in the log, as a provider failure is in its response event)."""
    gateway = find_gateway(request.app)
    if gateway is not None:
        message = redact(message, gateway.settings)
    if gateway is not None and log_event:
        try:
            # ErrorEvent allows extra fields but does not declare `status`: passed as data, not a keyword.
            gateway.sink.append(ErrorEvent.model_validate({
                "code": code, "message": message[:500], "where": f"gateway {request.method} {request.url.path}",
                "status": status, "message_id": extra.get("message_id")}))
        except OSError as exc:  # the log being unwritable must not hide the original error
            log.warning("cannot log error event: %s", type(exc).__name__)
    body = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


def describe_validation(exc: RequestValidationError) -> tuple[str, str]:
    """(code, message naming the field) for a request FastAPI could not parse or validate."""
    errors = exc.errors()
    for err in errors:
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            return "INVALID_JSON", f"the request body is not valid JSON ({ctx.get('error', 'parse error')})"
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"field {loc}: {err.get('msg', 'invalid')}")
    return "INPUT_INVALID", "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = describe_validation(exc)
        return error_response(request, CODE_STATUS[code], code, message)

    @app.exception_handler(EngineError)
    async def _engine(request: Request, exc: EngineError) -> JSONResponse:
        return error_response(request, status_for(exc), exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        detail = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no endpoint {request.method} {request.url.path}; see /docs"
        # A wrong path or method is a caller's typo, not an engine issue: no event (a port
        # scanner would otherwise fill the provenance log).
        return error_response(request, exc.status_code, code, detail,
                              log_event=exc.status_code not in (404, 405))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The exception text may hold anything (paths, payloads); only its type goes out.
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        return error_response(request, 500, "INTERNAL_ERROR",
                              f"internal error ({type(exc).__name__}); see the server log")
