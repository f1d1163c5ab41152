"""Client for any OpenAI-compatible chat-completions server (LM Studio, Ollama, vLLM, llama.cpp).

One pooled requests.Session per provider; per-call timeout; bounded retries with exponential
backoff on connection errors, HTTP 429 (honouring Retry-After) and 5xx. Failures come back as a
ChatResult with an error code, never as an exception, and never with the API key in a message.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Any, Callable

import requests
from pydantic import SecretStr
from requests.adapters import HTTPAdapter

from engine.providers.base import (
    EGRESS_BLOCKED,
    PROVIDER_BAD_RESPONSE,
    PROVIDER_HTTP_ERROR,
    PROVIDER_TIMEOUT,
    PROVIDER_UNREACHABLE,
    UNKNOWN_SOURCE,
    ChatResult,
)
from engine.providers.egress import EgressDecision, safe_url

log = logging.getLogger(__name__)


def parse_retry_after(value: str | None, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        # A header that is neither seconds nor an HTTP-date is ignored (backoff applies), not fatal.
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
    return max(0.0, min(seconds, cap))


class OpenAICompatProvider:
    simulated = False

    def __init__(
        self,
        *,
        endpoint: str,
        model: str,
        provider: str,
        egress: Callable[[str], EgressDecision],
        api_key: SecretStr | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        backoff_s: float = 0.5,
        max_retry_after_s: float = 30.0,
        max_tokens: int = 512,
        session: requests.Session | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.model = model
        self.name = provider
        self._egress = egress
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_retry_after_s = max_retry_after_s
        self.max_tokens = max_tokens
        self._session = session or self._new_session()

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    @property
    def models_url(self) -> str:
        endpoint = self.endpoint.rstrip("/")
        if endpoint.endswith("/chat/completions"):
            return endpoint[: -len("/chat/completions")] + "/models"
        return endpoint + "/models"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = self._api_key.get_secret_value().strip() if self._api_key is not None else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _fail(self, code: str, message: str, started: float, attempts: int) -> ChatResult:
        return ChatResult(text="", source=UNKNOWN_SOURCE, provider=self.name,
                          latency_ms=(time.perf_counter() - started) * 1000, error_code=code,
                          error_message=message, attempts=attempts)

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int | None = None,
             temperature: float = 0.2) -> ChatResult:
        started = time.perf_counter()
        decision = self._egress(self.endpoint)
        if not decision.allowed:
            return self._fail(EGRESS_BLOCKED, decision.message, started, 0)
        body: dict[str, Any] = {"model": self.model, "messages": messages,
                                "max_tokens": max_tokens or self.max_tokens,
                                "temperature": temperature, "stream": False}
        where = safe_url(self.endpoint)
        attempt = 0
        while True:
            attempt += 1
            retry_wait: float | None = None
            try:
                response = self._session.post(self.endpoint, json=body, headers=self._headers(),
                                              timeout=self.timeout_s)
            except requests.Timeout:
                return self._fail(PROVIDER_TIMEOUT,
                                  f"{where} did not answer within {self.timeout_s:g} s", started, attempt)
            except requests.ConnectionError as exc:
                if attempt > self.max_retries:
                    reason = type(exc.__context__ or exc).__name__
                    return self._fail(PROVIDER_UNREACHABLE, f"cannot connect to {where} ({reason}) "
                                      f"after {attempt} attempts", started, attempt)
            except requests.RequestException as exc:
                return self._fail(PROVIDER_UNREACHABLE, f"request to {where} failed: {type(exc).__name__}",
                                  started, attempt)
            except UnicodeError as exc:
                # http.client encodes headers as latin-1; the message would quote the key.
                return self._fail(PROVIDER_UNREACHABLE, f"request to {where} could not be sent: a header "
                                  f"(the API key?) has characters HTTP cannot carry ({type(exc).__name__})",
                                  started, attempt)
            else:
                status = response.status_code
                if status == 200:
                    return self._parse(response, started, attempt)
                retryable = status == 429 or status >= 500
                if not retryable or attempt > self.max_retries:
                    return self._fail(PROVIDER_HTTP_ERROR, f"{where} answered HTTP {status} after "
                                      f"{attempt} attempt(s)", started, attempt)
                if status == 429:
                    retry_wait = parse_retry_after(response.headers.get("Retry-After"),
                                                   self.max_retry_after_s)
                response.close()
            wait = retry_wait if retry_wait is not None else self.backoff_s * (2 ** (attempt - 1))
            log.info("retrying %s in %.2f s (attempt %d)", where, wait, attempt + 1)
            time.sleep(wait)

    def _parse(self, response: requests.Response, started: float, attempts: int) -> ChatResult:
        where = safe_url(self.endpoint)
        try:
            payload = response.json()
            choice = payload["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            return self._fail(PROVIDER_BAD_RESPONSE, f"{where} sent a response that is not a "
                              f"chat completion ({type(exc).__name__})", started, attempts)
        usage = payload.get("usage") or {}
        return ChatResult(
            text=text,
            source=str(payload.get("model") or self.model),
            provider=self.name,
            latency_ms=(time.perf_counter() - started) * 1000,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            attempts=attempts,
        )

    def ping(self) -> tuple[bool, str]:
        decision = self._egress(self.models_url)
        if not decision.allowed:
            return False, decision.message
        try:
            response = self._session.get(self.models_url, headers=self._headers(), timeout=self.timeout_s)
        except (requests.RequestException, UnicodeError) as exc:
            return False, f"no answer from {safe_url(self.models_url)} ({type(exc).__name__})"
        if response.status_code != 200:
            return False, f"{safe_url(self.models_url)} answered HTTP {response.status_code}"
        try:
            ids = [m.get("id") for m in response.json().get("data", [])]
        except (ValueError, AttributeError):
            return False, f"{safe_url(self.models_url)} did not send a model list"
        loaded = self.model in ids
        return loaded, (f"{self.model} loaded" if loaded else
                        f"server answers but {self.model} is not loaded (has: {', '.join(map(str, ids[:5])) or 'none'})")
