"""What every provider returns: text and usage, or an error code; never a quality number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

UNKNOWN_SOURCE = "unknown"

# The small set of failure codes callers record instead of crashing.
PROVIDER_UNREACHABLE = "PROVIDER_UNREACHABLE"
PROVIDER_TIMEOUT = "PROVIDER_TIMEOUT"
PROVIDER_HTTP_ERROR = "PROVIDER_HTTP_ERROR"
PROVIDER_BAD_RESPONSE = "PROVIDER_BAD_RESPONSE"
EGRESS_BLOCKED = "EGRESS_BLOCKED"
ERROR_CODES = (PROVIDER_UNREACHABLE, PROVIDER_TIMEOUT, PROVIDER_HTTP_ERROR, PROVIDER_BAD_RESPONSE,
               EGRESS_BLOCKED)


@dataclass
class ChatResult:
    """One chat-completions call. `source` is the model that answered, or "unknown"."""

    text: str
    source: str
    provider: str
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 1
    simulated: bool = False

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def error_dict(self) -> dict | None:
        if self.ok:
            return None
        return {"error": {"code": self.error_code, "message": self.error_message or self.error_code}}


class ChatProvider(Protocol):
    """A model behind a chat-completions interface."""

    name: str  # provider label recorded in events ("sim", "lmstudio", "hf", ...)
    model: str
    simulated: bool

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int | None = None,
             temperature: float = 0.2) -> ChatResult: ...

    def ping(self) -> tuple[bool, str]:
        """(answers, detail) for `status`: does the model server answer GET /v1/models?"""
        ...
