"""Model providers: an OpenAI-compatible HTTP client behind the egress policy, and the simulator."""

from engine.providers.base import ChatProvider, ChatResult
from engine.providers.egress import EgressDecision, check_egress
from engine.providers.openai_compat import OpenAICompatProvider
from engine.providers.select import ProviderChoice, resolve_providers
from engine.providers.sim import SimProvider

__all__ = [
    "ChatProvider", "ChatResult", "EgressDecision", "check_egress", "OpenAICompatProvider",
    "ProviderChoice", "resolve_providers", "SimProvider",
]
