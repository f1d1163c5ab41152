"""The gateway's one error shape, OpenAI's {"error": {"message", "type", "param", "code"}} with the
project's `code`, and the HTTP status of each code (OpenAI's: 400 for a request it cannot take).

Every error response passes through `error_response`, which masks configured secrets and logs an
`error` event to the provenance log so that /diagnostics sees it from any worker process.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
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
    # OpenAI answers 400 for every request it cannot take (wrong type, out of range, unsupported),
    # so its client raises BadRequestError; 422 would be UnprocessableEntityError.
    "INPUT_INVALID": 400,
    "REWARD_OUT_OF_RANGE": 400,
    "UNSUPPORTED_PARAMETER": 400,
    "UNKNOWN_PARAMETER": 400,
    "UNKNOWN_RECIPE": 404,
    "UNKNOWN_ARM": 404,
    "MODEL_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "STATE_ERROR": 503,
    "DISK_FULL": 507,  # Insufficient Storage: the event was not written, the log is whole
    "LOG_PATH_INVALID": 503,  # the server's log path is a directory: not the caller's fault
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
        return 400
    if isinstance(error, StateError):
        return 503
    if isinstance(error, ConfigError):
        return 500
    return 500


# OpenAI's error `type` by status (its client picks the exception class by status alone).
ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 404: "invalid_request_error",
               429: "rate_limit_error"}
_FIELD = re.compile(r"field ([A-Za-z_][\w.\[\]]*):")


def compute_error_type(status: int) -> str:
    """OpenAI's `type` for a status: `invalid_request_error` for 4xx, `server_error` for 5xx."""
    return ERROR_TYPES.get(status) or ("server_error" if status >= 500 else "invalid_request_error")


def compute_param(message: str) -> str | None:
    """The request field an engine error message names ("field messages[2].role: ..." -> "messages[2].role")."""
    found = _FIELD.match(message)
    return found.group(1) if found else None


def compute_param_path(loc: Sequence[Any]) -> str:
    """A validation error location as OpenAI-style text: ("body", "messages", 1, "content") -> messages[1].content."""
    text = ""
    for part in loc:
        if part == "body" and not text:
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def error_response(request: Request, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None, log_event: bool = True,
                   param: str | None = None, **extra: Any) -> JSONResponse:
    """The error object with its status, OpenAI's `type` and the offending `param` (None when no single
    field is at fault); secrets masked; one `error` event logged (unless the failure is already in the
    log, as a provider failure is in its response event)."""
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
    body = {"error": {"code": code, "message": message, "type": compute_error_type(status), "param": param,
                      **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


def describe_validation(exc: RequestValidationError) -> tuple[str, str, str | None]:
    """(code, message naming the field, param) for a request FastAPI could not parse or validate.

    OpenAI names one field: the first failing one. A union (`stop`: string or list) fails once per
    member, with the member's name in the location, so the field is what those errors share.
    """
    errors = exc.errors()
    for err in errors:
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            return "INVALID_JSON", f"the request body is not valid JSON ({ctx.get('error', 'parse error')})", None
    if not errors:
        return "INPUT_INVALID", "invalid request", None
    locs = [tuple(err.get("loc", ())) for err in errors]
    first = locs[0][:2] if locs[0][:1] == ("body",) else locs[0][:1]
    same = [(loc, err) for loc, err in zip(locs, errors, strict=True) if loc[:len(first)] == first]
    shared = _common_prefix([loc for loc, _ in same])
    param = compute_param_path(shared)
    reasons = list(dict.fromkeys(str(err.get("msg", "invalid")) for _, err in same[:5]))
    return "INPUT_INVALID", f"field {param}: {'; or '.join(reasons)}", param


def _common_prefix(locs: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    prefix = locs[0]
    for loc in locs[1:]:
        size = 0
        while size < min(len(prefix), len(loc)) and prefix[size] == loc[size]:
            size += 1
        prefix = prefix[:size]
    return prefix


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message, param = describe_validation(exc)
        return error_response(request, CODE_STATUS[code], code, message, param=param)

    @app.exception_handler(EngineError)
    async def _engine(request: Request, exc: EngineError) -> JSONResponse:
        param = compute_param(exc.message) if isinstance(exc, InputError) else None
        return error_response(request, status_for(exc), exc.code, exc.message, param=param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        detail = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 400 and isinstance(exc.__cause__, (UnicodeDecodeError, RecursionError)):
            # FastAPI reports these as "error parsing the body"; they are bodies that are not JSON.
            code, detail = "INVALID_JSON", ("the request body is not valid JSON (not UTF-8)"
                                            if isinstance(exc.__cause__, UnicodeDecodeError) else
                                            "the request body is not valid JSON (nested too deeply)")
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
