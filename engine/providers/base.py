"""What every provider returns: text and usage, or an error code; never a quality number.
Streamed calls yield text deltas and end with the same ChatResult (ChatStream)."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# The small set of failure codes callers record instead of crashing (names fixed by the runbooks).
from engine.runbook import (  # noqa: F401  (re-exported: providers.base is where callers look)
    EGRESS_BLOCKED,
    PROVIDER_BAD_RESPONSE,
    PROVIDER_HTTP_ERROR,
    PROVIDER_TIMEOUT,
    PROVIDER_UNREACHABLE,
    UNKNOWN_SOURCE,
)

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
    # Streams only: ms until the first text arrived; usage counted by us because the server sent none.
    first_token_ms: float | None = None
    usage_estimated: bool = False
    # The simulator only: whether its answer is right (its ground truth), None when it cannot know.
    sim_correct: bool | None = None

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
             temperature: float = 0.2, params: Mapping[str, Any] | None = None) -> ChatResult:
        """One answer. `params`: extra chat-completions fields sent as they are (seed, temperature,
        response_format, ...); a provider that cannot honour one ignores it."""
        ...

    def chat_stream(self, messages: list[dict[str, str]], *, max_tokens: int | None = None,
                    temperature: float = 0.2, params: Mapping[str, Any] | None = None) -> ChatStream:
        """The same answer as `chat`, as text deltas while the model writes (see ChatStream)."""
        ...

    def ping(self) -> tuple[bool, str]:
        """(answers, detail) for `status`: does the model server answer GET /v1/models?"""
        ...


# The consumer stopped reading a stream (an HTTP client went away): the partial answer is logged
# with this code and the adaptive controller does not learn from it.
CLIENT_DISCONNECTED = "CLIENT_DISCONNECTED"


class ChatStream:
    """One streamed chat call: iterate it for text deltas; `result` is the final ChatResult.

    Wraps a generator that yields the deltas and *returns* the ChatResult (its text is the
    concatenated deltas, or the partial text and an error code when the stream broke). `result`
    is None until the iteration has ended. `close()` stops early and releases the connection.
    """

    def __init__(self, deltas: Generator[str, None, ChatResult]) -> None:
        self._deltas = deltas
        self.result: ChatResult | None = None

    def __iter__(self) -> Iterator[str]:
        self.result = yield from self._deltas

    def close(self) -> None:
        self._deltas.close()


def stream_chat(provider: Any, messages: list[dict[str, str]], *, max_tokens: int | None = None,
                temperature: float = 0.2, params: Mapping[str, Any] | None = None) -> ChatStream:
    """`provider.chat_stream(...)`, or, for a provider without one, its whole answer as one delta.
    `params` is passed only when given, so providers written before it keep working."""
    extra = {"params": params} if params else {}
    method = getattr(provider, "chat_stream", None)
    if method is not None:
        return method(messages, max_tokens=max_tokens, temperature=temperature, **extra)

    def whole() -> Generator[str, None, ChatResult]:
        result = provider.chat(messages, max_tokens=max_tokens, temperature=temperature, **extra)
        if result.text:
            yield result.text
        return result

    return ChatStream(whole())
