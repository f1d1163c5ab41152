"""Client for any OpenAI-compatible chat-completions server (LM Studio, Ollama, vLLM, llama.cpp).

One pooled requests.Session per provider; per-call timeout; bounded retries with exponential
backoff on connection errors, HTTP 429 (honouring Retry-After) and 5xx. Failures come back as a
ChatResult with an error code, never as an exception, and never with the API key in a message.
`chat_stream` parses the server-sent events of `"stream": true` as they arrive.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
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
    ChatStream,
)
from engine.providers.egress import (
    EgressDecision,
    Route,
    describe_status,
    env_verify,
    policy_session,
    route_request,
    safe_url,
    send_get,
)

log = logging.getLogger(__name__)
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_OWN_FIELDS = frozenset({"model", "messages", "stream", "stream_options"})


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


class _UpstreamError(Exception):
    """The upstream sent an {"error": ...} object inside a stream."""


@dataclass
class _Attempt:
    """One POST: the 200 response, or the failure code/message and whether a retry may help."""

    response: requests.Response | None = None
    code: str = PROVIDER_UNREACHABLE
    message: str = ""
    retry: bool = False
    wait: float | None = None  # Retry-After, when the server said


@dataclass
class _StreamSeen:
    """What a stream told us besides its text."""

    model: str | None = None
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    done: bool = False
    first_token_ms: float | None = None

    def take(self, payload: dict[str, Any]) -> str:
        """The text delta of one chunk ("" for none), noting model, usage and finish reason."""
        if payload.get("error"):
            error = payload["error"]
            raise _UpstreamError(error.get("message") if isinstance(error, dict) else str(error))
        if payload.get("model"):
            self.model = str(payload["model"])
        if isinstance(payload.get("usage"), dict):
            self.usage = payload["usage"]
        choices = payload["choices"]
        if not choices:  # the usage chunk has no choices
            return ""
        choice = choices[0]
        self.finish_reason = choice.get("finish_reason") or self.finish_reason
        content = (choice.get("delta") or {}).get("content")
        if content is not None and not isinstance(content, str):
            raise TypeError("delta content is not a string")
        return content or ""


def iter_sse_data(response: requests.Response) -> Iterator[str]:
    """The `data:` fields of a server-sent-event body, each as soon as its line is complete.

    Reads with read1 (whatever has arrived) rather than requests' iter_lines, whose fixed-size
    reads wait for a full block on a stream that is not chunk-encoded and so delay the first token.
    """
    raw = response.raw
    pending = b""
    while True:
        block = raw.read1(65536, decode_content=True)
        if not block:
            break
        pending += block
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                yield line[5:].strip().decode("utf-8")
    if pending.startswith(b"data:"):
        yield pending[5:].strip().decode("utf-8")


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
        self._template: requests.PreparedRequest | None = None

    @staticmethod
    def _new_session() -> requests.Session:
        # Nothing from the environment and no redirects: each call's route comes from the egress policy.
        session = policy_session()
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

    def _route(self, url: str) -> Route:
        """The egress decision for `url` and the proxy (judged too) that may carry it."""
        return route_request(url, self._egress, self._session.proxies)

    def _attempt(self, body: dict[str, Any], *, stream: bool, attempt: int, route: Route) -> _Attempt:
        """One POST; a 200 response, or the failure and whether another attempt may help."""
        where = safe_url(self.endpoint)
        try:
            response = self._post(body, stream=stream, route=route)
        except requests.Timeout:
            return _Attempt(code=PROVIDER_TIMEOUT, message=f"{where} did not answer within {self.timeout_s:g} s")
        except requests.ConnectionError as exc:
            reason = type(exc.__context__ or exc).__name__
            return _Attempt(code=PROVIDER_UNREACHABLE, retry=True,
                            message=f"cannot connect to {where} ({reason}) after {attempt} attempts")
        except requests.RequestException as exc:
            return _Attempt(code=PROVIDER_UNREACHABLE, message=f"request to {where} failed: {type(exc).__name__}")
        except UnicodeError as exc:
            # http.client encodes headers as latin-1; the message would quote the key.
            return _Attempt(code=PROVIDER_UNREACHABLE, message=f"request to {where} could not be sent: a header "
                            f"(the API key?) has characters HTTP cannot carry ({type(exc).__name__})")
        status = response.status_code
        if status == 200:
            return _Attempt(response=response)
        wait = None
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"), self.max_retry_after_s)
        response.close()
        return _Attempt(code=PROVIDER_HTTP_ERROR, retry=status == 429 or status >= 500, wait=wait,
                        message=f"{where} answered HTTP {status} after {attempt} attempt(s)")

    def _post(self, body: dict[str, Any], *, stream: bool, route: Route) -> requests.Response:
        """POST `body` as JSON through the session's transport adapter.

        Session.post would prepare the request again (merging session headers, cookies, auth and
        hooks) and run the redirect and cookie machinery on every call, about 0.3 ms here, for
        nothing a model API uses. So the request is prepared once by the session (its headers,
        auth and proxies still apply) and each call only swaps the body.
        """
        template = self._template
        if template is None:
            template = self._session.prepare_request(
                requests.Request("POST", self.endpoint, headers=self._headers()))
            self._template = template
        prepared = template.copy()
        prepared.prepare_body(_ENCODER.encode(body).encode("utf-8"), None)
        # The adapter never follows a redirect; the proxy is the one the egress policy allowed, if any.
        return self._session.get_adapter(self.endpoint).send(
            prepared, timeout=self.timeout_s, stream=stream, proxies=route.proxies,
            verify=env_verify(self._session.verify), cert=self._session.cert)

    def _pause(self, failed: _Attempt, attempt: int) -> None:
        wait = failed.wait if failed.wait is not None else self.backoff_s * (2 ** (attempt - 1))
        log.info("retrying %s in %.2f s (attempt %d)", safe_url(self.endpoint), wait, attempt + 1)
        time.sleep(wait)

    def _body(self, messages: list[dict[str, str]], max_tokens: int | None, temperature: float,
              stream: bool, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": messages,
                                "max_tokens": max_tokens or self.max_tokens,
                                "temperature": temperature, "stream": stream}
        if params and params.get("max_completion_tokens") is not None:
            # OpenAI's newer name for the limit: the server gets the request's own limit alone, not both.
            del body["max_tokens"]
        # Extra chat-completions fields (seed, temperature, response_format, stop...) go as they are;
        # the ones this client owns (model, messages, stream) cannot be overridden.
        body.update({k: v for k, v in (params or {}).items() if k not in _OWN_FIELDS})
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int | None = None,
             temperature: float = 0.2, params: Mapping[str, Any] | None = None) -> ChatResult:
        started = time.perf_counter()
        route = self._route(self.endpoint)
        if not route.decision.allowed:
            return self._fail(EGRESS_BLOCKED, route.decision.message, started, 0)
        body = self._body(messages, max_tokens, temperature, stream=False, params=params)
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(body, stream=False, attempt=attempt, route=route)
            if outcome.response is not None:
                return self._parse(outcome.response, started, attempt)
            if not outcome.retry or attempt > self.max_retries:
                return self._fail(outcome.code, outcome.message, started, attempt)
            self._pause(outcome, attempt)

    def chat_stream(self, messages: list[dict[str, str]], *, max_tokens: int | None = None,
                    temperature: float = 0.2, params: Mapping[str, Any] | None = None) -> ChatStream:
        """Text deltas as the server sends them. Retries (same policy as `chat`) happen only while
        no text has been yielded; a stream that breaks later ends with the text so far and an error."""
        return ChatStream(self._stream(messages, max_tokens, temperature, params))

    def _stream(self, messages: list[dict[str, str]], max_tokens: int | None,
                temperature: float, params: Mapping[str, Any] | None = None) -> Generator[str, None, ChatResult]:
        started = time.perf_counter()
        route = self._route(self.endpoint)
        if not route.decision.allowed:
            return self._fail(EGRESS_BLOCKED, route.decision.message, started, 0)
        body = self._body(messages, max_tokens, temperature, stream=True, params=params)
        where = safe_url(self.endpoint)
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(body, stream=True, attempt=attempt, route=route)
            if outcome.response is None:
                if not outcome.retry or attempt > self.max_retries:
                    return self._fail(outcome.code, outcome.message, started, attempt)
                self._pause(outcome, attempt)
                continue
            parts: list[str] = []
            seen = _StreamSeen()
            failure: _Attempt | None = None
            try:
                for data in iter_sse_data(outcome.response):
                    if data == "[DONE]":
                        seen.done = True
                        break
                    delta = seen.take(json.loads(data))
                    if delta:
                        if not parts:
                            seen.first_token_ms = (time.perf_counter() - started) * 1000
                        parts.append(delta)
                        yield delta
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                failure = _Attempt(code=PROVIDER_BAD_RESPONSE, message=f"{where} sent a stream event that is "
                                   f"not a chat completion chunk ({type(exc).__name__})")
            except _UpstreamError as exc:
                failure = _Attempt(code=PROVIDER_HTTP_ERROR, message=f"{where} sent an error in the stream: "
                                   f"{str(exc)[:200]}")
            except urllib3.exceptions.ReadTimeoutError:
                failure = _Attempt(code=PROVIDER_TIMEOUT, message=f"{where} sent nothing for "
                                   f"{self.timeout_s:g} s in the middle of a stream")
            except (urllib3.exceptions.HTTPError, requests.RequestException, http.client.HTTPException,
                    OSError) as exc:
                failure = _Attempt(code=PROVIDER_UNREACHABLE, retry=True, message=f"connection to {where} broke "
                                   f"during the stream ({type(exc).__name__}) after {attempt} attempt(s)")
            finally:
                # Also on GeneratorExit (the consumer stopped): the upstream stops being read.
                outcome.response.close()
            if failure is None and not (seen.done or seen.finish_reason):
                failure = _Attempt(code=PROVIDER_UNREACHABLE, retry=True, message=f"{where} closed the stream "
                                   f"before it finished (no [DONE]) after {attempt} attempt(s)")
            if failure is not None and not parts and failure.retry and attempt <= self.max_retries:
                self._pause(failure, attempt)
                continue
            text = "".join(parts)
            if failure is not None:
                result = self._fail(failure.code, failure.message, started, attempt)
                result.text = text
                result.first_token_ms = seen.first_token_ms
                return result
            return self._stream_result(text, seen, messages, started, attempt)

    def _stream_result(self, text: str, seen: _StreamSeen, messages: list[dict[str, str]],
                       started: float, attempts: int) -> ChatResult:
        usage = seen.usage
        estimated = not usage
        if not usage:
            # The server sent no usage chunk (stream_options not supported): about 4 characters a token.
            prompt_chars = sum(len(str(m.get("content") or "")) for m in messages)
            usage = {"prompt_tokens": (prompt_chars + 3) // 4, "completion_tokens": (len(text) + 3) // 4}
        return ChatResult(
            text=text, source=seen.model or self.model, provider=self.name,
            latency_ms=(time.perf_counter() - started) * 1000,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            attempts=attempts, first_token_ms=seen.first_token_ms, usage_estimated=estimated)

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
        route = self._route(self.models_url)
        if not route.decision.allowed:
            return False, route.decision.message
        try:
            response = send_get(self._session, self.models_url, route, headers=self._headers(),
                                timeout=self.timeout_s)
        except (requests.RequestException, UnicodeError) as exc:
            return False, f"no answer from {safe_url(self.models_url)} ({type(exc).__name__})"
        if response.status_code != 200:
            return False, describe_status(self.models_url, response)
        try:
            ids = [m.get("id") for m in response.json().get("data", [])]
        except (ValueError, AttributeError):
            return False, f"{safe_url(self.models_url)} did not send a model list"
        loaded = self.model in ids
        listed = ", ".join(map(str, ids[:5])) or "none"
        return loaded, (f"{self.model} loaded" if loaded else
                        f"server answers but {self.model} is not loaded (has: {listed})")
