"""Choose the providers for both models: AIOS_PROVIDER = auto | openai | sim.

`auto` uses the configured OpenAI-compatible server when its GET /v1/models answers within
AIOS_PROBE_TIMEOUT_S, else the simulator, and says which and why.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import requests

from engine.providers.base import ChatProvider
from engine.providers.egress import check_egress, describe_status, policy_session, route_request, safe_url, send_get
from engine.providers.openai_compat import OpenAICompatProvider
from engine.providers.sim import SimProvider
from engine.settings import ModelConfig, ModelSpec, Settings


@dataclass
class ProviderChoice:
    mode: str  # "openai" or "sim"
    reason: str
    main: ChatProvider
    embedder: ChatProvider

    @property
    def simulated(self) -> bool:
        return self.mode == "sim"

    def for_route(self, route: str) -> ChatProvider:
        return self.main if route == "main" else self.embedder


def egress_checker(settings: Settings, provider: str):
    return functools.partial(check_egress, provider=provider, no_net_mode=settings.no_net_mode,
                             provider_allowlist=settings.provider_allowlist,
                             egress_allowlist=settings.egress_allowlist)


def http_provider(settings: Settings, spec: ModelSpec, session: requests.Session | None = None) -> OpenAICompatProvider:
    return OpenAICompatProvider(
        endpoint=spec.api_endpoint, model=spec.name, provider=spec.provider,
        egress=egress_checker(settings, spec.provider), api_key=settings.api_key_for(spec.provider),
        timeout_s=settings.aios_request_timeout_s, max_retries=settings.aios_max_retries,
        backoff_s=settings.aios_retry_backoff_s, max_retry_after_s=settings.aios_max_retry_after_s,
        max_tokens=settings.aios_max_tokens, session=session,
    )


def sim_providers(settings: Settings, models: ModelConfig) -> tuple[SimProvider, SimProvider]:
    return (SimProvider("main", models.main.name, seed=settings.aios_sim_seed,
                        latency_scale=settings.aios_sim_latency_scale),
            SimProvider("embedder", models.embedder.name, seed=settings.aios_sim_seed,
                        latency_scale=settings.aios_sim_latency_scale))


def probe_server(settings: Settings, spec: ModelSpec) -> tuple[bool, str]:
    """Does the configured server answer GET /v1/models quickly? Never opens a blocked socket:
    the URL and any proxy are judged first, and a redirect is not followed (a 3xx is no answer)."""
    route = route_request(spec.models_url, egress_checker(settings, spec.provider))
    if not route.decision.allowed:
        return False, route.decision.message
    headers = {}
    key = settings.api_key_for(spec.provider)
    if key is not None and key.get_secret_value():
        headers["Authorization"] = f"Bearer {key.get_secret_value()}"
    try:
        with policy_session() as session:
            response = send_get(session, spec.models_url, route, headers=headers,
                                timeout=settings.aios_probe_timeout_s)
    except (requests.RequestException, UnicodeError) as exc:
        return False, f"no model server at {safe_url(spec.models_url)} ({type(exc).__name__})"
    if response.status_code != 200:
        return False, describe_status(spec.models_url, response)
    return True, f"model server answers at {safe_url(spec.models_url)}"


def shared_session(models: ModelConfig) -> requests.Session:
    """One pooled session for both models. It takes no proxy from the environment by itself: each
    call's route (direct for loopback, a judged proxy otherwise) comes from the egress policy."""
    return OpenAICompatProvider._new_session()


def resolve_providers(settings: Settings, models: ModelConfig) -> ProviderChoice:
    mode = settings.aios_provider
    if mode == "sim":
        main, embedder = sim_providers(settings, models)
        return ProviderChoice("sim", "AIOS_PROVIDER=sim: using the built-in simulator", main, embedder)
    if mode == "openai":
        session = shared_session(models)
        return ProviderChoice("openai", "AIOS_PROVIDER=openai: using the configured server",
                              http_provider(settings, models.main, session),
                              http_provider(settings, models.embedder, session))
    answers, detail = probe_server(settings, models.main)
    if answers:
        session = shared_session(models)
        return ProviderChoice("openai", f"AIOS_PROVIDER=auto: {detail}",
                              http_provider(settings, models.main, session),
                              http_provider(settings, models.embedder, session))
    main, embedder = sim_providers(settings, models)
    return ProviderChoice("sim", f"AIOS_PROVIDER=auto: {detail}; using the built-in simulator",
                          main, embedder)
