"""Is the HTTP gateway up? GET <AIOS_GATEWAY_URL>/health with a short timeout, for the dashboard.

Kept apart from the app so that callers do not import FastAPI. Under NO_NET_MODE a non-loopback
gateway URL is not contacted (no socket is opened), like any other egress.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from engine.providers.egress import is_loopback_host, safe_url, url_host
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


def probe_gateway(settings: Settings, timeout_s: float = 0.5) -> GatewayHealth:
    url = settings.aios_gateway_url.rstrip("/")
    shown = safe_url(url)
    host = url_host(url)
    if not host or not url.startswith(("http://", "https://")):
        return GatewayHealth(shown, False, "AIOS_GATEWAY_URL is not an http(s) URL")
    if settings.no_net_mode and not is_loopback_host(host):
        return GatewayHealth(shown, False, "not contacted: NO_NET_MODE=true allows loopback hosts only")
    started = time.perf_counter()
    try:
        response = requests.get(url + "/health", timeout=timeout_s)
    except requests.RequestException as exc:
        return GatewayHealth(shown, False, f"no answer ({type(exc).__name__}); start it with "
                                           f"`python -m engine serve`")
    latency = round((time.perf_counter() - started) * 1000, 1)
    if response.status_code != 200:
        return GatewayHealth(shown, False, f"answered HTTP {response.status_code}", latency)
    try:
        body = response.json()
    except ValueError:
        return GatewayHealth(shown, False, "answered, but not with the gateway's JSON health", latency)
    if not isinstance(body, dict) or body.get("status") != "ok":
        return GatewayHealth(shown, False, "answered, but not with the gateway's JSON health", latency)
    return GatewayHealth(shown, True, f"up (pid {body.get('pid')}, provider {body.get('provider')})", latency, body)
