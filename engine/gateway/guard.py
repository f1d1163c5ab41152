"""The gateway's front door, one ASGI middleware in front of every route: the Host check (DNS
rebinding), the optional bearer token (AIOS_GATEWAY_TOKEN) and the request body limit
(AIOS_GATEWAY_MAX_BODY_BYTES). /health and /metrics stay open to load balancers and scrapers.

The body is read here, up to the limit, before any route sees it: an oversized body answers 413
without being held (a declared Content-Length is refused before a byte is read), and a client that
leaves while sending it costs nothing more. Each refusal is the gateway's error object.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable

import anyio
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import InputError
from engine.gateway.errors import error_response
from engine.providers.egress import is_loopback_host, url_host
from engine.settings import Settings

OPEN_PATHS = frozenset({"/health", "/metrics"})
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::"})


def host_name(header: str) -> str:
    """The host of a Host header, lower-case, without port or IPv6 brackets ("" when unreadable)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.index("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def compute_host_allowed(host: str, local_address: str | None, allowed: Iterable[str]) -> bool:
    """May a request naming `host` be served on a connection that arrived at `local_address`?

    Yes for the address itself, for loopback names when it arrived on loopback (or a wildcard bind),
    for any IP literal when the server is bound to every interface, and for the allow-list ("*" = any).
    A DNS-rebinding page always sends its own domain name, which none of these accept.
    """
    allowed = {h.lower().rstrip(".") for h in allowed}
    if "*" in allowed or host in allowed:
        return True
    local = (local_address or "").lower()
    if host and host == local:
        return True
    if is_loopback_host(host) and (is_loopback_host(local) or local in WILDCARD_ADDRESSES):
        return True
    return local in WILDCARD_ADDRESSES and is_ip_literal(host)


class GatewayGuard:
    """Pure ASGI middleware (no BaseHTTPMiddleware: streaming responses pass through untouched)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.aios_gateway_max_body_bytes
        token = settings.aios_gateway_token
        self.token = token.get_secret_value().encode() if token is not None else None
        # The gateway's own URL names a host clients are told to use.
        self.allowed_hosts = [*settings.aios_gateway_allowed_hosts, url_host(settings.aios_gateway_url)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["path"] not in OPEN_PATHS:
            refusal = self._refuse_caller(scope, headers)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._too_large(scope)(scope, receive, send)
            return
        body, over = await self._read_body(receive)
        if over:
            await self._too_large(scope)(scope, receive, send)
            return
        if body is None:  # the client left: no work for it
            return
        await self.app(scope, _replay(body, receive), send)

    def _refuse_caller(self, scope: Scope, headers: Headers) -> JSONResponse | None:
        request = Request(scope)
        host = headers.get("host")
        server = scope.get("server")
        if host is not None and not compute_host_allowed(host_name(host), server[0] if server else None,
                                                         self.allowed_hosts):
            # No event: a rebinding page or a scanner would fill the log.
            return error_response(request, 421, "HOST_NOT_ALLOWED",
                                   f"Host {host_name(host)!r} is not this gateway's address; add it to "
                                   "AIOS_GATEWAY_ALLOWED_HOSTS if clients really use that name",
                                   log_event=False)
        if self.token is not None:
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token):
                return error_response(request, 401, "UNAUTHORIZED",
                                      "this gateway needs `Authorization: Bearer <AIOS_GATEWAY_TOKEN>`",
                                      headers={"WWW-Authenticate": "Bearer"}, log_event=False)
        return None

    def _too_large(self, scope: Scope) -> JSONResponse:
        return error_response(Request(scope), 413, "PAYLOAD_TOO_LARGE",
                              f"the request body is larger than {self.max_body} bytes "
                              "(AIOS_GATEWAY_MAX_BODY_BYTES)")

    async def _read_body(self, receive: Receive) -> tuple[bytes | None, bool]:
        """(the whole body, False); (None, False) when the client disconnected; (None, True) as soon
        as the body passes the limit (reading stops there, nothing beyond it is kept)."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None, False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None, True
            parts.append(chunk)
            if not message.get("more_body", False):
                return (parts[0] if len(parts) == 1 else b"".join(parts)), False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the buffered body over once, then listens to the client again (so a
    disconnect is still seen by streaming responses and by `Request.is_disconnected`)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def check_chat_limits(settings: Settings, messages: int, session_id: str | None) -> None:
    """InputError (INPUT_INVALID) for a chat whose history or session id passes its cap: a session id is
    copied into every event of the answer, and every message goes to the model."""
    if messages > settings.aios_gateway_max_messages:
        raise InputError(f"field messages: {messages} messages, more than the "
                         f"{settings.aios_gateway_max_messages} this gateway accepts (AIOS_GATEWAY_MAX_MESSAGES)")
    if session_id is not None and len(session_id) > settings.aios_gateway_max_session_id_chars:
        raise InputError(f"the session id (user, X-Session-Id) has {len(session_id)} characters, more than "
                         f"{settings.aios_gateway_max_session_id_chars} (AIOS_GATEWAY_MAX_SESSION_ID_CHARS)")


def stop_if_gone(request: Request) -> JSONResponse | None:
    """From a route running in a worker thread: a response to end the request when its client has
    already disconnected (no model is asked for nobody), else None."""
    if not anyio.from_thread.run(request.is_disconnected):
        return None
    return error_response(request, 499, "CLIENT_DISCONNECTED", "the client closed the connection before "
                          "the model was asked; nothing was done", log_event=False)
