"""Is the HTTP gateway up? GET <AIOS_GATEWAY_URL>/health with a short timeout, for the dashboard.

Kept apart from the app so that callers do not import FastAPI. Under NO_NET_MODE a non-loopback
gateway URL is not contacted (no socket is opened), like any other egress; a redirect is not
followed, a loopback URL never goes through a proxy and any other proxy must pass the same rule.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from engine.providers.egress import (
    EgressDecision,
    check_egress,
    describe_status,
    is_loopback_host,
    policy_session,
    route_request,
    safe_url,
    send_get,
    url_host,
)
from engine.settings import Settings


@dataclass
class GatewayHealth:
    url: str
    up: bool
    detail: str
    latency_ms: float | None = None
    health: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gateway_egress(settings: Settings, url: str) -> EgressDecision:
    """The gateway is the user's own service, not a model provider: loopback always, any other host
    unless NO_NET_MODE is on (the provider and host allow-lists do not apply to it)."""
    if is_loopback_host(url_host(url)) or settings.no_net_mode:
        return check_egress(url, "gateway", no_net_mode=settings.no_net_mode, provider_allowlist=[],
                            egress_allowlist=[])
    return check_egress(url, "gateway", no_net_mode=False, provider_allowlist=["gateway"],
                        egress_allowlist=[url_host(url)])


def probe_gateway(settings: Settings, timeout_s: float = 0.5) -> GatewayHealth:
    url = settings.aios_gateway_url.rstrip("/")
    shown = safe_url(url)
    host = url_host(url)
    if not host or not url.startswith(("http://", "https://")):
        return GatewayHealth(shown, False, "AIOS_GATEWAY_URL is not an http(s) URL")
    if settings.no_net_mode and not is_loopback_host(host):
        return GatewayHealth(shown, False, "not contacted: NO_NET_MODE=true allows loopback hosts only")
    route = route_request(url + "/health", lambda target: gateway_egress(settings, target))
    if not route.decision.allowed:
        return GatewayHealth(shown, False, f"not contacted: {route.decision.message}")
    started = time.perf_counter()
    try:
        with policy_session() as session:
            response = send_get(session, url + "/health", route, timeout=timeout_s)
    except requests.RequestException as exc:
        return GatewayHealth(shown, False, f"no answer ({type(exc).__name__}); start it with "
                                           f"`python -m engine serve`")
    latency = round((time.perf_counter() - started) * 1000, 1)
    if response.status_code != 200:
        return GatewayHealth(shown, False, describe_status(url + "/health", response), latency)
    try:
        body = response.json()
    except ValueError:
        return GatewayHealth(shown, False, "answered, but not with the gateway's JSON health", latency)
    if not isinstance(body, dict) or body.get("status") != "ok":
        return GatewayHealth(shown, False, "answered, but not with the gateway's JSON health", latency)
    return GatewayHealth(shown, True, f"up (pid {body.get('pid')}, provider {body.get('provider')})", latency, body)
