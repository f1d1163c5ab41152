"""A real loopback HTTP server speaking the OpenAI chat-completions protocol, for tests and benches.

Usage::

    from tests.support.fake_openai import FakeOpenAIServer, Behaviour, closed_port

    with FakeOpenAIServer(models=["main-7b"], reply="Paris.", delay_s=0.2) as server:
        server.base_url            # "http://127.0.0.1:PORT/v1"  (use as api_endpoint)
        server.chat_url            # base_url + "/chat/completions"
        server.models_url          # base_url + "/models"
        server.script(Behaviour(status=500), Behaviour(status=429, headers={"Retry-After": "1"}),
                      Behaviour(body=b"{not json"), Behaviour(delay_s=5))
        ...                        # each chat call takes the next scripted behaviour; when the
                                   # queue is empty it answers a normal chat.completion
        server.requests            # list[RecordedRequest]: method, path, headers (lower-case keys), json
        server.chat_requests       # only the POST /v1/chat/completions ones
        server.connections         # accepted TCP connections so far (0 proves nothing reached it)
        server.max_in_flight       # most chat calls answered at once (proves concurrency)

Endpoints: GET /v1/models lists `models`; POST /v1/chat/completions answers a chat.completion with
usage (prompt tokens = words in the messages, completion tokens = words in the reply, so tests can
predict them), or, for `"stream": true`, server-sent `chat.completion.chunk` events ending with
`data: [DONE]` (usage in a final chunk when `stream_options.include_usage` is true), one word per
chunk, `chunk_delay_s` apart. `reply` may be a
string or a function of the request's JSON body. Requests are served concurrently (one thread per
connection), so a fixed `delay_s` of 0.2 s with five parallel clients takes about 0.2 s, not 1 s.
A request in proxy form (absolute URL as the request target) is served like a direct one, so a
test can point a requests Session's proxy at this server and see whether a call for a remote host
would have left the machine. `redirect_to="http://host:port"` makes every request (any path, GET or
POST) answer `redirect_status` (302) with `Location: <redirect_to><path>`, to test that clients do not
follow it. `closed_port()` returns a loopback port with nothing listening, for "connection refused" cases.
"""

from __future__ import annotations

import collections
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Reply = str | Callable[[dict[str, Any]], str]


@dataclass
class Behaviour:
    """How the server answers one chat-completions call.

    status: HTTP status; a non-200 status without `body` sends an OpenAI-style error object.
    headers: extra response headers (e.g. {"Retry-After": "1"}).
    body: raw response body (bytes, str, or a dict sent as JSON) replacing the normal completion,
        e.g. b"{not json" for a malformed answer.
    delay_s: seconds to wait before answering (added to the server's fixed delay).
    reply: answer text for this call instead of the server's default.
    disconnect: close the connection without sending any response.
    stream_break_after: for a streamed answer, close the connection after this many content
        chunks, without a finish reason or [DONE] (an upstream dying mid-stream).
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | str | dict | None = None
    delay_s: float = 0.0
    reply: str | None = None
    disconnect: bool = False
    stream_break_after: int | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    received_at: float  # time.monotonic() when the request line was read

    @property
    def json(self) -> Any:
        """The decoded JSON body, or None when the body is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


def closed_port() -> int:
    """A loopback TCP port that nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def count_words(text: str) -> int:
    return len(text.split())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeOpenAIServer

    def verify_request(self, request, client_address) -> bool:
        # Called once per accepted TCP connection, before any byte is read.
        self.fake._count_connection()
        return True

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timeout test) makes the late write fail; that is expected here.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server behind a pooled session
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _record(self, body: bytes) -> RecordedRequest:
        # A client sending through a proxy uses the absolute form ("http://host/v1/..."); keep the path.
        path = urlsplit(self.path).path if "://" in self.path else self.path.split("?", 1)[0]
        record = RecordedRequest(method=self.command, path=path,
                                 headers={k.lower(): v for k, v in self.headers.items()},
                                 body=body, received_at=time.monotonic())
        self.server.fake._add_request(record)
        return record

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers)

    def _redirect(self) -> bool:
        """Answer with the configured redirect (if any); True when it did."""
        fake = self.server.fake
        if fake.redirect_to is None:
            return False
        path = urlsplit(self.path).path if "://" in self.path else self.path
        self._send(fake.redirect_status, b"", {"Location": fake.redirect_to.rstrip("/") + path})
        return True

    def do_GET(self) -> None:
        record = self._record(b"")
        fake = self.server.fake
        if self._redirect():
            return
        if record.path.rstrip("/") == "/v1/models":
            self._send_json(fake.models_status, {
                "object": "list",
                "data": [{"id": m, "object": "model", "owned_by": "fake"} for m in fake.models]})
        else:
            self._send_json(404, {"error": {"message": f"no route {record.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        record = self._record(self._read_body())
        fake = self.server.fake
        if self._redirect():
            return
        if record.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": f"no route {record.path}", "type": "not_found"}})
            return
        behaviour = fake._next_behaviour()
        fake._enter()
        try:
            self._answer_chat(record, behaviour)
        finally:
            fake._leave()

    def _answer_chat(self, record: RecordedRequest, behaviour: Behaviour) -> None:
        fake = self.server.fake
        fake._wait(fake.delay_s + behaviour.delay_s)
        if behaviour.disconnect:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if behaviour.body is not None:
            body = behaviour.body
            if isinstance(body, dict):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            self._send(behaviour.status, body, behaviour.headers)
            return
        if behaviour.status != 200:
            self._send_json(behaviour.status, {"error": {"message": f"scripted HTTP {behaviour.status}",
                                                         "type": "server_error",
                                                         "code": behaviour.status}},
                            behaviour.headers)
            return
        request = record.json if isinstance(record.json, dict) else {}
        text = behaviour.reply if behaviour.reply is not None else fake._reply_for(request)
        model = str(request.get("model") or fake.models[0])
        prompt_tokens = sum(count_words(str(m.get("content", ""))) for m in request.get("messages", [])
                            if isinstance(m, dict))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": count_words(text),
                 "total_tokens": prompt_tokens + count_words(text)}
        if request.get("stream"):
            include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
            self._stream(model, text, usage if include_usage else None, behaviour.headers,
                         behaviour.stream_break_after)
            return
        self._send_json(200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": usage}, behaviour.headers)

    def _stream(self, model: str, text: str, usage: dict | None, headers: dict[str, str],
                break_after: int | None = None) -> None:
        # No Content-Length for a stream: the connection is closed after [DONE].
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        chunk_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())

        def chunk(delta: dict, finish: str | None, **extra: Any) -> None:
            payload = {"id": chunk_id, "object": "chat.completion.chunk", "created": created,
                       "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            payload.update(extra)
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

        fake = self.server.fake
        chunk({"role": "assistant", "content": ""}, None)
        words = text.split(" ")
        for i, word in enumerate(words):
            if break_after is not None and i >= break_after:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if i:
                fake._wait(fake.chunk_delay_s)
            chunk({"content": word if i == 0 else " " + word}, None)
        chunk({}, "stop")
        if usage is not None:
            payload = {"id": chunk_id, "object": "chat.completion.chunk", "created": created,
                       "model": model, "choices": [], "usage": usage}
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class FakeOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 (port 0 = any free port), run in a thread.

    Args:
        models: model ids listed by GET /v1/models (the first is the default `model` in answers).
        reply: answer text, or a function of the request JSON returning it.
        delay_s: fixed delay before every chat-completions answer.
        models_status: HTTP status for GET /v1/models (e.g. 503 for a server that is up but not ready).
        chunk_delay_s: for streamed answers, the wait between one word's chunk and the next (a
            model writing slowly); the first word goes out right after `delay_s`.
        port: 0 picks a free port.
        redirect_to: answer every request with a redirect to this base URL plus the request's path.
        redirect_status: the redirect's status (302; 307/308 keep the method and body).
    """

    def __init__(self, models: list[str] | tuple[str, ...] = ("fake-model",), *,
                 reply: Reply = "This is a reply from the fake OpenAI server.", delay_s: float = 0.0,
                 models_status: int = 200, port: int = 0, chunk_delay_s: float = 0.0,
                 redirect_to: str | None = None, redirect_status: int = 302) -> None:
        self.models = list(models)
        self.redirect_to = redirect_to
        self.redirect_status = redirect_status
        self.chunk_delay_s = chunk_delay_s
        self.reply = reply
        self.delay_s = delay_s
        self.models_status = models_status
        self._lock = threading.Lock()
        self._queue: collections.deque[Behaviour] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._connections = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", port), _Handler, bind_and_activate=True)
        self._httpd.fake = self
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-openai-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers still sleeping in a delay
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # addresses
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    @property
    def models_url(self) -> str:
        return f"{self.base_url}/models"

    # scripting and inspection
    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours; each chat-completions call consumes one, in order."""
        with self._lock:
            self._queue.extend(behaviours)

    @property
    def pending(self) -> int:
        """Scripted behaviours not consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/") == "/v1/chat/completions"]

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    # called from handler threads
    @property
    def max_in_flight(self) -> int:
        """The most chat-completions calls that were being answered at the same time."""
        with self._lock:
            return self._max_in_flight

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _count_connection(self) -> None:
        with self._lock:
            self._connections += 1

    def _add_request(self, record: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(record)

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else Behaviour()

    def _reply_for(self, request: dict[str, Any]) -> str:
        return self.reply(request) if callable(self.reply) else self.reply

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)
